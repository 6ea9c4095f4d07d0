import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteEventStore } from '../../adapters/event-store/sqlite.ts';
import { startTestSystem, tempDir } from '../support/system.ts';

const run = promisify(execFile);
const tsx = join(process.cwd(), 'node_modules', '.bin', 'tsx');

/** `npm run import -- …` as a child process against this data dir (stderr is a pipe: plain progress lines). */
const importCli = async (dataDir: string, ...args: string[]) => {
  try {
    const { stdout, stderr } = await run(tsx, ['apps/import.ts', ...args], {
      env: { ...process.env, LOG_LEVEL: 'silent', KURRENTDB_CONNECTION_STRING: '', DATA_DIR: dataDir },
      timeout: 300_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
};

/** How many events the data dir's log holds. */
const head = async (dataDir: string): Promise<number> => {
  const store = openSqliteEventStore({ path: join(dataDir, 'events.db') });
  try {
    return await store.headPosition();
  } finally {
    await store.close();
  }
};

const PEOPLE = 10_000;
type Kind = 'email' | 'role' | 'zone' | 'name' | 'dupId' | 'dupEmail' | 'quote';
const KINDS: ReadonlyArray<Kind> = ['email', 'role', 'zone', 'name', 'dupId', 'dupEmail', 'quote'];
/** What each kind of bad line is reported under. */
const PATH: Record<Kind, string> = {
  email: 'email',
  role: 'roles',
  zone: 'timezone',
  name: 'name',
  dupId: 'id',
  dupEmail: 'email',
  quote: '(line)',
};

/**
 * A site's export as spreadsheets write it: a byte order mark, CRLF, column names in their own case and spelling,
 * quoted names with commas, CRM columns; and six bad lines of each kind spread through it. Line 1 is the header, so
 * person i is on physical line i + 2.
 */
const generate = (rename: ReadonlySet<number> = new Set()) => {
  const bad = new Map<number, Kind>();
  KINDS.forEach((kind, k) => {
    for (let j = 0; j < 6; j++) bad.set(500 + k * 1300 + j * 211, kind);
  });
  const lines = ['ID,Full Name,E-Mail,Time Zone,Roles,Active,External ID,Member Level,Home Club'];
  for (let i = 0; i < PEOPLE; i++) {
    const kind = bad.get(i);
    const id = kind === 'dupId' ? `m${i - 1}` : `m${i}`;
    const name = kind === 'name' ? '' : `"${rename.has(i) ? 'Renamed' : 'Member'} ${i}, Jr."`;
    const email =
      kind === 'email' ? `m${i}@@example` : kind === 'dupEmail' ? `M${i - 3}@Example.com` : `m${i}@example.com`;
    const zone = kind === 'zone' ? 'Mars/Olympus_Mons' : i % 2 === 0 ? 'Europe/Madrid' : '';
    const roles = kind === 'role' ? 'customer;wizard' : i % 10 === 0 ? 'instructor|customer' : 'customer';
    const level = ['gold', 'silver', 'bronze'][i % 3] ?? '';
    const line =
      kind === 'quote'
        ? `m${i},"Member ${i},m${i}@example.com,,customer,yes,CRM-${i},${level},Downtown`
        : `${id},${name},${email},${zone},${roles},${i % 97 === 0 ? 'no' : 'yes'},CRM-${i},${level},"Downtown, 5th Ave"`;
    lines.push(line);
  }
  const expected = [...bad.entries()]
    .sort(([a], [b]) => a - b)
    .map(([i, kind]) => ({ line: i + 2, path: PATH[kind], kind }));
  return { text: `\uFEFF${lines.join('\r\n')}\r\n`, expected };
};

/** `line 12 (id "m10"): email: …; roles: …` as {line, paths}. */
const badLinesOf = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('line '))
    .map((l) => {
      const match = /^line (\d+)(?: \(id "([^"]*)"\))?: (.*)$/.exec(l);
      return { line: Number(match?.[1]), id: match?.[2], text: match?.[3] ?? '' };
    });

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const newDir = () => {
  const dir = tempDir('people-import-');
  dirs.push(dir);
  return dir;
};

describe('npm run import', { timeout: 600_000 }, () => {
  it('imports a 10,000-line export, reports every bad line, and changes nothing when run again', async () => {
    const dataDir = newDir();
    const { text, expected } = generate();
    const file = join(dataDir, 'export.csv');
    writeFileSync(file, text);

    const dry = await importCli(dataDir, file, '--dry-run');
    expect(dry.stdout.split('\n')[0]).toBe(
      `dry run (nothing written): ${PEOPLE} lines: ${PEOPLE - expected.length} created, 0 updated, 0 unchanged, ` +
        `${expected.length} bad`,
    );
    expect(dry.code).toBe(1);
    expect(await head(dataDir)).toBe(0);

    const first = await importCli(dataDir, file);
    expect(first.code).toBe(1);
    expect(first.stdout.split('\n')[0]).toBe(
      `${PEOPLE} lines: ${PEOPLE - expected.length} created, 0 updated, 0 unchanged, ${expected.length} bad`,
    );
    // Not a terminal: plain progress lines on stderr.
    expect(first.stderr).toContain(`imported ${PEOPLE}/${PEOPLE} lines`);
    const reported = badLinesOf(first.stdout);
    expect(reported.map((b) => b.line)).toEqual(expected.map((e) => e.line));
    reported.forEach((b, n) => {
      const want = expected[n]!;
      expect(b.text, `line ${b.line} (${want.kind})`).toContain(`${want.path}: `);
      if (want.kind === 'dupId') expect(b.text).toContain(`repeats the id of line ${want.line - 1}`);
      if (want.kind === 'dupEmail') expect(b.text).toContain(`repeats the address of line ${want.line - 3}`);
      if (want.kind === 'quote') expect(b.id).toBeUndefined();
      else expect(b.id).toMatch(/^m\d+$/);
    });
    const written = await head(dataDir);
    expect(written).toBeGreaterThanOrEqual(PEOPLE - expected.length);

    const second = await importCli(dataDir, file);
    expect(second.code).toBe(1);
    expect(second.stdout.split('\n')[0]).toBe(
      `${PEOPLE} lines: 0 created, 0 updated, ${PEOPLE - expected.length} unchanged, ${expected.length} bad`,
    );
    expect(badLinesOf(second.stdout).map((b) => b.line)).toEqual(expected.map((e) => e.line));
    expect(await head(dataDir)).toBe(written);

    // Two people renamed in the site's CRM: a dry run says so and writes nothing; the real run writes only them.
    const renamed = generate(new Set([3, 4242]));
    writeFileSync(file, renamed.text);
    const preview = await importCli(dataDir, file, '--dry-run');
    expect(preview.stdout.split('\n')[0]).toContain(`0 created, 2 updated, ${PEOPLE - expected.length - 2} unchanged`);
    expect(await head(dataDir)).toBe(written);
    const update = await importCli(dataDir, file);
    expect(update.stdout.split('\n')[0]).toContain(`0 created, 2 updated, ${PEOPLE - expected.length - 2} unchanged`);
    expect(await head(dataDir)).toBe(written + 2);

    // What the server shows of the imported people: their CRM record to an admin, not to themselves.
    const sys = await startTestSystem({ dataDir });
    try {
      const admin = await sys.as('site-admin', ['admin']);
      const m3 = await admin.request('GET', '/people/m3');
      expect(m3.body).toMatchObject({
        id: 'm3',
        name: 'Renamed 3, Jr.',
        email: 'm3@example.com',
        roles: ['customer'],
        active: true,
        crm: { externalId: 'CRM-3', fields: { 'Home Club': 'Downtown, 5th Ave', 'Member Level': 'gold' } },
      });
      expect((await admin.request('GET', '/people/m0')).body).toMatchObject({
        roles: ['instructor', 'customer'],
        timezone: 'Europe/Madrid',
        active: false,
      });
      const self = await (await sys.as('m3', ['customer'])).request('GET', '/people/m3');
      expect(self.status).toBe(200);
      expect(self.body.crm).toBeUndefined();
    } finally {
      await sys.close();
    }
  });

  it('reads JSON exports, and refuses files it cannot read at all', async () => {
    const dataDir = newDir();
    const file = join(dataDir, 'people.json');
    const people = [
      { id: 'j1', name: 'Jo One', email: 'jo1@example.com', roles: ['customer'], crm: { fields: { tier: 'a' } } },
      { id: 'j2', name: 'Jo Two', email: 'not-an-address' },
      'just a string',
      { id: 'j3', name: 'Jo Three', email: 'jo3@example.com', colour: 'red' },
      { id: 'j4', name: 'Jo Four', email: 'jo4@example.com', timezone: 'America/Bogota', language: 'es-CO' },
    ];
    writeFileSync(file, JSON.stringify({ people }));
    const first = await importCli(dataDir, file);
    expect(first.code).toBe(1);
    expect(first.stdout).toContain('5 lines: 2 created, 0 updated, 0 unchanged, 3 bad');
    const bad = badLinesOf(first.stdout);
    expect(bad.map((b) => [b.line, b.id])).toEqual([
      [2, 'j2'],
      [3, undefined],
      [4, 'j3'],
    ]);
    expect(bad[0]?.text).toContain('email: ');
    expect(bad[2]?.text).toContain('colour: is not a known field');
    const again = await importCli(dataDir, file);
    expect(again.stdout).toContain('5 lines: 0 created, 0 updated, 2 unchanged, 3 bad');

    const good = join(dataDir, 'good.json');
    writeFileSync(good, JSON.stringify([people[0]]));
    expect((await importCli(dataDir, good)).code).toBe(0);

    const noEmail = join(dataDir, 'no-email.csv');
    writeFileSync(noEmail, 'id,name\nx1,Xavier\n');
    const refused = await importCli(dataDir, noEmail);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('the header has no email column');
    const usage = await importCli(dataDir, '--format', 'xml', good);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('usage: npm run import');
  });
});
