import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { NO_REDIS_HINT, REDIS_SERVER } from '../support/redis-server.ts';
import { tempDir } from '../support/system.ts';

// The README's two-node example, exactly as written, run by bash with `set -euo pipefail` in its own process group
// (so the two `npm start` and everything under them go when it is killed): two processes on one DATA_DIR, a Redis of
// their own, and the same slot booked through both at the same instant.

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const START = '<!-- readme-cluster:start -->';
const END = '<!-- readme-cluster:end -->';

const blocks = (markdown: string): string[] => {
  const found: string[] = [];
  let from = markdown.indexOf(START);
  while (from !== -1) {
    const to = markdown.indexOf(END, from);
    const fenced = /```bash\n([\s\S]*?)```/.exec(markdown.slice(from + START.length, to));
    if (to === -1 || fenced?.[1] === undefined) throw new Error('a readme-cluster section without its end or block');
    found.push(fenced[1]);
    from = markdown.indexOf(START, to);
  }
  return found;
};

const freePort = (): Promise<number> =>
  new Promise((done, fail) => {
    const server = net.createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => done(port));
    });
  });

describe.skipIf(REDIS_SERVER === undefined)(
  `the README's two nodes on one machine${REDIS_SERVER ? '' : ` (skipped: ${NO_REDIS_HINT})`}`,
  () => {
    it('books one of two colliding requests sent to the two nodes at once and prints call links for both', async () => {
      const script = blocks(readFileSync(join(repoRoot, 'README.md'), 'utf8'));
      expect(script).toHaveLength(2);
      const cluster = tempDir('readme-cluster-');
      const env = {
        ...process.env,
        CLUSTER: cluster,
        A_PORT: String(await freePort()),
        B_PORT: String(await freePort()),
        REDIS_PORT: String(await freePort()),
        AUTH_JWT_SECRET: '',
        AUTH_JWKS_URL: '',
        PUBLIC_BASE_URL: '',
        ALLOWED_ORIGINS: '',
        LOG_LEVEL: 'warn',
      };
      const bash = spawn('bash', ['-c', `set -euo pipefail\n${script.join('\n')}`], {
        cwd: repoRoot,
        env,
        detached: true,
      });
      let output = '';
      bash.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      bash.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      try {
        const code = await new Promise<number | null>((done) => bash.on('exit', done));
        const logs = ['node-a.log', 'node-b.log']
          .map((f) => join(cluster, f))
          .filter((f) => existsSync(f))
          .map((f) => readFileSync(f, 'utf8'))
          .join('\n');
        expect(code, `${output}\n${logs}`).toBe(0);
        const answers = [...output.matchAll(/^node ([AB]): (\d{3})$/gm)].map((m) => m[2]).sort();
        expect(answers, output).toEqual(['201', '409']);
        const refused = [
          JSON.parse(readFileSync(join(cluster, 'a.json'), 'utf8')),
          JSON.parse(readFileSync(join(cluster, 'b.json'), 'utf8')),
        ].find((body: { status?: number }) => body.status === 409) as { conflicts: Array<{ slot: { start: string } }> };
        expect(refused.conflicts[0]?.slot.start).toMatch(/^\d{4}-\d{2}-\d{2}T/);
        expect(output).toMatch(new RegExp(`http://localhost:${env.A_PORT}/call\\?meeting=[\\w-]+#token=ey`));
        expect(output).toMatch(new RegExp(`http://localhost:${env.B_PORT}/call\\?meeting=[\\w-]+#token=ey`));
      } finally {
        try {
          process.kill(-(bash.pid as number), 'SIGKILL');
        } catch {
          // already gone with its group
        }
        const pidFile = join(cluster, 'redis.pid');
        if (existsSync(pidFile)) {
          try {
            process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGKILL');
          } catch {
            // already gone
          }
        }
      }
    }, 180_000);
  },
);
