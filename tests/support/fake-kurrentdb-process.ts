/**
 * The fake KurrentDB (fake-kurrentdb.ts) in a process of its own, for tests whose servers run as child processes
 * (server-process.ts) and that want the fake apart from the test's own event loop, or want to stop it with a signal:
 * `startFakeKurrentDbProcess(options)` runs this file, which starts the fake with the options passed as JSON and
 * prints one line `{"connectionString": …, "port": …}`. Run directly, e.g. for a two-node example by hand:
 *   node --import tsx tests/support/fake-kurrentdb-process.ts '{"multiStreamAppend":false,"port":2113}'
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startFakeKurrentDb } from './fake-kurrentdb.ts';
import type { FakeKurrentDbOptions } from './fake-kurrentdb.ts';

/** The options a process can be given: those that JSON can carry. */
export type FakeKurrentDbProcessOptions = Pick<
  FakeKurrentDbOptions,
  'port' | 'maxAppendSize' | 'maxAppendEventSize' | 'serverVersion' | 'multiStreamAppend' | 'advertiseMultiStreamAppend'
>;

export interface FakeKurrentDbProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly connectionString: string;
  readonly port: number;
  /** Ends the process and waits for it to exit. */
  stop(): Promise<void>;
}

const SELF = fileURLToPath(import.meta.url);

export function startFakeKurrentDbProcess(
  options: FakeKurrentDbProcessOptions = {},
  children: ChildProcessWithoutNullStreams[] = [],
): Promise<FakeKurrentDbProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SELF, JSON.stringify(options)]);
    children.push(child);
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('{"connectionString"'));
      if (line === undefined) return;
      const { connectionString, port } = JSON.parse(line) as { connectionString: string; port: number };
      resolve({
        child,
        connectionString,
        port,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    });
    child.stderr.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.once('exit', (code) =>
      reject(new Error(`the fake KurrentDB exited with ${code} before it started:\n${out}`)),
    );
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const options = JSON.parse(process.argv[2] ?? '{}') as FakeKurrentDbProcessOptions;
  const fake = await startFakeKurrentDb(options);
  process.stdout.write(`${JSON.stringify({ connectionString: fake.connectionString, port: fake.port })}\n`);
  const stop = () => {
    void fake.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
