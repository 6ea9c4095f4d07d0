import { right } from 'fp-ts/lib/Either.js';
import type {
  EventStore,
  EventStoreCapabilities,
  ReadAllOptions,
  RecordedEvent,
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
import type { AppendLookup, CatchUpSubscription, StoredRow } from './embedded-support.ts';

const CATCH_UP_BATCH_SIZE = 500;

interface StoredEvent extends StoredRow {
  readonly position: number;
  readonly stream_name: string;
  readonly revision: number;
  readonly event_id: string;
}

/**
 * An event store held in memory, with the same semantics as the SQLite store (gap-free positions, idempotent
 * retries, JSON round-trip of data). Events are kept as JSON text so every read hands out fresh objects.
 */
export function createInMemoryEventStore(options?: { readonly now?: () => Date }): EventStore {
  const now = options?.now ?? (() => new Date());
  const capabilities: EventStoreCapabilities = { gapFreePositions: true, name: 'memory' };
  const log: StoredEvent[] = [];
  const streams = new Map<string, StoredEvent[]>();
  const byId = new Map<string, StoredEvent>();
  const subscriptions = new Set<CatchUpSubscription>();
  let closed = false;

  const ensureOpen = (): void => {
    if (closed) throw new EventStoreClosedError(capabilities.name);
  };

  const lookup: AppendLookup = {
    currentRevision: (streamName) => (streams.get(streamName)?.length ?? 0) - 1,
    locateEvent: (eventId) => {
      const stored = byId.get(eventId);
      return stored === undefined ? undefined : { streamName: stored.stream_name, revision: stored.revision };
    },
    streamSlice: (streamName, fromRevision, count) =>
      (streams.get(streamName) ?? [])
        .slice(fromRevision, fromRevision + count)
        .map((stored) => ({ id: stored.event_id, revision: stored.revision, position: stored.position })),
  };

  const readAllNow = (options?: ReadAllOptions): ReadonlyArray<RecordedEvent> => {
    const after = Math.max(0, Math.floor(options?.after ?? 0));
    const limit = options?.limit ?? Number.POSITIVE_INFINITY;
    if (limit <= 0) return [];
    // Position n lives at index n - 1 because positions are gap-free.
    return log.slice(after, after + Math.min(limit, log.length)).map(decodeStoredRow);
  };

  return {
    capabilities,

    appendToStream: async (streamName, events, appendOptions) => {
      ensureOpen();
      const encoded = encodeEvents(streamName, events);
      const expected = appendOptions?.expectedRevision ?? 'any';
      const decision = decideAppend(lookup, streamName, encoded, expected);
      if (decision.kind === 'decided') return decision.result;

      const ids = encoded.map((event) => event.id);
      if (new Set(ids).size !== ids.length || ids.some((id) => byId.has(id))) {
        const retried = findRetriedAppend(lookup, streamName, encoded, expected);
        if (retried !== undefined) return right(retried);
        throw new DuplicateEventIdError(streamName, ids);
      }

      const recordedAt = now().toISOString();
      let stream = streams.get(streamName);
      if (stream === undefined) {
        stream = [];
        streams.set(streamName, stream);
      }
      let last: StoredEvent | undefined;
      for (const [offset, event] of encoded.entries()) {
        last = {
          position: log.length + 1,
          stream_name: streamName,
          revision: decision.firstRevision + offset,
          event_id: event.id,
          type: event.type,
          data: event.data,
          metadata: event.metadata,
          recorded_at: recordedAt,
        };
        log.push(last);
        stream.push(last);
        byId.set(event.id, last);
      }
      if (last === undefined) throw new Error('unreachable: a write decision always has events');
      for (const subscription of subscriptions) subscription.wake();
      return right({ nextExpectedRevision: last.revision, position: last.position });
    },

    readStream: async (streamName, readOptions) => {
      ensureOpen();
      const from = Math.max(0, Math.floor(readOptions?.fromRevision ?? 0));
      return (streams.get(streamName) ?? []).slice(from).map(decodeStoredRow);
    },

    readAll: async (readOptions) => {
      ensureOpen();
      return readAllNow(readOptions);
    },

    headPosition: async () => {
      ensureOpen();
      return log.length;
    },

    subscribeToAll: (subscribeOptions, handler, onError) => {
      ensureOpen();
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
        },
      });
      subscriptions.add(subscription);
      return { stop: () => subscription.stop() };
    },

    close: async () => {
      if (closed) return;
      await Promise.all([...subscriptions].map((subscription) => subscription.stop()));
      closed = true;
    },
  };
}
