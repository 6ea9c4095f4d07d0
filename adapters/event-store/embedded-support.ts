import { left, right } from 'fp-ts/lib/Either.js';
import { expectedRevisionMatches, serialiseEventToAppend } from './append-checks.ts';
import type { CatchUpBatch, IgnoredStreams } from './catch-up.ts';
import { decodeOwnMetadata, encodeMetadata, multiAppendMetadata } from './metadata.ts';
import type { Either } from 'fp-ts/lib/Either.js';
import type {
  AppendResult,
  EventMetadata,
  EventToAppend,
  ExpectedRevision,
  MultiStreamAppendResult,
  RecordedEvent,
  StreamAppend,
  WrongExpectedRevision,
} from '../../application/ports/event-store.ts';

/**
 * Pieces shared by the embedded event stores (in-memory and SQLite), so that both apply exactly the same
 * expected-revision, idempotency and encoding rules (and, in catch-up.ts, the same subscriptions).
 */

export interface EncodedEvent {
  readonly id: string;
  readonly type: string;
  readonly data: string;
  readonly metadata: string;
}

/** Serialises at call time, so a caller mutating its objects afterwards cannot change what gets stored. */
export function encodeEvents(streamName: string, events: ReadonlyArray<EventToAppend>): ReadonlyArray<EncodedEvent> {
  if (typeof streamName !== 'string' || streamName.length === 0) {
    throw new TypeError('stream name must be a non-empty string');
  }
  return events.map((event, index) => {
    const data = serialiseEventToAppend(streamName, event, index);
    return { id: event.id, type: event.type, data, metadata: JSON.stringify(encodeMetadata(event.metadata)) };
  });
}

export interface StoredRow {
  readonly position: unknown;
  readonly stream_name: unknown;
  readonly revision: unknown;
  readonly event_id: unknown;
  readonly type: unknown;
  readonly data: unknown;
  readonly metadata: unknown;
  readonly recorded_at: unknown;
}

/** Stored rows are checked rather than trusted: a damaged row names itself instead of surfacing as a vague crash. */
export function decodeStoredRow(row: StoredRow): RecordedEvent {
  const position = row.position;
  const streamName = row.stream_name;
  const where = `event at position ${String(position)} in stream ${JSON.stringify(String(streamName))}`;
  const fail = (what: string, cause?: unknown): never => {
    throw new Error(`Corrupt ${where}: ${what}`, cause === undefined ? undefined : { cause });
  };
  if (typeof position !== 'number' || !Number.isSafeInteger(position)) fail('position is not an integer');
  if (typeof streamName !== 'string') fail('stream name is not text');
  if (typeof row.revision !== 'number' || !Number.isSafeInteger(row.revision) || row.revision < 0) {
    fail('revision is not a non-negative integer');
  }
  if (typeof row.event_id !== 'string') fail('event id is not text');
  if (typeof row.type !== 'string') fail('type is not text');
  if (typeof row.recorded_at !== 'string') fail('recorded_at is not text');
  if (typeof row.data !== 'string') fail('data is not text');
  if (typeof row.metadata !== 'string') fail('metadata is not text');
  let data: unknown;
  try {
    data = JSON.parse(row.data as string);
  } catch (error) {
    fail('data is not valid JSON', error);
  }
  let rawMetadata: unknown;
  try {
    rawMetadata = JSON.parse(row.metadata as string);
  } catch (error) {
    fail('metadata is not valid JSON', error);
  }
  const metadata = decodeOwnMetadata(rawMetadata);
  if (metadata === undefined) fail('metadata does not have the expected shape');
  return {
    id: row.event_id as string,
    streamName: streamName as string,
    revision: row.revision as number,
    position: position as number,
    type: row.type as string,
    data,
    metadata: metadata as EventMetadata,
    recordedAt: row.recorded_at as string,
  };
}

/**
 * A subscription's batch of stored rows: the rows of streams it ignores are left out before they are decoded (the
 * cost of an event nobody here needs is its read), yet count for how far the read went.
 */
export function catchUpBatchOf(rows: ReadonlyArray<StoredRow>, ignored?: IgnoredStreams): CatchUpBatch {
  const events: RecordedEvent[] = [];
  for (const row of rows) {
    if (ignored !== undefined && typeof row.stream_name === 'string' && ignored.test(row.stream_name)) continue;
    events.push(decodeStoredRow(row));
  }
  const last = rows[rows.length - 1];
  if (last === undefined) return { events, read: 0, lastPosition: 0 };
  // A left-out row is still checked for what the subscription goes by: its position.
  const lastPosition = typeof last.position === 'number' ? last.position : decodeStoredRow(last).position;
  return { events, read: rows.length, lastPosition };
}

/** What an append needs to know about the current log to decide on conflicts and retries. */
export interface AppendLookup {
  /** Current revision of the stream, -1 when it does not exist. */
  currentRevision(streamName: string): number;
  /** Where an event id is stored, if anywhere. */
  locateEvent(eventId: string): { readonly streamName: string; readonly revision: number } | undefined;
  /** Ids and positions of up to `count` events of the stream from `fromRevision`, oldest first. */
  streamSlice(
    streamName: string,
    fromRevision: number,
    count: number,
  ): ReadonlyArray<{ readonly id: string; readonly revision: number; readonly position: number }>;
}

export type AppendDecision =
  | { readonly kind: 'write'; readonly firstRevision: number }
  | { readonly kind: 'decided'; readonly result: Either<WrongExpectedRevision, AppendResult> };

export function decideAppend(
  lookup: AppendLookup,
  streamName: string,
  events: ReadonlyArray<EncodedEvent>,
  expected: ExpectedRevision,
): AppendDecision {
  const current = lookup.currentRevision(streamName);
  if (!expectedRevisionMatches(expected, current)) {
    const retried = findRetriedAppend(lookup, streamName, events, expected);
    if (retried !== undefined) return { kind: 'decided', result: right(retried) };
    return { kind: 'decided', result: left({ _tag: 'WrongExpectedRevision', streamName, expected, actual: current }) };
  }
  if (events.length === 0) {
    const last = current >= 0 ? lookup.streamSlice(streamName, current, 1)[0] : undefined;
    return { kind: 'decided', result: right({ nextExpectedRevision: current, position: last?.position ?? 0 }) };
  }
  return { kind: 'write', firstRevision: current + 1 };
}

/**
 * A retried append (same event ids, in order, already stored in this stream where the original append would have
 * put them) succeeds with the original result, as KurrentDB does. With 'any' or 'stream_exists' the original
 * place is wherever the first event id is found.
 */
export function findRetriedAppend(
  lookup: AppendLookup,
  streamName: string,
  events: ReadonlyArray<EncodedEvent>,
  expected: ExpectedRevision,
): AppendResult | undefined {
  const first = events[0];
  if (first === undefined) return undefined;
  const found = lookup.locateEvent(first.id);
  if (found === undefined || found.streamName !== streamName) return undefined;
  if (expected === 'no_stream' && found.revision !== 0) return undefined;
  if (typeof expected === 'number' && found.revision !== expected + 1) return undefined;
  const stored = lookup.streamSlice(streamName, found.revision, events.length);
  if (stored.length !== events.length) return undefined;
  for (let i = 0; i < events.length; i++) {
    if (stored[i]?.id !== events[i]?.id) return undefined;
  }
  const last = stored[stored.length - 1];
  if (last === undefined) return undefined;
  return { nextExpectedRevision: last.revision, position: last.position };
}

/** One stream of a multi-stream append, its events encoded. */
export interface EncodedStreamAppend {
  readonly streamName: string;
  readonly events: ReadonlyArray<EncodedEvent>;
  readonly expected: ExpectedRevision;
  readonly expectedLastEventId?: string;
}

export type MultiAppendDecision =
  | {
      readonly kind: 'write';
      readonly parts: ReadonlyArray<{
        readonly streamName: string;
        readonly firstRevision: number;
        readonly events: ReadonlyArray<EncodedEvent>;
      }>;
    }
  | { readonly kind: 'decided'; readonly result: Either<WrongExpectedRevision, MultiStreamAppendResult> };

/** Encodes a multi-stream append, refusing what the port forbids: no stream, a stream twice, a stream with no events. */
export function encodeStreamAppends(appends: ReadonlyArray<StreamAppend>): ReadonlyArray<EncodedStreamAppend> {
  if (appends.length === 0) throw new RangeError('appendToStreams needs at least one stream');
  const names = new Set<string>();
  return appends.map((append) => {
    if (names.has(append.streamName)) {
      throw new RangeError(`appendToStreams names stream ${JSON.stringify(append.streamName)} more than once`);
    }
    names.add(append.streamName);
    if (append.events.length === 0) {
      throw new RangeError(`appendToStreams has no events for stream ${JSON.stringify(append.streamName)}`);
    }
    // As KurrentDB's multi-stream append does, only the correlation and causation ids are kept (see metadata.ts).
    const events = append.events.map((e) => ({ ...e, metadata: multiAppendMetadata(e.metadata) }));
    return {
      streamName: append.streamName,
      events: encodeEvents(append.streamName, events),
      expected: append.expectedRevision,
      ...(append.expectedLastEventId !== undefined ? { expectedLastEventId: append.expectedLastEventId } : {}),
    };
  });
}

/**
 * All or nothing, as KurrentDB's multi-stream append decides it (StorageWriterService.VerifyCommitChecks): a retry
 * of a multi-stream append that was written (every stream holds its events where they were put) answers as the
 * first time did. Otherwise the answer names the first stream, in the order given, that was not at its expected
 * revision or held its events already (a partial match cannot be a retry: the append was atomic), and nothing is
 * written.
 */
export function decideMultiAppend(
  lookup: AppendLookup,
  appends: ReadonlyArray<EncodedStreamAppend>,
): MultiAppendDecision {
  const parts: Array<{ streamName: string; firstRevision: number; events: ReadonlyArray<EncodedEvent> }> = [];
  const retried: Array<{ streamName: string; result: AppendResult }> = [];
  let firstRefusal: WrongExpectedRevision | undefined;
  for (const { streamName, events, expected, expectedLastEventId } of appends) {
    const decision = decideAppend(lookup, streamName, events, expected);
    if (decision.kind === 'write') {
      const actual = decision.firstRevision - 1;
      if (endsWith(lookup, streamName, actual, expectedLastEventId))
        parts.push({ streamName, firstRevision: decision.firstRevision, events });
      else firstRefusal ??= { _tag: 'WrongExpectedRevision', streamName, expected, actual };
      continue;
    }
    if (decision.result._tag === 'Right') retried.push({ streamName, result: decision.result.right });
    firstRefusal ??=
      decision.result._tag === 'Left'
        ? decision.result.left
        : { _tag: 'WrongExpectedRevision', streamName, expected, actual: lookup.currentRevision(streamName) };
  }
  if (retried.length === appends.length) {
    const position = Math.max(...retried.map((r) => r.result.position));
    const streams = retried.map((r) => ({
      streamName: r.streamName,
      nextExpectedRevision: r.result.nextExpectedRevision,
    }));
    return { kind: 'decided', result: right({ position, streams }) };
  }
  if (firstRefusal !== undefined) return { kind: 'decided', result: left(firstRefusal) };
  return { kind: 'write', parts };
}

/** Whether the stream, at `revision`, ends with the event `id` names (always, when no id is expected). */
function endsWith(lookup: AppendLookup, streamName: string, revision: number, id: string | undefined): boolean {
  if (id === undefined) return true;
  return revision >= 0 && lookup.streamSlice(streamName, revision, 1)[0]?.id === id;
}

export class DuplicateEventIdError extends Error {
  constructor(
    readonly streamName: string,
    readonly eventIds: ReadonlyArray<string>,
  ) {
    super(
      `Append to stream ${JSON.stringify(streamName)} reuses an event id that is already stored elsewhere ` +
        `(ids: ${eventIds.join(', ')}) and is not a retry of an earlier append`,
    );
    this.name = 'DuplicateEventIdError';
  }
}

export class EventStoreClosedError extends Error {
  constructor(name: string) {
    super(`The ${name} event store is closed`);
    this.name = 'EventStoreClosedError';
  }
}
