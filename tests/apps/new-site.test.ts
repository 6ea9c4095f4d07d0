import { execFile } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { aMeeting } from '../support/builders.ts';
import { eventually } from '../support/fake-resend.ts';
import { freePort } from '../support/readme.ts';
import { startServerProcess } from '../support/server-process.ts';
import { tempDir } from '../support/system.ts';

/**
 * The "done": on a fresh site (a real server with its own secret, the embedded store, mail to the outbox) the
 * first admin is recorded from the shell, signs in by email, records a trainer, a member and an auditor with their
 * roles and invites them; the trainer signs in from the invitation and books the member; the auditor exports the
 * history as CSV and can change nothing.
 */
const run = promisify(execFile);
const children: ChildProcessWithoutNullStreams[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The sign-in code of the newest email to `to` in the outbox that was not read before. */
const codeFor = (outbox: string, to: string, seen: Set<string>): Promise<string> =>
  eventually(
    () => {
      if (!existsSync(outbox)) return undefined;
      for (const file of readdirSync(outbox)
        .filter((f) => f.endsWith('.json'))
        .sort()) {
        if (seen.has(file)) continue;
        const envelope = readFileSync(join(outbox, file), 'utf8');
        if (!envelope.includes(to)) continue;
        const text = readFileSync(join(outbox, file.replace(/\.json$/, '.txt')), 'utf8');
        const code = /\/sign-in#code=(\S+)/.exec(text)?.[1];
        if (code === undefined) continue;
        seen.add(file);
        return decodeURIComponent(code);
      }
      return undefined;
    },
    `a sign-in email to ${to}`,
    30_000,
  );

describe('a new site', () => {
  it('gets its first admin from the shell, who signs in by email, invites trainers, members and an auditor', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    // The first admin, from the shell, into the fresh site's store.
    const cli = await run(
      process.execPath,
      ['--import', 'tsx', 'apps/people.ts', '--id', 'ada', '--name', 'Ada Admin', '--email', 'ada@example.com'].concat([
        '--roles',
        'admin',
        '--timezone',
        'Europe/Oslo',
      ]),
      { env: { ...process.env, DATA_DIR: dataDir } },
    );
    expect(JSON.parse(cli.stdout)).toMatchObject({ id: 'ada', roles: ['admin'], active: true });
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    const server = await startServerProcess(dataDir, children, {
      env: { PORT: String(port), PUBLIC_BASE_URL: publicUrl },
      timeoutMs: 60_000,
    });
    // A new site runs the embedded store with its commit on the worker thread, and says so as it starts.
    const listening = server
      .output()
      .split('\n')
      .find((line) => line.includes('"msg":"listening"'));
    expect(JSON.parse(listening ?? '{}')).toMatchObject({ store: 'sqlite', commit: 'worker' });
    // What a browser on the site sends: the cookie endpoints take only the site's own origin.
    const origin = publicUrl;
    const outbox = join(dataDir, 'outbox');
    const seen = new Set<string>();

    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin, ...headers },
        body: JSON.stringify(body),
      });
    const signIn = async (email: string): Promise<string> => {
      const code = await codeFor(outbox, email, seen);
      const session = await post('/auth/session', { code });
      expect(session.status).toBe(200);
      expect(session.headers.get('set-cookie')).toMatch(/session_refresh=.*HttpOnly/i);
      return ((await session.json()) as { accessToken: string }).accessToken;
    };
    const api = (token: string) => ({
      send: (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
        fetch(`${server.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        }),
    });

    expect((await post('/auth/email-link', { email: 'Ada@Example.com' })).status).toBe(202);
    const adaToken = await signIn('ada@example.com');
    const ada = api(adaToken);
    const me = await ada.send('GET', '/me');
    expect(await me.json()).toMatchObject({ id: 'ada', roles: ['admin'], inDirectory: true });

    const people = [
      { id: 'ivan', name: 'Ivan Trainer', email: 'ivan@example.com', roles: ['instructor'] },
      { id: 'mia', name: 'Mia Member', email: 'mia@example.com', roles: ['customer'], timezone: 'America/Chicago' },
      { id: 'otto', name: 'Otto Auditor', email: 'otto@example.com', roles: ['auditor'] },
    ];
    for (const { id, ...body } of people) {
      const put = await ada.send('PUT', `/people/${id}`, body);
      expect(put.status).toBe(200);
      expect((await ada.send('POST', `/people/${id}/invite`)).status).toBe(202);
    }
    // Nobody changes their own roles, admins included.
    expect((await ada.send('PUT', '/people/ada', { name: 'Ada', email: 'ada@example.com', roles: [] })).status).toBe(
      403,
    );

    const ivan = api(await signIn('ivan@example.com'));
    const booked = await ivan.send('POST', '/meetings', aMeeting({ customerId: 'mia', instructorId: 'ivan' }));
    expect(booked.status).toBe(201);
    const meetingId = ((await booked.json()) as { id: string }).id;
    const mia = api(await signIn('mia@example.com'));
    expect((await mia.send('GET', `/meetings/${meetingId}`)).status).toBe(200);

    const otto = api(await signIn('otto@example.com'));
    expect((await otto.send('GET', `/meetings/${meetingId}`)).status).toBe(200);
    expect((await otto.send('POST', `/meetings/${meetingId}/cancel`, {})).status).toBe(403);
    expect((await otto.send('PUT', '/people/mia', people[1])).status).toBe(403);
    const from = new Date(Date.now() - 86_400_000).toISOString();
    const to = new Date(Date.now() + 86_400_000).toISOString();
    const csv = await otto.send('GET', `/audit?from=${from}&to=${to}`, undefined, { accept: 'text/csv' });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const rows = (await csv.text()).split('\r\n');
    expect(rows[0]).toBe('at,actor,actor_roles,type,stream,summary,data');
    const typesBy = (actor: string) => rows.filter((r) => r.split(',')[1] === actor).map((r) => r.split(',')[3]);
    expect(typesBy('ada')).toEqual(expect.arrayContaining(['PersonRegistered', 'PersonRolesChanged']));
    expect(rows.some((r) => r.includes('SignedIn') && r.includes('ivan'))).toBe(true);
    expect(rows.some((r) => r.includes('MeetingScheduled') && r.split(',')[1] === 'ivan')).toBe(true);
    // The export shows no credential hash: the audit log redacts them.
    for (const line of rows) expect(line).not.toMatch(/"(refreshHash|codeHash)":"[0-9a-f]{64}"/);
  }, 180_000);
});
