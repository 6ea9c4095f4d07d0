import type Database from 'better-sqlite3';
import type {
  EventStore,
  EventStoreCapabilities,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
} from '../../application/ports/event-store.ts';
import { createSubscriptionHub } from './catch-up.ts';
import type { IgnoredStreams } from './catch-up.ts';
import {
  catchUpBatchOf,
  decodeStoredRow,
  encodeEvents,
  encodeStreamAppends,
  EventStoreClosedError,
} from './embedded-support.ts';
import type { StoredRow } from './embedded-support.ts';
import { connectionSettingsOf, openDatabase } from './sqlite-connection.ts';
import type { SqliteConnectionSettings } from './sqlite-connection.ts';
import { createGroupCommit } from './sqlite-group-commit.ts';
import type { PendingAppend } from './sqlite-group-commit.ts';
import { createWorkerCommit } from './sqlite-worker-commit.ts';

export type { SqliteConnectionSettings } from './sqlite-connection.ts';

const DEFAULT_POLL_INTERVAL_MS = 250;

const EVENT_COLUMNS = 'position, stream_name, revision, event_id, type, data, metadata, recorded_at';

export interface SqliteEventStoreOptions {
  readonly path: string;
  /** How often to look for events appended through other connections to the same file. */
  readonly pollIntervalMs?: number;
  readonly now?: () => Date;
  /**
   * Where appends are committed: on a worker thread that owns the write connection (`worker`: the fsync does not
   * block the event loop, and appends that arrive while one commit runs go into the next), or on the main thread in
   * the turn after they were requested (`main-thread`). Either way an append resolves only once it is durable.
   */
  readonly commitOn?: SqliteCommitSite;
  /**
   * With `worker`: the thread stopped while the store was open. The appends it held have failed (whether they were
   * written is not known: read before retrying), and from then on this store commits on the main thread.
   */
  readonly onCommitWorkerStopped?: (reason: Error) => void;
  /** With `worker`: the thread's script; another one only where a test makes the thread fail. */
  readonly commitWorkerEntry?: URL;
}

export type SqliteCommitSite = 'worker' | 'main-thread';

/**
 * For a store opened in code (tests, tools) without `commitOn`: no thread to start. The server chooses for itself
 * (EVENT_STORE_COMMIT, the worker unless it says otherwise).
 */
export const DEFAULT_COMMIT_SITE: SqliteCommitSite = 'main-thread';

export interface SqliteEventStore extends EventStore {
  /** The settings actually in force on this connection, read back from SQLite (for health checks and tests). */
  readonly connectionSettings: () => SqliteConnectionSettings;
}

/**
 * The embedded event store: one SQLite file in WAL mode with synchronous=FULL, so an append is durable once its
 * promise resolves. Appends requested in the same turn of the event loop are committed together in one
 * transaction (group commit, in sqlite-group-commit.ts), each checked and applied on its own.
 */
export function openSqliteEventStore(options: SqliteEventStoreOptions): SqliteEventStore {
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  if (!Number.isFinite(pollIntervalMs) || pollIntervalMs <= 0) {
    throw new RangeError(`pollIntervalMs must be a positive number, got ${pollIntervalMs}`);
  }
  const capabilities: EventStoreCapabilities = { gapFreePositions: true, name: 'sqlite', checksLastEventId: true };
  const db = openDatabase(options.path);
  const reads = readStatements(db);
  const readHead = (): number => reads.head.get() ?? 0;

  let closed = false;
  let closing: Promise<void> | undefined;
  const ensureOpen = (): void => {
    if (closed) throw new EventStoreClosedError(capabilities.name);
  };
  const readAll = async (readOptions?: ReadAllOptions): Promise<ReadonlyArray<RecordedEvent>> => {
    ensureOpen();
    return readAllRows(reads, readOptions);
  };

  const subscriptions = createSubscriptionHub({
    readBatch: async (readOptions, ignored) => {
      ensureOpen();
      return readBatchRows(reads, readOptions, ignored);
    },
    onSubscribe: () => poller.start(),
    onIdle: () => poller.stop(),
  });
  const poller = createHeadPoller(readHead, pollIntervalMs, () => subscriptions.wakeAll());
  const onWritten = (highestPosition: number): void => {
    // Saves the poller a redundant wake-up; anything another connection wrote before this is read by the
    // subscriptions woken here, anything after it moves the head past this value.
    poller.saw(highestPosition);
    subscriptions.wakeAll();
  };
  const writes = openWritePath(db, options, onWritten);

  return {
    capabilities,
    connectionSettings: () => {
      ensureOpen();
      return connectionSettingsOf(db);
    },
    ...(writes.status !== undefined ? { connectionStatus: writes.status } : {}),
    appendToStream: (streamName, events, appendOptions) =>
      new Promise((resolve, reject) => {
        ensureOpen();
        const encoded = encodeEvents(streamName, events);
        const expected = appendOptions?.expectedRevision ?? 'any';
        writes.enqueue({ kind: 'one', streamName, events: encoded, expected, resolve, reject });
      }),
    appendToStreams: (appends) =>
      new Promise((resolve, reject) => {
        ensureOpen();
        writes.enqueue({ kind: 'many', streams: encodeStreamAppends(appends), resolve, reject });
      }),
    supportsMultiStreamAppend: async () => true,
    readStream: async (streamName, readOptions) => {
      ensureOpen();
      return readStreamRows(reads, streamName, readOptions);
    },
    readAll,
    headPosition: async () => {
      ensureOpen();
      return readHead();
    },
    subscribeToAll: (subscribeOptions, handler, onError) => {
      ensureOpen();
      if (closing !== undefined) throw new EventStoreClosedError(capabilities.name);
      return subscriptions.subscribe(subscribeOptions, handler, onError);
    },
    close: () => {
      closing ??= (async () => {
        await subscriptions.stopAll();
        // Appends already requested (including by handlers that just finished) are committed, not dropped.
        await writes.close();
        poller.stop();
        closed = true;
        db.close();
      })();
      return closing;
    },
  };
}

/** The store's write path, on the main thread or on the commit worker. */
interface WritePath {
  enqueue(append: PendingAppend): void;
  close(): Promise<void>;
  /** With the worker: 'down' once it has stopped (appends then reject), else 'connected'. */
  readonly status?: () => 'connected' | 'down';
}

function openWritePath(
  db: Database.Database,
  options: SqliteEventStoreOptions,
  onWritten: (highestPosition: number) => void,
): WritePath {
  const now = options.now ?? (() => new Date());
  if ((options.commitOn ?? DEFAULT_COMMIT_SITE) === 'worker') return workerWritePath(db, options, now, onWritten);
  const mainThread = createGroupCommit({ db, now, onWritten });
  return { enqueue: mainThread.enqueue, close: async () => mainThread.flushNow() };
}

/**
 * The worker's write path, with the main thread behind it: once the thread has ended while the store is open, this
 * connection commits the appends itself, as `main-thread` does, so that a crashed thread costs the appends it held
 * and not the store. Between the thread's failure and its end (a moment) appends are refused and the store says
 * `down`; the switch waits for the end, when the thread's connection, and any write lock it held, are gone.
 */
function workerWritePath(
  db: Database.Database,
  options: SqliteEventStoreOptions,
  now: () => Date,
  onWritten: (highestPosition: number) => void,
): WritePath {
  let mainThread: ReturnType<typeof createGroupCommit> | undefined;
  const worker = createWorkerCommit({
    path: options.path,
    now,
    onWritten,
    ...(options.commitWorkerEntry !== undefined ? { entry: options.commitWorkerEntry } : {}),
    onExit: (reason) => {
      mainThread = createGroupCommit({ db, now, onWritten });
      options.onCommitWorkerStopped?.(reason);
    },
  });
  return {
    enqueue: (append) => (mainThread ?? worker).enqueue(append),
    close: async () => {
      await worker.close();
      mainThread?.flushNow();
    },
    status: () => (mainThread !== undefined || worker.failure() === undefined ? 'connected' : 'down'),
  };
}

type ReadStatements = ReturnType<typeof readStatements>;

function readStatements(db: Database.Database) {
  return {
    readAll: db.prepare<[number, number], StoredRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ? + 0`,
    ),
    readStream: db.prepare<[string, number], StoredRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_name = ? AND revision >= ? ORDER BY revision`,
    ),
    head: db.prepare<[], number>('SELECT COALESCE(MAX(position), 0) FROM events').pluck(),
    readAllLeavingOut: leavingOutStatements(db),
  };
}

/**
 * readAll for a subscription that ignores some streams: the batch is the same rows (up to the limit), but the ignored
 * ones are not read at all, only counted, with the last position (the subscription goes by it). One pair of
 * statements per set of prefixes, prepared once.
 */
function leavingOutStatements(db: Database.Database) {
  const batchEnd = db.prepare<[number, number], { read: number; last: number | null }>(
    'SELECT COUNT(*) AS read, MAX(position) AS last FROM (SELECT position FROM events WHERE position > ? ORDER BY position LIMIT ? + 0)',
  );
  const prepared = new Map<string, Database.Statement<unknown[], StoredRow>>();
  const rowsFor = (prefixes: ReadonlyArray<string>): Database.Statement<unknown[], StoredRow> => {
    const key = prefixes.join('\u0000');
    let statement = prepared.get(key);
    if (statement === undefined) {
      const ignored = prefixes.map(() => 'substr(stream_name, 1, length(?)) = ?').join(' OR ');
      statement = db.prepare<unknown[], StoredRow>(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE position > ? AND position <= ? AND NOT (${ignored}) ORDER BY position`,
      );
      prepared.set(key, statement);
    }
    return statement;
  };
  return (after: number, limit: number, prefixes: ReadonlyArray<string>): LeftOutBatch => {
    const end = batchEnd.get(after, limit);
    if (end === undefined || end.last === null) return { rows: [], read: 0, lastPosition: 0 };
    const parameters = prefixes.flatMap((p) => [p, p]);
    return { rows: rowsFor(prefixes).all(after, end.last, ...parameters), read: end.read, lastPosition: end.last };
  };
}

/** A batch of rows with the ignored ones left out: how many rows it spans, and the position of the last. */
interface LeftOutBatch {
  readonly rows: ReadonlyArray<StoredRow>;
  readonly read: number;
  readonly lastPosition: number;
}

function readAllStoredRows(reads: ReadStatements, options?: ReadAllOptions): ReadonlyArray<StoredRow> {
  const after = Math.max(0, Math.floor(options?.after ?? 0));
  const limit = options?.limit === undefined ? -1 : Math.floor(options.limit);
  if (options?.limit !== undefined && limit <= 0) return [];
  return reads.readAll.all(after, limit);
}

/** A subscription's batch: as readAll's, the ignored streams' rows left out in SQLite, not read. */
function readBatchRows(reads: ReadStatements, options: ReadAllOptions, ignored: IgnoredStreams | undefined) {
  if (ignored === undefined || ignored.prefixes.length === 0) return catchUpBatchOf(readAllStoredRows(reads, options));
  const after = Math.max(0, Math.floor(options.after ?? 0));
  const limit = options.limit === undefined ? -1 : Math.floor(options.limit);
  if (options.limit !== undefined && limit <= 0) return { events: [], read: 0, lastPosition: 0 };
  const batch = reads.readAllLeavingOut(after, limit, ignored.prefixes);
  return { events: batch.rows.map(decodeStoredRow), read: batch.read, lastPosition: batch.lastPosition };
}

function readAllRows(reads: ReadStatements, options?: ReadAllOptions): ReadonlyArray<RecordedEvent> {
  return readAllStoredRows(reads, options).map(decodeStoredRow);
}

function readStreamRows(
  reads: ReadStatements,
  streamName: string,
  options?: ReadStreamOptions,
): ReadonlyArray<RecordedEvent> {
  const from = Math.max(0, Math.floor(options?.fromRevision ?? 0));
  return reads.readStream.all(streamName, from).map(decodeStoredRow);
}

/**
 * Appends made through this store wake subscribers directly; this catches the ones made by other connections to
 * the same file. It runs only while someone is subscribed.
 */
function createHeadPoller(readHead: () => number, intervalMs: number, onNewHead: () => void) {
  let timer: NodeJS.Timeout | undefined;
  let lastSeenHead = 0;
  const poll = (): void => {
    let head: number;
    try {
      head = readHead();
    } catch {
      // Let the subscriptions run into the failure themselves and report it through onError.
      onNewHead();
      return;
    }
    if (head !== lastSeenHead) {
      lastSeenHead = head;
      onNewHead();
    }
  };
  return {
    start: (): void => {
      if (timer !== undefined) return;
      lastSeenHead = readHead();
      timer = setInterval(poll, intervalMs);
    },
    stop: (): void => {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },
    /** This head was seen by other means (an append through this store). */
    saw: (position: number): void => {
      lastSeenHead = Math.max(lastSeenHead, position);
    },
  };
}
