import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import http from 'node:http';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { demoPeople } from '../../apps/seed.ts';
import { aMeeting } from '../support/builders.ts';
import { startServerProcess } from '../support/server-process.ts';
import { tempDir } from '../support/system.ts';

const run = promisify(execFile);

/** exp - iat of a JWT, read without verifying it. */
const lifetimeOf = (token: string): number => {
  const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
    iat: number;
    exp: number;
  };
  return claims.exp - claims.iat;
};
const children: ChildProcessWithoutNullStreams[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const tokensIn = (output: string) => [...output.matchAll(/export TOKEN=(\S+)/g)].map((m) => m[1] as string);

/** `npm start`'s entry point as a real process, in dev mode (no secret, its own rate limit) on a fresh DATA_DIR. */
const startServer = async (dataDir: string) => {
  const server = await startServerProcess(dataDir, children, {
    env: { AUTH_JWT_SECRET: '', RATE_LIMIT_PER_SECOND: undefined, RATE_LIMIT_BURST: undefined },
    readyWhen: (output) => tokensIn(output).length === demoPeople.length,
    timeoutMs: 60_000,
  });
  return { ...server, tokens: tokensIn(server.output()) };
};

describe('the server process', () => {
  it('prints demo tokens in dev mode, and on SIGTERM finishes the request in flight before it stops', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const server = await startServer(dataDir);
    const [adminToken] = server.tokens;
    // Within the server's cap on token lifetime (24 hours by default), so they are accepted as printed.
    for (const token of server.tokens) expect(lifetimeOf(token)).toBe(86_400);
    expect(server.output()).toContain('Demo tokens (valid 24 hours)');
    const seeded = await fetch(
      `${server.url}/calendar?userId=customer-1&from=${new Date(Date.now() - 86_400_000).toISOString()}&to=${new Date(Date.now() + 7 * 86_400_000).toISOString()}`,
      {
        headers: { authorization: `Bearer ${adminToken}` },
      },
    );
    expect(seeded.status).toBe(200);
    expect(((await seeded.json()) as { items: unknown[] }).items.length).toBeGreaterThan(0);
    // The demo people have their tokens' roles in the directory too.
    const listed = await fetch(`${server.url}/people?limit=10`, { headers: { authorization: `Bearer ${adminToken}` } });
    const people = ((await listed.json()) as { items: Array<{ id: string; roles: string[] }> }).items;
    expect(Object.fromEntries(people.map((p) => [p.id, p.roles]))).toEqual({
      'admin-1': ['admin'],
      'auditor-1': ['auditor'],
      'customer-2': ['customer'],
      'customer-1': ['customer'],
      'instructor-1': ['instructor'],
    });

    // A request whose body is still arriving when SIGTERM comes must still be answered.
    const body = JSON.stringify(
      aMeeting({
        title: 'In flight',
        customerId: 'customer-2',
        instructorId: 'instructor-1',
        start: '2031-05-01T10:00:00Z',
        end: '2031-05-01T11:00:00Z',
      }),
    );
    const answered = new Promise<number>((resolve, reject) => {
      const req = http.request(
        `${server.url}/meetings`,
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${adminToken}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, 10));
      req.on('socket', (socket) =>
        socket.on('connect', () => {
          setTimeout(() => {
            server.child.kill('SIGTERM');
            setTimeout(() => req.end(body.slice(10)), 300);
          }, 200);
        }),
      );
    });
    expect(await answered).toBe(201);
    expect(await server.exited).toBe(0);
    expect(server.output()).toContain('"msg":"stopped"');

    // The meeting written during shutdown is there after a restart.
    const again = await startServer(dataDir);
    const calendar = await fetch(
      `${again.url}/calendar?userId=customer-2&from=2031-05-01T00:00:00Z&to=2031-05-02T00:00:00Z`,
      {
        headers: { authorization: `Bearer ${again.tokens[0]}` },
      },
    );
    expect(((await calendar.json()) as { items: Array<{ title: string }> }).items.map((i) => i.title)).toEqual([
      'In flight',
    ]);
    again.child.kill('SIGINT');
    expect(await again.exited).toBe(0);
  });

  it('npm run token mints a token the server accepts', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const server = await startServer(dataDir);
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'apps/token.ts', '--sub', 'customer-1', '--roles', 'customer'],
      {
        env: { ...process.env, DATA_DIR: dataDir, AUTH_JWT_SECRET: '' },
      },
    );
    const token = stdout.trim();
    expect(lifetimeOf(token)).toBe(86_400);
    const me = await fetch(`${server.url}/people/customer-1`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { name: string }).name).toBe('Cora Customer');
    const bad = await run(process.execPath, ['--import', 'tsx', 'apps/token.ts', '--roles', 'wizard'], {
      env: { ...process.env, DATA_DIR: dataDir },
    }).catch((e: { code: number; stderr: string }) => e);
    expect(bad).toMatchObject({ code: 2 });
    // Longer than AUTH_MAX_TOKEN_TTL_SECONDS: refused when minted, not only when used.
    const tooLong = await run(
      process.execPath,
      ['--import', 'tsx', 'apps/token.ts', '--sub', 'customer-1', '--ttl', '90000'],
      { env: { ...process.env, DATA_DIR: dataDir, AUTH_JWT_SECRET: '' } },
    ).catch((e: { code: number; stderr: string }) => e);
    expect(tooLong).toMatchObject({ code: 2, stderr: expect.stringContaining('AUTH_MAX_TOKEN_TTL_SECONDS=86400') });
    const capped = await run(process.execPath, ['--import', 'tsx', 'apps/token.ts', '--sub', 'customer-1'], {
      env: { ...process.env, DATA_DIR: dataDir, AUTH_JWT_SECRET: '', AUTH_MAX_TOKEN_TTL_SECONDS: '600' },
    });
    expect(lifetimeOf(capped.stdout.trim())).toBe(600);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });
});
