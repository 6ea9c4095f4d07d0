import { left, right } from 'fp-ts/lib/Either.js';
import type { Either } from 'fp-ts/lib/Either.js';
import {
  AppendRecordSizeExceededError,
  StreamTombstonedError,
  TransactionMaxSizeExceededError,
  WrongExpectedVersionError,
} from '@kurrent/kurrentdb-client';
import type { AppendStreamRequest, KurrentDBClient, MultiAppendResult } from '@kurrent/kurrentdb-client';
import { AppendTooLargeError, MultiStreamAppendUnsupportedError } from '../../../application/ports/event-store.ts';
import type {
  MultiStreamAppendResult,
  StreamAppend,
  WrongExpectedRevision,
} from '../../../application/ports/event-store.ts';
import type { AppendContext } from './append.ts';
import { multiAppendSize, toPortPosition, toPortRevision, toEventData, toStreamState } from './conversions.ts';
import type { ConnectionHealth } from './health.ts';

/**
 * The atomic multi-stream append: the client's multiStreamAppend, the v2 StreamsService.AppendSession of KurrentDB
 * 25.1 and later. The server appends every stream's events in one transaction (one WriteEvents) or none, checks
 * each stream's expected revision, and answers a full retry (every stream already holds its events) as the first
 * time. A partial retry (some streams hold their events already, others do not) is refused by KurrentDB 26 with
 * the first such stream's revision conflict, as the port says; 25.1 finds no stream to name and fails the call with
 * an internal error, which the client reports as the server being unavailable, so it reaches the caller as an error.
 * Older servers have no such service: they say so in their supported methods, or answer UNIMPLEMENTED.
 */

type MultiAppendAnswer = Either<WrongExpectedRevision, MultiStreamAppendResult>;

/** The method the server lists in GetSupportedMethods when it has the multi-stream append. */
const APPEND_SESSION = { path: '/kurrentdb.protocol.v2.streams.StreamsService/AppendSession' };
const GRPC_UNIMPLEMENTED = 12;
/** SchemaNameValidator: the server refuses other event types in a v2 append. */
const SCHEMA_NAME = /^[a-zA-Z0-9_.$:-]+$/;
/** RecordIdValidator: a record id is a non-empty UUID. */
const RECORD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EMPTY_UUID = '00000000-0000-0000-0000-000000000000';

/** Whether the server has the multi-stream append: asked once, remembered; an UNIMPLEMENTED answer settles it too. */
export interface MultiAppendSupport {
  supported(): Promise<boolean>;
  /** The server answered UNIMPLEMENTED after all (a node behind a proxy, an older leader during an upgrade). */
  markUnsupported(): void;
}

/** The client's own server-features lookup (ServerFeatures.supports), which it keeps per connection. */
interface FeatureAsking {
  readonly supports?: (method: { readonly path: string }) => Promise<boolean>;
}

export function multiAppendSupport(client: KurrentDBClient, health: ConnectionHealth): MultiAppendSupport {
  let known: boolean | undefined;
  let asking: Promise<boolean> | undefined;
  const ask = async (): Promise<boolean> => {
    // `supports` is not part of the client's typed surface; without it, the first call's answer decides.
    const supports = (client as unknown as FeatureAsking).supports;
    if (typeof supports !== 'function') return true;
    return health.observe(() => supports(APPEND_SESSION));
  };
  return {
    supported: async () => {
      if (known !== undefined) return known;
      asking ??= ask().finally(() => {
        asking = undefined;
      });
      const answer = await asking;
      known ??= answer;
      return known;
    },
    markUnsupported: () => {
      known = false;
    },
  };
}

export interface MultiAppendContext extends AppendContext {
  readonly support: MultiAppendSupport;
}

export async function appendToStreams(
  context: MultiAppendContext,
  appends: ReadonlyArray<StreamAppend>,
): Promise<MultiAppendAnswer> {
  const { client, health, maxAppendSize, support } = context;
  const requests = toRequests(appends);
  if (!(await support.supported())) throw new MultiStreamAppendUnsupportedError('kurrentdb');
  const streams = appends.map((a) => a.streamName).join(', ');
  const size = multiAppendSize(requests.flatMap((r) => r.events));
  if (size > maxAppendSize) throw new AppendTooLargeError(streams, size, maxAppendSize);
  let result: MultiAppendResult;
  try {
    result = await health.observe(() => client.multiStreamAppend(requests));
  } catch (error) {
    if ((error as { code?: unknown }).code === GRPC_UNIMPLEMENTED) {
      support.markUnsupported();
      throw new MultiStreamAppendUnsupportedError('kurrentdb');
    }
    if (error instanceof WrongExpectedVersionError) return left(wrongRevision(appends, error));
    // The server's limits are lower than the one configured here: per append (MaxAppendSize) or per event.
    if (error instanceof TransactionMaxSizeExceededError) {
      throw new AppendTooLargeError(streams, error.size, error.maxSize);
    }
    if (error instanceof AppendRecordSizeExceededError) {
      throw new AppendTooLargeError(error.stream, error.size, error.maxSize);
    }
    if (error instanceof StreamTombstonedError) {
      throw new Error(`KurrentDB refused the append: stream ${error.stream} is deleted`, { cause: error });
    }
    throw error;
  }
  return right(toResult(appends, result));
}

/** The port's rules (RangeError), then the server's (TypeError), checked before anything is sent. */
function toRequests(appends: ReadonlyArray<StreamAppend>): AppendStreamRequest[] {
  if (appends.length === 0) throw new RangeError('appendToStreams needs at least one stream');
  // The server tells streams apart without regard to case (AppendSessionCommand's comparer).
  const names = new Set<string>();
  return appends.map(({ streamName, events, expectedRevision, expectedLastEventId }) => {
    if (typeof streamName !== 'string' || streamName.length === 0) {
      throw new TypeError('stream name must be a non-empty string');
    }
    // The server checks revisions only; a caller that needs more must wait for the append it would build on.
    if (expectedLastEventId !== undefined) {
      throw new RangeError(`appendToStreams cannot check the last event id of ${JSON.stringify(streamName)} here`);
    }
    const folded = streamName.toLowerCase();
    if (names.has(folded)) {
      throw new RangeError(`appendToStreams names stream ${JSON.stringify(streamName)} more than once`);
    }
    names.add(folded);
    if (events.length === 0) {
      throw new RangeError(`appendToStreams has no events for stream ${JSON.stringify(streamName)}`);
    }
    const data = events.map((event, index) => toEventData(streamName, event, index, 'properties'));
    for (const event of data) {
      if (!RECORD_ID.test(event.id ?? '') || event.id === EMPTY_UUID) {
        throw new TypeError(`event ${event.id} appended to ${streamName}: KurrentDB needs a UUID as the event id`);
      }
      if (!SCHEMA_NAME.test(event.type)) {
        throw new TypeError(
          `event ${event.id} appended to ${streamName}: KurrentDB accepts event types of letters, digits and _.$:- only`,
        );
      }
    }
    return { streamName, events: data, expectedState: toStreamState(expectedRevision) };
  });
}

function wrongRevision(appends: ReadonlyArray<StreamAppend>, error: WrongExpectedVersionError): WrongExpectedRevision {
  const named = error.streamName.toLowerCase();
  const append = appends.find((a) => a.streamName.toLowerCase() === named);
  if (append === undefined) {
    throw new Error(`KurrentDB refused the append naming stream ${error.streamName}, which it did not contain`, {
      cause: error,
    });
  }
  const actual = typeof error.actualState === 'bigint' ? toPortRevision(error.actualState) : -1;
  return { _tag: 'WrongExpectedRevision', streamName: append.streamName, expected: append.expectedRevision, actual };
}

/** The server answers the streams in the order they were sent. */
function toResult(appends: ReadonlyArray<StreamAppend>, result: MultiAppendResult): MultiStreamAppendResult {
  const streams = appends.map(({ streamName }, i) => {
    const answered = result.responses[i];
    if (answered === undefined || answered.streamName.toLowerCase() !== streamName.toLowerCase()) {
      throw new Error(`KurrentDB acknowledged a multi-stream append without the revision of ${streamName}`);
    }
    return { streamName, nextExpectedRevision: toPortRevision(answered.revision) };
  });
  return { position: toPortPosition(result.position), streams };
}
