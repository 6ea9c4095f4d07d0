import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { startFakeKurrentDb } from '../support/fake-kurrentdb.ts';
import { eventually } from '../support/fake-resend.ts';
import { startTestSystem, tempDir } from '../support/system.ts';
import type { TestSystem } from '../support/system.ts';

const run = promisify(execFile);
const tsx = join(process.cwd(), 'node_modules', '.bin', 'tsx');

/** `npm run person -- …` as a child process against this data dir: its exit code, stdout and stderr. */
const person = async (dataDir: string, ...args: string[]) => personWith({ DATA_DIR: dataDir }, ...args);

const personWith = async (env: Record<string, string>, ...args: string[]) => {
  try {
    const { stdout, stderr } = await run(tsx, ['apps/people.ts', ...args], {
      env: { ...process.env, LOG_LEVEL: 'silent', KURRENTDB_CONNECTION_STRING: '', ...env },
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
};

const dirs: string[] = [];
let sys: TestSystem | undefined;
afterAll(async () => {
  await sys?.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

// Each run starts a tsx process: on a loaded machine several of them take a while.
describe('npm run person', { timeout: 180_000 }, () => {
  it('puts the first admin of a fresh site into the directory, and a server started on it lets them in', async () => {
    const dataDir = tempDir('people-cli-');
    dirs.push(dataDir);
    const first = await person(
      dataDir,
      ...['--id', 'site-admin', '--name', 'Sam Site', '--email', 'sam@example.com', '--roles', 'admin,auditor'],
      ...['--timezone', 'Europe/Oslo', '--language', 'nb'],
    );
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({
      id: 'site-admin',
      name: 'Sam Site',
      roles: ['admin', 'auditor'],
      active: true,
      timezone: 'Europe/Oslo',
      language: 'nb',
    });

    sys = await startTestSystem({ dataDir });
    const sam = await sys.as('site-admin', ['admin']);
    expect((await sam.request('GET', '/me')).body).toMatchObject({ inDirectory: true, name: 'Sam Site' });
    const invited = await sam.request('PUT', '/people/tina', {
      name: 'Tina',
      email: 'tina@example.com',
      roles: ['instructor'],
    });
    expect(invited.status).toBe(200);

    // While the server runs: the address rule sees what the server wrote, and the server sees what the CLI writes.
    const taken = await person(dataDir, '--id', 'tina-2', '--name', 'Tina Two', '--email', 'TINA@example.com');
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('`email`');
    const off = await person(
      dataDir,
      '--id',
      'site-admin',
      '--name',
      'Sam Site',
      '--email',
      'sam@example.com',
      '--inactive',
    );
    expect(off.code).toBe(0);
    expect(JSON.parse(off.stdout)).toMatchObject({ roles: ['admin', 'auditor'], active: false, language: 'nb' });
    await eventually(
      async () => (await sam.request('GET', '/me')).status === 401,
      'the server to see the deactivation',
    );
    const history = await (await sys.as('ops-bot', ['admin'])).request('GET', '/people/site-admin');
    expect(history.body).toMatchObject({ active: false, roles: ['admin', 'auditor'] });
  });

  it('exits non-zero with the field errors on bad input, writing nothing', async () => {
    const dataDir = tempDir('people-cli-');
    dirs.push(dataDir);
    const roles = await person(
      dataDir,
      '--id',
      'p1',
      '--name',
      'P',
      '--email',
      'p1@example.com',
      '--roles',
      'admin,boss',
    );
    expect(roles.code).toBe(1);
    expect(roles.stderr).toMatch(/^roles/m);
    const details = await person(
      dataDir,
      '--id',
      'p1',
      '--name',
      ' ',
      '--email',
      'not-an-address',
      '--timezone',
      'Mars/Base',
    );
    expect(details.code).toBe(1);
    expect(details.stderr).toMatch(/^name: /m);
    expect(details.stderr).toMatch(/^email: /m);
    expect(details.stderr).toMatch(/^timezone: /m);
    const missing = await person(dataDir, '--name', 'P');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^id: /m);
    expect(missing.stderr).toMatch(/^email: /m);
    const unknown = await person(dataDir, '--id', 'p1', '--admin');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('usage: npm run person');
    // Nothing was recorded: a valid call now registers p1 afresh.
    const ok = await person(dataDir, '--id', 'p1', '--name', 'P', '--email', 'p1@example.com');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ id: 'p1', roles: [], active: true });
  });

  it('records into KurrentDB when KURRENTDB_CONNECTION_STRING is set (fake server)', async () => {
    const fake = await startFakeKurrentDb();
    const dataDir = tempDir('people-cli-');
    dirs.push(dataDir);
    try {
      const env = { DATA_DIR: dataDir, KURRENTDB_CONNECTION_STRING: fake.connectionString };
      const first = await personWith(
        env,
        '--id',
        'k-admin',
        '--name',
        'Kay',
        '--email',
        'kay@example.com',
        '--roles',
        'admin',
      );
      expect(first.stderr).toBe('');
      expect(first.code).toBe(0);
      const again = await personWith(env, '--id', 'k-other', '--name', 'Kim', '--email', 'KAY@example.com');
      expect(again.code).toBe(1);
      expect(again.stderr).toContain('`email`');
      const stored = fake.events.filter((e) => e.streamName === 'person-k-admin').map((e) => e.type);
      expect(stored).toEqual(['PersonRegistered', 'PersonRolesChanged']);
      expect(fake.events.some((e) => e.streamName === 'person-k-other')).toBe(false);
    } finally {
      await fake.close();
    }
  });
});
