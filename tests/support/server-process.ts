import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { TEST_SECRET } from './system.ts';

export interface ServerProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly url: string;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

/** `npm start`'s entry point as a real process with a configured secret (no dev seeding), listening on a free port. */
export const startServerProcess = (
  dataDir: string,
  children: ChildProcessWithoutNullStreams[],
  env: Record<string, string> = {},
): Promise<ServerProcess> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'apps/server.ts'], {
      env: {
        ...process.env,
        PORT: '0',
        DATA_DIR: dataDir,
        AUTH_JWT_SECRET: TEST_SECRET,
        LOG_LEVEL: 'info',
        RATE_LIMIT_PER_SECOND: '100000',
        RATE_LIMIT_BURST: '100000',
        ...env,
      },
    });
    children.push(child);
    let out = '';
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 90_000);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const listening = out.split('\n').find((line) => line.includes('"msg":"listening"'));
      if (listening !== undefined) {
        clearTimeout(timer);
        resolve({ child, url: (JSON.parse(listening) as { url: string }).url, output: () => out, exited });
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}`));
    });
  });
