import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Debian's `redis-server` (`.ci/ensure-redis` installs it), or undefined: test suites that need it say skipped,
 * and the bench leaves the figure out. `REDIS_SERVER` names another binary.
 */
export const REDIS_SERVER: string | undefined = (() => {
  const named = process.env.REDIS_SERVER ?? 'redis-server';
  const found = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', named], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return found.status === 0 && path !== '' ? path : undefined;
})();

export const NO_REDIS_HINT = 'redis-server is missing (bash .ci/ensure-redis, or apt-get install redis-server)';

export interface RedisServer {
  /** `redis://127.0.0.1:<port>`, with `:<password>@` when it has one. */
  readonly url: string;
  readonly port: number;
  /** Ends it with SIGKILL, as a crash would (its data goes with it: it keeps none). */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });

const exited = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
  });

const launch = (binary: string, port: number, dir: string, password: string | undefined): Promise<ChildProcess> =>
  new Promise((resolve, reject) => {
    // No persistence, loopback only, nothing left behind but the temp dir (removed on stop).
    const child = spawn(
      binary,
      [
        ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
        ...(password !== undefined ? ['--requirepass', password] : []),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${out}`)), 30_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}:\n${out}`));
    });
  });

/**
 * A `redis-server` of the suite's own on a free loopback port, in a temp dir; `stop` removes both. With a password,
 * clients must give it (`url` carries it).
 */
export const startRedisServer = async (options: { readonly password?: string } = {}): Promise<RedisServer> => {
  if (REDIS_SERVER === undefined) throw new Error(NO_REDIS_HINT);
  const binary = REDIS_SERVER;
  const dir = mkdtempSync(join(tmpdir(), 'redis-test-'));
  const port = await freePort();
  const { password } = options;
  let child: ChildProcess | undefined = await launch(binary, port, dir, password);
  const kill = async (signal: NodeJS.Signals) => {
    const running = child;
    child = undefined;
    if (running === undefined) return;
    running.kill(signal);
    await exited(running);
  };
  return {
    url: `redis://${password !== undefined ? `:${encodeURIComponent(password)}@` : ''}127.0.0.1:${port}`,
    port,
    kill: () => kill('SIGKILL'),
    restart: async () => {
      await kill('SIGKILL');
      child = await launch(binary, port, dir, password);
    },
    stop: async () => {
      await kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
};
