import { Worker } from 'node:worker_threads';
import { fromWire, outcomeFromWire } from './sqlite-commit-protocol.ts';
import type { AppendGroupMessage, FromWorker, GroupAnswer, ToWorker } from './sqlite-commit-protocol.ts';
import { settle } from './sqlite-group-commit.ts';
import type { AppendRequest, PendingAppend } from './sqlite-group-commit.ts';

/**
 * The SQLite store's write path with the commit off the event loop: a worker thread (sqlite-commit-worker.ts) owns
 * the write connection. Appends requested in one turn of the event loop go to it as one message, stamped with one
 * time; it commits everything that arrived while its previous commit ran in one transaction and answers once the
 * commit is durable. Reads stay on the main thread's connection (WAL gives them their snapshot).
 */

export class CommitWorkerStoppedError extends Error {
  constructor(reason: string, options?: { readonly cause?: unknown }) {
    super(`The SQLite event store's commit worker stopped (${reason}); nothing more can be appended`, options);
    this.name = 'CommitWorkerStoppedError';
  }
}

export interface WorkerCommit {
  /** Queues an append; the appends of this turn go to the worker together on the next one. */
  enqueue(append: PendingAppend): void;
  /** Undefined while the worker runs; the reason once it has stopped (every append then rejects with it). */
  failure(): CommitWorkerStoppedError | undefined;
  /** Sends what is queued, lets the worker commit everything it was sent, and waits for the thread to end. */
  close(): Promise<void>;
}

const WORKER_ENTRY = new URL('./sqlite-commit-worker.cjs', import.meta.url);

export function createWorkerCommit(params: {
  readonly path: string;
  readonly now: () => Date;
  /** After a commit that wrote events, with the position of the last one written. */
  readonly onWritten: (highestPosition: number) => void;
  /** The thread's script; another one only where a test makes the thread fail. */
  readonly entry?: URL;
  /**
   * The thread ended while the store was open (it crashed, or could not open the file): every append it held has
   * been failed by then, and its connection is gone with it, so the file's write lock is free.
   */
  readonly onExit?: (reason: CommitWorkerStoppedError) => void;
}): WorkerCommit {
  // No inherited flags: the entry registers its own loader, whatever the main thread was started with.
  const worker = new Worker(params.entry ?? WORKER_ENTRY, { workerData: { path: params.path }, execArgv: [] });
  let queue: PendingAppend[] = [];
  let scheduled: NodeJS.Immediate | undefined;
  const inFlight = new Map<number, ReadonlyArray<PendingAppend>>();
  let nextId = 1;
  let stopped: CommitWorkerStoppedError | undefined;
  let closeRequested = false;

  // The thread keeps the process alive only while appends wait for it (or it is closing).
  const holdProcess = (): void => {
    if (closeRequested || queue.length > 0 || inFlight.size > 0) worker.ref();
    else worker.unref();
  };
  holdProcess();

  const fail = (error: CommitWorkerStoppedError): void => {
    stopped ??= error;
    if (scheduled !== undefined) clearImmediate(scheduled);
    scheduled = undefined;
    const waiting = [...[...inFlight.values()].flat(), ...queue];
    inFlight.clear();
    queue = [];
    for (const append of waiting) append.reject(stopped);
  };

  const send = (): void => {
    scheduled = undefined;
    const batch = queue;
    queue = [];
    if (batch.length === 0 || stopped !== undefined) return;
    const id = nextId++;
    inFlight.set(id, batch);
    const message: AppendGroupMessage = {
      type: 'append',
      id,
      recordedAt: params.now().toISOString(),
      appends: batch.map(requestOf),
    };
    worker.postMessage(message satisfies ToWorker);
  };

  const answer = (group: GroupAnswer): number => {
    const batch = inFlight.get(group.id);
    if (batch === undefined) return 0;
    inFlight.delete(group.id);
    if ('failure' in group) {
      const error = fromWire(group.failure);
      for (const append of batch) append.reject(error);
      return 0;
    }
    return settle(batch, group.outcomes.map(outcomeFromWire));
  };

  worker.on('message', (message: FromWorker) => {
    let highestWritten = 0;
    for (const group of message.groups) highestWritten = Math.max(highestWritten, answer(group));
    holdProcess();
    if (highestWritten > 0) params.onWritten(highestWritten);
  });
  worker.on('error', (error) => fail(new CommitWorkerStoppedError(error.message, { cause: error })));
  const exited = new Promise<void>((resolve) => {
    worker.on('exit', (code) => {
      fail(
        new CommitWorkerStoppedError(closeRequested ? 'the store was closed' : `the thread exited with code ${code}`),
      );
      if (!closeRequested && stopped !== undefined) params.onExit?.(stopped);
      resolve();
    });
  });

  return {
    enqueue: (append) => {
      if (stopped !== undefined) {
        append.reject(stopped);
        return;
      }
      queue.push(append);
      if (queue.length === 1 && inFlight.size === 0) worker.ref();
      scheduled ??= setImmediate(send);
    },
    failure: () => (closeRequested ? undefined : stopped),
    close: async () => {
      if (!closeRequested) {
        if (scheduled !== undefined) clearImmediate(scheduled);
        send();
        closeRequested = true;
        holdProcess();
        if (stopped === undefined) worker.postMessage({ type: 'close' } satisfies ToWorker);
      }
      await exited;
    },
  };
}

/** The plain data of an append, without its callbacks. */
const requestOf = (append: PendingAppend): AppendRequest =>
  append.kind === 'one'
    ? { kind: 'one', streamName: append.streamName, events: append.events, expected: append.expected }
    : { kind: 'many', streams: append.streams };
