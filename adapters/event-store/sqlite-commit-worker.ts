import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from './sqlite-connection.ts';
import { outcomeToWire, toWire } from './sqlite-commit-protocol.ts';
import type { AppendGroupMessage, FromWorker, GroupAnswer, ToWorker } from './sqlite-commit-protocol.ts';
import { createBatchWriter } from './sqlite-group-commit.ts';

/**
 * The SQLite store's commit worker (started through sqlite-commit-worker.mjs): it owns the write connection. Every
 * group of appends that arrived while the previous transaction was committing goes into the next one (group commit
 * across the main thread's turns: while one fsync runs, the next batch gathers); each append is decided and written
 * on its own, and the answers go back only once the commit is durable (synchronous=FULL).
 */

const port = parentPort;
if (port === null) throw new Error('sqlite-commit-worker runs as a worker thread');
const { path } = workerData as { readonly path: string };

const db = openDatabase(path);
const writeAppend = createBatchWriter(db);
const writeGroups = db.transaction((groups: ReadonlyArray<AppendGroupMessage>): ReadonlyArray<GroupAnswer> =>
  groups.map((group) => ({
    id: group.id,
    outcomes: group.appends.map((append) => outcomeToWire(writeAppend(append, group.recordedAt))),
  })),
);

let queue: AppendGroupMessage[] = [];
let scheduled = false;

const flush = (): void => {
  scheduled = false;
  const groups = queue;
  queue = [];
  if (groups.length === 0) return;
  let answers: ReadonlyArray<GroupAnswer>;
  try {
    answers = writeGroups.immediate(groups);
  } catch (error) {
    const failure = toWire(error);
    answers = groups.map((group) => ({ id: group.id, failure }));
  }
  const message: FromWorker = { type: 'committed', groups: answers };
  port.postMessage(message);
};

const onMessage = (message: ToWorker): void => {
  if (message.type === 'append') {
    queue.push(message);
    if (!scheduled) {
      scheduled = true;
      // After the messages that arrived during the last commit have all been taken in.
      setImmediate(flush);
    }
    return;
  }
  // Appends requested before the close are committed, not dropped; then the thread ends (its answers are delivered
  // before the main thread sees it exit).
  flush();
  db.close();
  port.off('message', onMessage);
};

port.on('message', onMessage);
