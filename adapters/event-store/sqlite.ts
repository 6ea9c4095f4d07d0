import Database from 'better-sqlite3';
import { isRight, right } from 'fp-ts/lib/Either.js';
import type { Either } from 'fp-ts/lib/Either.js';
import type {
  AppendResult,
  EventStore,
  EventStoreCapabilities,
  ExpectedRevision,
  ReadAllOptions,
  RecordedEvent,
  WrongExpectedRevision,
} from '../../application/ports/event-store.ts';
import {
  decideAppend,
  decodeStoredRow,
  DuplicateEventIdError,
  encodeEvents,
  EventStoreClosedError,
  findRetriedAppend,
  startCatchUpSubscription,
} from './embedded-support.ts';
import type { AppendLookup, CatchUpSubscription, EncodedEvent, StoredRow } from './embedded-support.ts';

const SCHEMA_VERSION = 1;
const BUSY_TIMEOUT_MS = 5_000;
const DEFAULT_POLL_INTERVAL_MS = 250;
const CATCH_UP_BATCH_SIZE = 500;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS events (
    position    INTEGER PRIMARY KEY AUTOINCREMENT,
    stream_name TEXT    NOT NULL,
    revision    INTEGER NOT NULL,
    event_id    TEXT    NOT NULL UNIQUE,
    type        TEXT    NOT NULL,
    data        TEXT    NOT NULL,
    metadata    TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL,
    UNIQUE (stream_name, revision)
  ) STRICT;
`;

const SYNCHRONOUS_LEVELS: ReadonlyArray<SqliteConnectionSettings['synchronous']> = ['OFF', 'NORMAL', 'FULL', 'EXTRA'];

const EVENT_COLUMNS = 'position, stream_name, revision, event_id, type, data, metadata, recorded_at';

interface PendingAppend {
  readonly streamName: string;
  readonly events: ReadonlyArray<EncodedEvent>;
  readonly expected: ExpectedRevision;
  readonly resolve: (result: Either<WrongExpectedRevision, AppendResult>) => void;
  readonly reject: (error: unknown) => void;
}

type AppendOutcome =
  | { readonly kind: 'result'; readonly result: Either<WrongExpectedRevision, AppendResult>; readonly wrote: boolean }
  | { readonly kind: 'error'; readonly error: unknown };

export interface SqliteEventStoreOptions {
  readonly path: string;
  /** How often to look for events appended through other connections to the same file. */
  readonly pollIntervalMs?: number;
  readonly now?: () => Date;
}

export interface SqliteConnectionSettings {
  readonly journalMode: string;
  readonly synchronous: 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA' | 'UNKNOWN';
  readonly busyTimeoutMs: number;
}

export interface SqliteEventStore extends EventStore {
  /** The settings actually in force on this connection, read back from SQLite (for health checks and tests). */
  readonly connectionSettings: () => SqliteConnectionSettings;
}

/**
 * The embedded event store: one SQLite file in WAL mode with synchronous=FULL, so an append is durable once its
 * promise resolves. Appends requested in the same turn of the event loop are committed together in one
 * transaction (group commit), each checked and applied on its own.
 */
export function openSqliteEventStore(options: SqliteEventStoreOptions): SqliteEventStore {
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  if (!Number.isFinite(pollIntervalMs) || pollIntervalMs <= 0) {
    throw new RangeError(`pollIntervalMs must be a positive number, got ${pollIntervalMs}`);
  }
  const now = options.now ?? (() => new Date());
  const capabilities: EventStoreCapabilities = { gapFreePositions: true, name: 'sqlite' };

  const db = new Database(options.path, { timeout: BUSY_TIMEOUT_MS });
  try {
    configure(db, options.path);
  } catch (error) {
    db.close();
    throw error;
  }

  const statements = {
    currentRevision: db
      .prepare<[string], number>('SELECT revision FROM events WHERE stream_name = ? ORDER BY revision DESC LIMIT 1')
      .pluck(),
    locateEvent: db.prepare<[string], { stream_name: string; revision: number }>(
      'SELECT stream_name, revision FROM events WHERE event_id = ?',
    ),
    streamSlice: db.prepare<[string, number, number], { event_id: string; revision: number; position: number }>(
      'SELECT event_id, revision, position FROM events WHERE stream_name = ? AND revision >= ? ORDER BY revision LIMIT ?',
    ),
    insert: db.prepare<[string, number, string, string, string, string, string]>(
      'INSERT INTO events (stream_name, revision, event_id, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    readAll: db.prepare<[number, number], StoredRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?`,
    ),
    readStream: db.prepare<[string, number], StoredRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_name = ? AND revision >= ? ORDER BY revision`,
    ),
    head: db.prepare<[], number>('SELECT COALESCE(MAX(position), 0) FROM events').pluck(),
  };

  const lookup: AppendLookup = {
    currentRevision: (streamName) => statements.currentRevision.get(streamName) ?? -1,
    locateEvent: (eventId) => {
      const row = statements.locateEvent.get(eventId);
      return row === undefined ? undefined : { streamName: row.stream_name, revision: row.revision };
    },
    streamSlice: (streamName, fromRevision, count) =>
      statements.streamSlice
        .all(streamName, fromRevision, count)
        .map((row) => ({ id: row.event_id, revision: row.revision, position: row.position })),
  };

  const insertEvents = (
    streamName: string,
    firstRevision: number,
    events: ReadonlyArray<EncodedEvent>,
    recordedAt: string,
  ): AppendResult => {
    let position = 0;
    for (const [offset, event] of events.entries()) {
      const info = statements.insert.run(
        streamName,
        firstRevision + offset,
        event.id,
        event.type,
        event.data,
        event.metadata,
        recordedAt,
      );
      position = Number(info.lastInsertRowid);
    }
    return { nextExpectedRevision: firstRevision + events.length - 1, position };
  };
  // Called inside the batch transaction, so better-sqlite3 runs it as a savepoint: a multi-event append that fails
  // half-way leaves nothing behind, and the others in the batch are unaffected.
  const insertEventsAtomically = db.transaction(insertEvents);

  const applyAppend = (append: PendingAppend, recordedAt: string): AppendOutcome => {
    try {
      const decision = decideAppend(lookup, append.streamName, append.events, append.expected);
      if (decision.kind === 'decided') return { kind: 'result', result: decision.result, wrote: false };
      try {
        // A single INSERT is atomic by itself; only multi-event appends need the savepoint.
        const written =
          append.events.length === 1
            ? insertEvents(append.streamName, decision.firstRevision, append.events, recordedAt)
            : insertEventsAtomically(append.streamName, decision.firstRevision, append.events, recordedAt);
        return { kind: 'result', result: right(written), wrote: true };
      } catch (error) {
        if (!isDuplicateEventId(error)) throw error;
        const retried = findRetriedAppend(lookup, append.streamName, append.events, append.expected);
        if (retried === undefined) {
          throw new DuplicateEventIdError(
            append.streamName,
            append.events.map((event) => event.id),
          );
        }
        return { kind: 'result', result: right(retried), wrote: false };
      }
    } catch (error) {
      // If SQLite abandoned the whole transaction, nothing in this batch can be committed.
      if (!db.inTransaction) throw error;
      return { kind: 'error', error };
    }
  };

  const writeBatch = db.transaction((batch: ReadonlyArray<PendingAppend>, recordedAt: string) =>
    batch.map((append) => applyAppend(append, recordedAt)),
  );

  const subscriptions = new Set<CatchUpSubscription>();
  let pollTimer: NodeJS.Timeout | undefined;
  let lastSeenHead = 0;

  let queue: PendingAppend[] = [];
  let scheduledFlush: NodeJS.Immediate | undefined;

  const flush = (): void => {
    scheduledFlush = undefined;
    const batch = queue;
    queue = [];
    if (batch.length === 0) return;
    let outcomes: ReadonlyArray<AppendOutcome>;
    try {
      outcomes = writeBatch.immediate(batch, now().toISOString());
    } catch (error) {
      for (const append of batch) append.reject(error);
      return;
    }
    let highestWritten = 0;
    for (const [index, append] of batch.entries()) {
      const outcome = outcomes[index];
      if (outcome === undefined) {
        append.reject(new Error('unreachable: the batch transaction returned fewer outcomes than appends'));
      } else if (outcome.kind === 'error') {
        append.reject(outcome.error);
      } else {
        if (outcome.wrote && isRight(outcome.result)) {
          highestWritten = Math.max(highestWritten, outcome.result.right.position);
        }
        append.resolve(outcome.result);
      }
    }
    if (highestWritten > 0) {
      // Saves the poller a redundant wake-up; anything another connection wrote before this is read by the
      // subscriptions woken here, anything after it moves the head past this value.
      lastSeenHead = Math.max(lastSeenHead, highestWritten);
      wakeSubscriptions();
    }
  };

  const wakeSubscriptions = (): void => {
    for (const subscription of subscriptions) subscription.wake();
  };

  // Appends made through this store wake subscribers directly; this catches the ones made by other connections.
  const poll = (): void => {
    let head: number;
    try {
      head = statements.head.get() ?? 0;
    } catch {
      // Let the subscriptions run into the failure themselves and report it through onError.
      wakeSubscriptions();
      return;
    }
    if (head !== lastSeenHead) {
      lastSeenHead = head;
      wakeSubscriptions();
    }
  };

  let closed = false;
  let closing: Promise<void> | undefined;
  const ensureOpen = (): void => {
    if (closed) throw new EventStoreClosedError(capabilities.name);
  };

  const readAllNow = (readOptions?: ReadAllOptions): ReadonlyArray<RecordedEvent> => {
    const after = Math.max(0, Math.floor(readOptions?.after ?? 0));
    const limit = readOptions?.limit === undefined ? -1 : Math.floor(readOptions.limit);
    if (readOptions?.limit !== undefined && limit <= 0) return [];
    return statements.readAll.all(after, limit).map(decodeStoredRow);
  };

  return {
    capabilities,

    connectionSettings: () => {
      ensureOpen();
      const synchronous = db.pragma('synchronous', { simple: true });
      return {
        journalMode: String(db.pragma('journal_mode', { simple: true })),
        synchronous: SYNCHRONOUS_LEVELS[Number(synchronous)] ?? 'UNKNOWN',
        busyTimeoutMs: Number(db.pragma('busy_timeout', { simple: true })),
      };
    },

    appendToStream: (streamName, events, appendOptions) =>
      new Promise((resolve, reject) => {
        ensureOpen();
        queue.push({
          streamName,
          events: encodeEvents(streamName, events),
          expected: appendOptions?.expectedRevision ?? 'any',
          resolve,
          reject,
        });
        scheduledFlush ??= setImmediate(flush);
      }),

    readStream: async (streamName, readOptions) => {
      ensureOpen();
      const from = Math.max(0, Math.floor(readOptions?.fromRevision ?? 0));
      return statements.readStream.all(streamName, from).map(decodeStoredRow);
    },

    readAll: async (readOptions) => {
      ensureOpen();
      return readAllNow(readOptions);
    },

    headPosition: async () => {
      ensureOpen();
      return statements.head.get() ?? 0;
    },

    subscribeToAll: (subscribeOptions, handler, onError) => {
      ensureOpen();
      if (closing !== undefined) throw new EventStoreClosedError(capabilities.name);
      const subscription = startCatchUpSubscription({
        after: subscribeOptions.after ?? 0,
        batchSize: CATCH_UP_BATCH_SIZE,
        readBatch: async (after, limit) => {
          ensureOpen();
          return readAllNow({ after, limit });
        },
        handler,
        onError,
        onEnd: () => {
          subscriptions.delete(subscription);
          if (subscriptions.size === 0 && pollTimer !== undefined) {
            clearInterval(pollTimer);
            pollTimer = undefined;
          }
        },
      });
      subscriptions.add(subscription);
      if (pollTimer === undefined) {
        lastSeenHead = statements.head.get() ?? 0;
        pollTimer = setInterval(poll, pollIntervalMs);
      }
      return { stop: () => subscription.stop() };
    },

    close: () => {
      closing ??= (async () => {
        await Promise.all([...subscriptions].map((subscription) => subscription.stop()));
        if (scheduledFlush !== undefined) clearImmediate(scheduledFlush);
        // Appends already requested (including by handlers that just finished) are committed, not dropped.
        flush();
        if (pollTimer !== undefined) clearInterval(pollTimer);
        pollTimer = undefined;
        closed = true;
        db.close();
      })();
      return closing;
    },
  };
}

function configure(db: Database.Database, path: string): void {
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  const journalMode = db.pragma('journal_mode = WAL', { simple: true });
  if (journalMode !== 'wal') {
    throw new Error(`Could not switch ${path} to WAL journal mode (got ${String(journalMode)})`);
  }
  db.pragma('synchronous = FULL');
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true });
    if (version === 0) {
      db.exec(SCHEMA);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    } else if (version !== SCHEMA_VERSION) {
      throw new Error(`${path} has event store schema version ${String(version)}; this build knows ${SCHEMA_VERSION}`);
    }
  }).immediate();
}

function isDuplicateEventId(error: unknown): boolean {
  return (
    error instanceof Database.SqliteError &&
    error.code === 'SQLITE_CONSTRAINT_UNIQUE' &&
    error.message.includes('events.event_id')
  );
}
