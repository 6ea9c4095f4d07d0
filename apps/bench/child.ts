import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { usageHandlers } from './usage.ts';

/** Messages between the bench and a server it runs in a child process. */
export type ToChild = { readonly id: number; readonly cmd: string; readonly args?: unknown };
export type FromChild =
  | { readonly kind: 'ready'; readonly info: unknown }
  | { readonly kind: 'reply'; readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly kind: 'reply'; readonly id: number; readonly ok: false; readonly error: string }
  | { readonly kind: 'fatal'; readonly error: string };

export interface ChildServer<Info> {
  readonly info: Info;
  readonly process: ChildProcess;
  call<R>(cmd: string, args?: unknown, timeoutMs?: number): Promise<R>;
  /** Asks the child to shut down and waits for it to exit (killing it if it does not within the timeout). */
  stop(timeoutMs?: number): Promise<void>;
}

export const benchFile = (name: string): string => fileURLToPath(new URL(name, import.meta.url));

/**
 * Forks `script` (a .ts file) under node with tsx, so its CPU and memory are its own. The child must send
 * `{kind: 'ready'}` once listening and answer `{id, cmd}` messages; `cmd: 'shutdown'` ends it.
 */
export const startChild = async <Info>(
  script: string,
  options: { args?: string[]; env?: NodeJS.ProcessEnv; nodeFlags?: string[]; startTimeoutMs?: number } = {},
): Promise<ChildServer<Info>> => {
  const child = fork(script, options.args ?? [], {
    execArgv: [...(options.nodeFlags ?? []), '--import', 'tsx'],
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      for (const p of pending.values()) p.reject(new Error(`${script} exited (code ${code}, signal ${signal})`));
      pending.clear();
      resolve();
    });
  });
  const info = await new Promise<Info>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${script} did not start within ${options.startTimeoutMs ?? 60_000} ms`)),
      options.startTimeoutMs ?? 60_000,
    );
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited during start-up (code ${code})`));
    });
    child.on('message', (raw: FromChild) => {
      if (raw.kind === 'ready') {
        clearTimeout(timer);
        resolve(raw.info as Info);
      } else if (raw.kind === 'fatal') {
        clearTimeout(timer);
        reject(new Error(`${script}: ${raw.error}`));
      } else {
        const p = pending.get(raw.id);
        if (p === undefined) return;
        pending.delete(raw.id);
        if (raw.ok) p.resolve(raw.result);
        else p.reject(new Error(`${script} ${raw.id}: ${raw.error}`));
      }
    });
  }).catch((error: unknown) => {
    if (!exited) child.kill('SIGKILL');
    throw error;
  });
  return {
    info,
    process: child,
    call: <R>(cmd: string, args?: unknown, timeoutMs = 300_000) =>
      new Promise<R>((resolve, reject) => {
        if (exited) return reject(new Error(`${script} is not running`));
        const id = nextId++;
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${script}: '${cmd}' got no answer within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (value) => {
            clearTimeout(timer);
            resolve(value as R);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        });
        const message: ToChild = { id, cmd, args };
        child.send(message);
      }),
    stop: async (timeoutMs = 20_000) => {
      if (exited) return;
      child.send({ id: 0, cmd: 'shutdown' } satisfies ToChild);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exit;
      clearTimeout(timer);
    },
  };
};

/**
 * The child side: announces readiness and dispatches commands; 'shutdown' runs `close` then exits. Besides its own
 * `handlers` every child answers 'usage', 'profileStart' and 'profileStop' (see usage.ts), so the bench can measure
 * its CPU and profile it over exactly the window it loads it.
 */
export const serveChild = (
  info: unknown,
  own: Record<string, (args: unknown) => unknown>,
  closeServer: () => Promise<void>,
): void => {
  const handlers = { ...usageHandlers(), ...own };
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => (closing ??= closeServer());
  const send = (message: FromChild): void => {
    if (process.send !== undefined) process.send(message);
  };
  process.on('message', (message: ToChild) => {
    if (message.cmd === 'shutdown') {
      close()
        .catch((error: unknown) => process.stderr.write(`bench child: close failed: ${String(error)}\n`))
        .finally(() => {
          process.disconnect?.();
          process.exit(0);
        });
      return;
    }
    const handler = handlers[message.cmd];
    if (handler === undefined) {
      send({ kind: 'reply', id: message.id, ok: false, error: `unknown command ${message.cmd}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(message.args))
      .then(
        (result) => send({ kind: 'reply', id: message.id, ok: true, result }),
        (error: unknown) =>
          send({
            kind: 'reply',
            id: message.id,
            ok: false,
            error: error instanceof Error ? (error.stack ?? error.message) : String(error),
          }),
      );
  });
  // Without the parent there is nobody to report to; don't linger.
  process.on('disconnect', () => {
    close().finally(() => process.exit(0));
  });
  send({ kind: 'ready', info });
};

/** A hello-world anchor's child side: once `server` listens on a free loopback port, it is served as a bench child. */
export const serveListening = async (server: Server): Promise<void> => {
  await new Promise<void>((resolve, reject) => {
    if (server.listening) resolve();
    server.once('listening', resolve);
    server.once('error', reject);
  }).catch(failChild);
  const port = (server.address() as AddressInfo).port;
  serveChild(
    { url: `http://127.0.0.1:${port}`, port },
    {},
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
};

/** Reports start-up failures to the parent instead of dying silently. */
export const failChild = (error: unknown): never => {
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  if (process.send !== undefined) process.send({ kind: 'fatal', error: text } satisfies FromChild);
  process.stderr.write(`${text}\n`);
  process.exit(1);
};

/** Heap + external after forcing garbage collection (needs --expose-gc; otherwise measured as is). */
export const settledMemory = async (): Promise<{
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  rss: number;
  gc: boolean;
}> => {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) {
    for (let i = 0; i < 4; i++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, rss: m.rss, gc: gc !== undefined };
};
