import { right } from 'fp-ts/lib/Either.js';
import type { Either } from 'fp-ts/lib/Either.js';
import type {
  AppendResult,
  EventStore,
  EventStoreCapabilities,
  ExpectedRevision,
  MultiStreamAppendResult,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  WrongExpectedRevision,
} from '../../application/ports/event-store.ts';
import { createSubscriptionHub } from './catch-up.ts';
import {
  decideAppend,
  decideMultiAppend,
  catchUpBatchOf,
  decodeStoredRow,
  DuplicateEventIdError,
  encodeEvents,
  encodeStreamAppends,
  EventStoreClosedError,
  findRetriedAppend,
} from './embedded-support.ts';
import type { AppendLookup, EncodedEvent, EncodedStreamAppend, StoredRow } from './embedded-support.ts';

interface StoredEvent extends StoredRow {
  readonly position: number;
  readonly stream_name: string;
  readonly revision: number;
  readonly event_id: string;
}

/** The whole log, and the same events indexed by stream and by id. */
interface MemoryLog {
  readonly events: StoredEvent[];
  readonly streams: Map<string, StoredEvent[]>;
  readonly byId: Map<string, StoredEvent>;
}

/**
 * An event store held in memory, with the same semantics as the SQLite store (gap-free positions, idempotent
 * retries, JSON round-trip of data). Events are kept as JSON text so every read hands out fresh objects.
 */
export function createInMemoryEventStore(options?: { readonly now?: () => Date }): EventStore {
  const now = options?.now ?? (() => new Date());
  const capabilities: EventStoreCapabilities = { gapFreePositions: true, name: 'memory', checksLastEventId: true };
  const log: MemoryLog = { events: [], streams: new Map(), byId: new Map() };
  let closed = false;
  const ensureOpen = (): void => {
    if (closed) throw new EventStoreClosedError(capabilities.name);
  };
  const readAll = async (readOptions?: ReadAllOptions): Promise<ReadonlyArray<RecordedEvent>> => {
    ensureOpen();
    return readAllOf(log, readOptions);
  };
  const subscriptions = createSubscriptionHub({
    readBatch: async (readOptions, ignored) => {
      ensureOpen();
      return catchUpBatchOf(storedRowsOf(log, readOptions), ignored);
    },
  });

  return {
    capabilities,
    appendToStream: async (streamName, events, appendOptions) => {
      ensureOpen();
      const head = log.events.length;
      const encoded = encodeEvents(streamName, events);
      const result = appendToLog(log, streamName, encoded, appendOptions?.expectedRevision ?? 'any', now);
      if (log.events.length > head) subscriptions.wakeAll();
      return result;
    },
    appendToStreams: async (appends) => {
      ensureOpen();
      const head = log.events.length;
      const result = appendToStreamsOfLog(log, encodeStreamAppends(appends), now);
      if (log.events.length > head) subscriptions.wakeAll();
      return result;
    },
    supportsMultiStreamAppend: async () => true,
    readStream: async (streamName, readOptions) => {
      ensureOpen();
      return readStreamOf(log, streamName, readOptions);
    },
    readAll,
    headPosition: async () => {
      ensureOpen();
      return log.events.length;
    },
    subscribeToAll: (subscribeOptions, handler, onError) => {
      ensureOpen();
      return subscriptions.subscribe(subscribeOptions, handler, onError);
    },
    close: async () => {
      if (closed) return;
      await subscriptions.stopAll();
      closed = true;
    },
  };
}

function lookupOf(log: MemoryLog): AppendLookup {
  return {
    currentRevision: (streamName) => (log.streams.get(streamName)?.length ?? 0) - 1,
    locateEvent: (eventId) => {
      const stored = log.byId.get(eventId);
      return stored === undefined ? undefined : { streamName: stored.stream_name, revision: stored.revision };
    },
    streamSlice: (streamName, fromRevision, count) =>
      (log.streams.get(streamName) ?? [])
        .slice(fromRevision, fromRevision + count)
        .map((stored) => ({ id: stored.event_id, revision: stored.revision, position: stored.position })),
  };
}

function appendToLog(
  log: MemoryLog,
  streamName: string,
  encoded: ReadonlyArray<EncodedEvent>,
  expected: ExpectedRevision,
  now: () => Date,
): Either<WrongExpectedRevision, AppendResult> {
  const lookup = lookupOf(log);
  const decision = decideAppend(lookup, streamName, encoded, expected);
  if (decision.kind === 'decided') return decision.result;

  const ids = encoded.map((event) => event.id);
  if (new Set(ids).size !== ids.length || ids.some((id) => log.byId.has(id))) {
    const retried = findRetriedAppend(lookup, streamName, encoded, expected);
    if (retried !== undefined) return right(retried);
    throw new DuplicateEventIdError(streamName, ids);
  }

  return right(writeToLog(log, streamName, decision.firstRevision, encoded, now().toISOString()));
}

/** All streams or none: every one is checked before the first event is written. */
function appendToStreamsOfLog(
  log: MemoryLog,
  appends: ReadonlyArray<EncodedStreamAppend>,
  now: () => Date,
): Either<WrongExpectedRevision, MultiStreamAppendResult> {
  const decision = decideMultiAppend(lookupOf(log), appends);
  if (decision.kind === 'decided') return decision.result;
  const ids = decision.parts.flatMap((part) => part.events.map((event) => event.id));
  if (new Set(ids).size !== ids.length || ids.some((id) => log.byId.has(id))) {
    throw new DuplicateEventIdError(decision.parts.map((part) => part.streamName).join(', '), ids);
  }
  const recordedAt = now().toISOString();
  const written = decision.parts.map((part) => ({
    streamName: part.streamName,
    ...writeToLog(log, part.streamName, part.firstRevision, part.events, recordedAt),
  }));
  return right({
    position: Math.max(...written.map((w) => w.position)),
    streams: written.map(({ streamName, nextExpectedRevision }) => ({ streamName, nextExpectedRevision })),
  });
}

function writeToLog(
  log: MemoryLog,
  streamName: string,
  firstRevision: number,
  encoded: ReadonlyArray<EncodedEvent>,
  recordedAt: string,
): AppendResult {
  let stream = log.streams.get(streamName);
  if (stream === undefined) {
    stream = [];
    log.streams.set(streamName, stream);
  }
  let last: StoredEvent | undefined;
  for (const [offset, event] of encoded.entries()) {
    last = {
      position: log.events.length + 1,
      stream_name: streamName,
      revision: firstRevision + offset,
      event_id: event.id,
      type: event.type,
      data: event.data,
      metadata: event.metadata,
      recorded_at: recordedAt,
    };
    log.events.push(last);
    stream.push(last);
    log.byId.set(event.id, last);
  }
  if (last === undefined) throw new Error('unreachable: a write decision always has events');
  return { nextExpectedRevision: last.revision, position: last.position };
}

function readStreamOf(log: MemoryLog, streamName: string, options?: ReadStreamOptions): ReadonlyArray<RecordedEvent> {
  const from = Math.max(0, Math.floor(options?.fromRevision ?? 0));
  return (log.streams.get(streamName) ?? []).slice(from).map(decodeStoredRow);
}

function storedRowsOf(log: MemoryLog, options?: ReadAllOptions): ReadonlyArray<StoredRow> {
  const after = Math.max(0, Math.floor(options?.after ?? 0));
  const limit = options?.limit ?? Number.POSITIVE_INFINITY;
  if (limit <= 0) return [];
  // Position n lives at index n - 1 because positions are gap-free.
  return log.events.slice(after, after + Math.min(limit, log.events.length));
}

function readAllOf(log: MemoryLog, options?: ReadAllOptions): ReadonlyArray<RecordedEvent> {
  return storedRowsOf(log, options).map(decodeStoredRow);
}
