import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { TEST_SECRET } from './system.ts';

export interface ServerProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly url: string;
  readonly output: () => string;
  /** The exit code (null when a signal ended it). */
  readonly exited: Promise<number | null>;
  /** How it ended: the exit code, or the signal that killed it. */
  readonly ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface ServerProcessOptions {
  /** Over the defaults (a configured secret, info logs, no rate limit in practice); `undefined` removes a variable. */
  readonly env?: Record<string, string | undefined>;
  /** Besides the "listening" line, what the output must show before the server counts as started. */
  readonly readyWhen?: (output: string) => boolean;
  readonly timeoutMs?: number;
}

/**
 * `npm start`'s entry point as a real process on a free port, by default with a configured secret (no dev seeding).
 * The child is pushed onto `children` so that the caller's `afterEach` can kill what a failed test left running.
 */
export const startServerProcess = (
  dataDir: string,
  children: ChildProcessWithoutNullStreams[],
  options: ServerProcessOptions = {},
): Promise<ServerProcess> =>
  new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PORT: '0',
      DATA_DIR: dataDir,
      AUTH_JWT_SECRET: TEST_SECRET,
      LOG_LEVEL: 'info',
      RATE_LIMIT_PER_SECOND: '100000',
      RATE_LIMIT_BURST: '100000',
      ...options.env,
    };
    for (const [name, value] of Object.entries(env)) if (value === undefined) delete env[name];
    const child = spawn(process.execPath, ['--import', 'tsx', 'apps/server.ts'], { env });
    children.push(child);
    let out = '';
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
      child.on('exit', (code, signal) => done({ code, signal })),
    );
    const exited = ended.then(({ code }) => code);
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), options.timeoutMs ?? 90_000);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const listening = out.split('\n').find((line) => line.includes('"msg":"listening"'));
      if (listening !== undefined && (options.readyWhen?.(out) ?? true)) {
        clearTimeout(timer);
        resolve({ child, url: (JSON.parse(listening) as { url: string }).url, output: () => out, exited, ended });
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before it started:\n${out}`));
    });
  });
