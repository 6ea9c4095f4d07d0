import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../support/fake-resend.ts';
import { startServerProcess } from '../support/server-process.ts';
import { tempDir } from '../support/system.ts';

const children: ChildProcessWithoutNullStreams[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('sign-in on the real server in dev mode', () => {
  it('prints where to sign in, emails a link to the dev outbox and exchanges it; the demo people sign in from here', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const server = await startServerProcess(dataDir, children, {
      env: { AUTH_JWT_SECRET: '' },
      readyWhen: (output) => output.includes('/sign-in'),
      timeoutMs: 60_000,
    });
    const publicUrl = /1on1 Meetings API on (\S+)/.exec(server.output())?.[1] ?? '';
    expect(server.output()).toContain(`${publicUrl}/sign-in`);
    const origin = new URL(publicUrl).origin;
    const post = (path: string, body: unknown) =>
      fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin },
        body: JSON.stringify(body),
      });
    expect((await post('/auth/email-link', { email: 'ADA.admin@example.com' })).status).toBe(202);
    const outbox = join(dataDir, 'outbox');
    const code = await eventually(
      () => {
        const file = readdirSync(outbox).find((f) => f.startsWith('signin-') && f.endsWith('.txt'));
        const match = file === undefined ? null : /#code=(\S+)/.exec(readFileSync(join(outbox, file), 'utf8'));
        return match?.[1] === undefined ? undefined : decodeURIComponent(match[1]);
      },
      'the link in the outbox',
      30_000,
    );
    const session = await post('/auth/session', { code });
    expect(session.status).toBe(200);
    const body = (await session.json()) as { accessToken: string; person: { id: string } };
    expect(body.person.id).toBe('admin-1');
    const people = await fetch(`${server.url}/people/customer-1`, {
      headers: { authorization: `Bearer ${body.accessToken}` },
    });
    expect(people.status).toBe(200);
    const dev = await post('/auth/dev-session', { personId: 'instructor-1' });
    expect(dev.status).toBe(200);
    // The log never has the code.
    expect(server.output()).not.toContain(code.split('.')[1]);
  });
});
