import Database from 'better-sqlite3';
import { isRight, right } from 'fp-ts/lib/Either.js';
import type { Either } from 'fp-ts/lib/Either.js';
import type {
  AppendResult,
  ExpectedRevision,
  MultiStreamAppendResult,
  WrongExpectedRevision,
} from '../../application/ports/event-store.ts';
import { decideAppend, decideMultiAppend, DuplicateEventIdError, findRetriedAppend } from './embedded-support.ts';
import type { AppendLookup, EncodedEvent, EncodedStreamAppend } from './embedded-support.ts';

/**
 * The SQLite store's write path. Appends requested in the same turn of the event loop are committed together in one
 * transaction (group commit), each checked and applied on its own.
 */

type AppendAnswer = Either<WrongExpectedRevision, AppendResult | MultiStreamAppendResult>;

/** An append to one stream, or an atomic one to several (`streams`): plain data, so it can go to the commit worker. */
export type AppendRequest =
  | {
      readonly kind: 'one';
      readonly streamName: string;
      readonly events: ReadonlyArray<EncodedEvent>;
      readonly expected: ExpectedRevision;
    }
  | { readonly kind: 'many'; readonly streams: ReadonlyArray<EncodedStreamAppend> };

/** An append requested and not answered yet. */
export type PendingAppend =
  | (Extract<AppendRequest, { kind: 'one' }> & {
      readonly resolve: (result: Either<WrongExpectedRevision, AppendResult>) => void;
      readonly reject: (error: unknown) => void;
    })
  | (Extract<AppendRequest, { kind: 'many' }> & {
      readonly resolve: (result: Either<WrongExpectedRevision, MultiStreamAppendResult>) => void;
      readonly reject: (error: unknown) => void;
    });

export type AppendOutcome =
  | { readonly kind: 'result'; readonly result: AppendAnswer; readonly wrote: boolean }
  | { readonly kind: 'error'; readonly error: unknown };

export interface GroupCommit {
  /** Queues an append for the next flush, which runs on the next turn of the event loop. */
  enqueue(append: PendingAppend): void;
  /** Commits whatever is queued now (at close: appends already requested are committed, not dropped). */
  flushNow(): void;
}

export function createGroupCommit(params: {
  readonly db: Database.Database;
  readonly now: () => Date;
  /** After a commit that wrote events, with the position of the last one written. */
  readonly onWritten: (highestPosition: number) => void;
}): GroupCommit {
  const writer = createBatchWriter(params.db);
  const writeBatch = params.db.transaction((batch: ReadonlyArray<PendingAppend>, recordedAt: string) =>
    batch.map((append) => writer(append, recordedAt)),
  );
  let queue: PendingAppend[] = [];
  let scheduled: NodeJS.Immediate | undefined;

  const flush = (): void => {
    scheduled = undefined;
    const batch = queue;
    queue = [];
    if (batch.length === 0) return;
    let outcomes: ReadonlyArray<AppendOutcome>;
    try {
      outcomes = writeBatch.immediate(batch, params.now().toISOString());
    } catch (error) {
      for (const append of batch) append.reject(error);
      return;
    }
    const highestWritten = settle(batch, outcomes);
    if (highestWritten > 0) params.onWritten(highestWritten);
  };

  return {
    enqueue: (append) => {
      queue.push(append);
      scheduled ??= setImmediate(flush);
    },
    flushNow: () => {
      if (scheduled !== undefined) clearImmediate(scheduled);
      flush();
    },
  };
}

/** Answers every append of a committed batch; returns the highest position written, 0 when none was. */
export function settle(batch: ReadonlyArray<PendingAppend>, outcomes: ReadonlyArray<AppendOutcome>): number {
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
      // The outcome was made for this append, so its answer has this append's kind.
      (append.resolve as (result: AppendAnswer) => void)(outcome.result);
    }
  }
  return highestWritten;
}

/**
 * Decides and writes one append, on its own (a refusal or a failure leaves the others alone). Called inside the
 * transaction of the whole batch, which the caller opens and commits.
 */
export function createBatchWriter(db: Database.Database): (append: AppendRequest, recordedAt: string) => AppendOutcome {
  const statements = {
    currentRevision: db
      .prepare<[string], number>('SELECT revision FROM events WHERE stream_name = ? ORDER BY revision DESC LIMIT 1')
      .pluck(),
    locateEvent: db.prepare<[string], { stream_name: string; revision: number }>(
      'SELECT stream_name, revision FROM events WHERE event_id = ?',
    ),
    streamSlice: db.prepare<[string, number, number], { event_id: string; revision: number; position: number }>(
      'SELECT event_id, revision, position FROM events WHERE stream_name = ? AND revision >= ? ORDER BY revision LIMIT ? + 0',
    ),
    insert: db.prepare<[string, number, string, string, string, string, string]>(
      'INSERT INTO events (stream_name, revision, event_id, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
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
  const insertStreamsAtomically = db.transaction(
    (parts: ReadonlyArray<WritePart>, recordedAt: string): MultiStreamAppendResult => {
      const written = parts.map((part) => ({
        streamName: part.streamName,
        ...insertEvents(part.streamName, part.firstRevision, part.events, recordedAt),
      }));
      return {
        position: Math.max(...written.map((w) => w.position)),
        streams: written.map(({ streamName, nextExpectedRevision }) => ({ streamName, nextExpectedRevision })),
      };
    },
  );
  const writer = { lookup, insertEvents, insertEventsAtomically, insertStreamsAtomically };

  return (append, recordedAt) => applyAppend(db, writer, append, recordedAt);
}

interface WritePart {
  readonly streamName: string;
  readonly firstRevision: number;
  readonly events: ReadonlyArray<EncodedEvent>;
}

interface Writer {
  readonly lookup: AppendLookup;
  readonly insertEvents: InsertEvents;
  readonly insertEventsAtomically: InsertEvents;
  readonly insertStreamsAtomically: (parts: ReadonlyArray<WritePart>, recordedAt: string) => MultiStreamAppendResult;
}

type InsertEvents = (
  streamName: string,
  firstRevision: number,
  events: ReadonlyArray<EncodedEvent>,
  recordedAt: string,
) => AppendResult;

function applyAppend(db: Database.Database, writer: Writer, append: AppendRequest, recordedAt: string): AppendOutcome {
  if (append.kind === 'many') return applyMultiAppend(db, writer, append.streams, recordedAt);
  try {
    const decision = decideAppend(writer.lookup, append.streamName, append.events, append.expected);
    if (decision.kind === 'decided') return { kind: 'result', result: decision.result, wrote: false };
    try {
      // A single INSERT is atomic by itself; only multi-event appends need the savepoint.
      const insert = append.events.length === 1 ? writer.insertEvents : writer.insertEventsAtomically;
      const written = insert(append.streamName, decision.firstRevision, append.events, recordedAt);
      return { kind: 'result', result: right(written), wrote: true };
    } catch (error) {
      if (!isDuplicateEventId(error)) throw error;
      const retried = findRetriedAppend(writer.lookup, append.streamName, append.events, append.expected);
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
}

/** In its own savepoint: every stream is written, or (a refusal, a duplicate id) none is. */
function applyMultiAppend(
  db: Database.Database,
  writer: Writer,
  streams: ReadonlyArray<EncodedStreamAppend>,
  recordedAt: string,
): AppendOutcome {
  try {
    const decision = decideMultiAppend(writer.lookup, streams);
    if (decision.kind === 'decided') return { kind: 'result', result: decision.result, wrote: false };
    try {
      return { kind: 'result', result: right(writer.insertStreamsAtomically(decision.parts, recordedAt)), wrote: true };
    } catch (error) {
      if (!isDuplicateEventId(error)) throw error;
      throw new DuplicateEventIdError(
        streams.map((s) => s.streamName).join(', '),
        streams.flatMap((s) => s.events.map((event) => event.id)),
      );
    }
  } catch (error) {
    if (!db.inTransaction) throw error;
    return { kind: 'error', error };
  }
}

function isDuplicateEventId(error: unknown): boolean {
  return (
    error instanceof Database.SqliteError &&
    error.code === 'SQLITE_CONSTRAINT_UNIQUE' &&
    error.message.includes('events.event_id')
  );
}
