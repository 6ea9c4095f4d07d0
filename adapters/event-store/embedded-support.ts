import { left, right } from 'fp-ts/lib/Either.js';
import { serialiseEventToAppend } from './append-checks.ts';
import type { Either } from 'fp-ts/lib/Either.js';
import type {
  AppendResult,
  EventMetadata,
  EventToAppend,
  ExpectedRevision,
  RecordedEvent,
  Subscription,
  SubscriptionHandler,
  WrongExpectedRevision,
} from '../../application/ports/event-store.ts';

/**
 * Pieces shared by the embedded event stores (in-memory and SQLite), so that both apply exactly the same
 * expected-revision, idempotency, encoding and subscription rules.
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
    return { id: event.id, type: event.type, data, metadata: encodeMetadata(event.metadata) };
  });
}

function encodeMetadata(metadata: EventMetadata | undefined): string {
  if (metadata === undefined) return '{}';
  const known: EventMetadata = {
    ...(metadata.actor !== undefined ? { actor: { id: metadata.actor.id, roles: [...metadata.actor.roles] } } : {}),
    ...(metadata.correlationId !== undefined ? { correlationId: metadata.correlationId } : {}),
    ...(metadata.causationId !== undefined ? { causationId: metadata.causationId } : {}),
  };
  return JSON.stringify(known);
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
  const metadata = decodeMetadata(rawMetadata);
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

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function decodeMetadata(raw: unknown): EventMetadata | undefined {
  if (!isRecord(raw)) return undefined;
  const { actor, correlationId, causationId } = raw;
  if (correlationId !== undefined && typeof correlationId !== 'string') return undefined;
  if (causationId !== undefined && typeof causationId !== 'string') return undefined;
  let decodedActor: EventMetadata['actor'];
  if (actor !== undefined) {
    if (!isRecord(actor) || typeof actor['id'] !== 'string') return undefined;
    const roles = actor['roles'];
    if (!Array.isArray(roles) || !roles.every((role): role is string => typeof role === 'string')) return undefined;
    decodedActor = { id: actor['id'], roles };
  }
  return {
    ...(decodedActor !== undefined ? { actor: decodedActor } : {}),
    ...(correlationId !== undefined ? { correlationId } : {}),
    ...(causationId !== undefined ? { causationId } : {}),
  };
}

export function expectedRevisionMatches(expected: ExpectedRevision, current: number): boolean {
  if (expected === 'any') return true;
  if (expected === 'no_stream') return current === -1;
  if (expected === 'stream_exists') return current >= 0;
  return expected === current;
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

export class DuplicateEventIdError extends Error {
  constructor(streamName: string, eventIds: ReadonlyArray<string>) {
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

export interface CatchUpSubscription extends Subscription {
  /** Tells the subscription that new events may exist. Cheap; safe to call at any time. */
  wake(): void;
}

/**
 * Reads batches after its checkpoint until it has caught up, then sleeps until woken. A wake that arrives while it
 * is reading is remembered, so an append committed between "read returned nothing" and "go to sleep" is not lost.
 * Positions are compared with the checkpoint, so an event is never handed over twice.
 */
export function startCatchUpSubscription(params: {
  readonly after: number;
  readonly batchSize: number;
  readonly readBatch: (after: number, limit: number) => Promise<ReadonlyArray<RecordedEvent>>;
  readonly handler: SubscriptionHandler;
  readonly onError: ((error: unknown) => void) | undefined;
  readonly onEnd: () => void;
}): CatchUpSubscription {
  let stopped = false;
  let woken = false;
  let sleeper: (() => void) | undefined;

  const wake = (): void => {
    woken = true;
    const resume = sleeper;
    sleeper = undefined;
    resume?.();
  };

  const run = async (): Promise<void> => {
    let checkpoint = params.after;
    try {
      while (!stopped) {
        woken = false;
        const batch = await params.readBatch(checkpoint, params.batchSize);
        for (const event of batch) {
          if (stopped) return;
          if (event.position <= checkpoint) continue;
          await params.handler(event);
          checkpoint = event.position;
        }
        if (stopped) return;
        if (batch.length >= params.batchSize) {
          // Reads and synchronous handlers never leave the microtask queue; let I/O run between catch-up batches.
          await new Promise<void>((resolve) => setImmediate(resolve));
          continue;
        }
        if (woken) continue;
        await new Promise<void>((resolve) => {
          sleeper = resolve;
        });
      }
    } catch (error) {
      stopped = true;
      try {
        params.onError?.(error);
      } catch {
        // An onError that throws has nowhere left to report to; the subscription is already stopped.
      }
    } finally {
      params.onEnd();
    }
  };

  // Deferred by one microtask so that the subscription is registered (and can be woken) before the first read.
  const done = Promise.resolve().then(run);

  return {
    wake,
    stop: async () => {
      stopped = true;
      wake();
      await done;
    },
  };
}
