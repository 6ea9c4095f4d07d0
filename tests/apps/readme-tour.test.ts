import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { markedBashBlocks } from '../support/readme.ts';
import { tempDir } from '../support/system.ts';
import { demoPeople } from '../../apps/seed.ts';

// The README's quick tour, exactly as written, against `npm start`'s entry point as a real process in dev mode (no
// secret, demo data seeded) on a free port and a fresh DATA_DIR, run by bash with `set -euo pipefail`: a step that is
// refused (`curl -f`) or a variable that is never set stops it.

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The fenced bash blocks between the tour markers, in README order. */
const tourBlocks = (markdown: string): string[] => markedBashBlocks(markdown, 'readme-tour');

let child: ChildProcessWithoutNullStreams | undefined;
let dataDir: string;
let printed: string;
let output = '';

beforeAll(async () => {
  dataDir = tempDir();
  child = spawn(process.execPath, ['--import', 'tsx', 'apps/server.ts'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      PORT: '0',
      DATA_DIR: dataDir,
      AUTH_JWT_SECRET: '',
      AUTH_JWKS_URL: '',
      PUBLIC_BASE_URL: '',
      ALLOWED_ORIGINS: '',
      LOG_LEVEL: 'warn',
    },
  });
  const started = child;
  printed = await new Promise<string>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start:\n${output}`)), 90_000);
    started.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      // The banner names the address to use; the tokens follow it.
      const address = /1on1 Meetings API on (\S+)/.exec(output)?.[1];
      if (address !== undefined && (output.match(/export TOKEN=/g) ?? []).length === demoPeople.length) {
        clearTimeout(timer);
        resolvePromise(address);
      }
    });
    started.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    started.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited with ${code}:\n${output}`));
    });
  });
}, 120_000);

afterAll(async () => {
  if (child !== undefined && child.exitCode === null) {
    const exited = new Promise((done) => child?.once('exit', done));
    child.kill('SIGTERM');
    await exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the tour with bash; every curl reports its status line on stderr (the tour's own output is unchanged). */
const runTour = (script: string): Promise<Run> =>
  new Promise((resolvePromise, reject) => {
    const reporting = `curl() { command curl "$@" -w '%{stderr}STATUS %{http_code} %{method} %{url_effective}\\n'; }\n`;
    const bash = spawn('bash', ['-c', `set -euo pipefail\n${reporting}${script}`], {
      cwd: repoRoot,
      // The same DATA_DIR as the server, so that `npm run token` signs with its dev secret; API is the printed address.
      env: { ...process.env, DATA_DIR: dataDir, API: printed, AUTH_JWT_SECRET: '' },
    });
    let stdout = '';
    let stderr = '';
    bash.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    bash.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    bash.once('error', reject);
    bash.once('exit', (code) => resolvePromise({ code, stdout, stderr }));
  });

/** `METHOD /path STATUS` of each request, in order, with ids and query strings replaced by placeholders. */
const steps = (stderr: string, base: string): string[] =>
  [...stderr.matchAll(/^STATUS (\d{3}) (\S+) (\S+)$/gm)].map(([, status, method, url]) => {
    const path = (url ?? '')
      .replace(base, '')
      .replace(/\?.*$/, '?…')
      .replace(/\/(meetings|series)\/[^/?]+/, '/$1/{id}');
    return `${method} ${path} ${status}`;
  });

const EXPECTED = [
  'PUT /people/instructor-2 200',
  'PUT /people/customer-3 200',
  'POST /meetings 201',
  'PATCH /meetings/{id} 200',
  'POST /series 201',
  'GET /calendar?… 200',
  'GET /calendar?… 200',
  'POST /meetings/{id}/join 200',
  'POST /meetings/{id}/join 200',
  'GET /meetings/{id}/history 200',
  'POST /series/{id}/cancel 200',
  'POST /meetings/{id}/cancel 200',
  'POST /calendar/feed 201',
  'GET /calendar.ics?… 200',
  'DELETE /calendar/feed 204',
];

describe("the README's quick tour", () => {
  const blocks = tourBlocks(readFileSync(resolve(repoRoot, 'README.md'), 'utf8'));
  const script = blocks.join('\n');

  it('is marked in the README, and every request in it fails loudly (curl -f)', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    const requests = script.split('\n').filter((line) => /\bcurl\s/.test(line));
    expect(requests.length).toBe(EXPECTED.length);
    for (const line of requests) expect(line, line).toMatch(/\bcurl -f/);
  });

  it('runs top to bottom against the printed address of a fresh dev-mode server, every step succeeding, and again', async () => {
    // The printed address is the public one: links and calls are made for it.
    expect(printed).toMatch(/^http:\/\/localhost:\d+$/);
    for (const round of [1, 2]) {
      const run = await runTour(script);
      const where = `round ${round}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}\n--- server\n${output}`;
      expect(run.code, where).toBe(0);
      expect(steps(run.stderr, printed), where).toEqual(EXPECTED);
      // What the steps printed: the joins gave tickets, the cancellations cancelled, the feed was a calendar.
      expect(run.stdout.match(/"mode":"native"/g)?.length, where).toBe(2);
      expect(run.stdout, where).toContain('"title":"Strength II"');
      expect(run.stdout, where).toContain('"state":"cancelled"');
      expect(run.stdout, where).toContain('BEGIN:VCALENDAR');
      expect(run.stdout, where).toMatch(new RegExp(`^${printed}/call\\?meeting=[^#\\s]+#token=\\S+$`, 'm'));
    }
  }, 240_000);

  // npm start printed http://127.0.0.1:PORT, and a call page opened there was refused (403) by the socket, which took
  // only http://localhost:PORT. The status of the upgrade tells whether the Origin passed: without a ticket, an allowed
  // origin gets 401, a refused one 403.
  it('accepts every loopback spelling of the port as the origin of the signaling socket, and no other', async () => {
    const { port } = new URL(printed);
    const upgradeStatus = (origin: string) =>
      new Promise<number>((resolvePromise, reject) => {
        const ws = new WebSocket(`${printed.replace(/^http/, 'ws')}/signaling`, { origin });
        ws.once('unexpected-response', (_req, res) => {
          resolvePromise(res.statusCode ?? 0);
          ws.terminate();
        });
        ws.once('open', () => reject(new Error('upgraded without a ticket')));
        ws.once('error', () => {});
      });
    for (const origin of [printed, `http://127.0.0.1:${port}`, `http://[::1]:${port}`]) {
      expect(await upgradeStatus(origin), origin).toBe(401);
      const check = await fetch(`${printed}/signaling/origin-check?origin=${encodeURIComponent(origin)}`);
      expect(await check.json()).toEqual({ origin, allowed: true });
    }
    for (const origin of ['http://localhost:1', 'http://evil.example'])
      expect(await upgradeStatus(origin), origin).toBe(403);
  }, 60_000);
});
