import { left, right } from 'fp-ts/lib/Either.js';
import type { Either } from 'fp-ts/lib/Either.js';
import { BACKWARDS, END, MaxAppendSizeExceededError, WrongExpectedVersionError } from '@kurrent/kurrentdb-client';
import type { KurrentDBClient } from '@kurrent/kurrentdb-client';
import { AppendTooLargeError } from '../../../application/ports/event-store.ts';
import type {
  AppendResult,
  EventToAppend,
  ExpectedRevision,
  WrongExpectedRevision,
} from '../../../application/ports/event-store.ts';
import { expectedRevisionMatches } from '../append-checks.ts';
import { appendSize, toEventData, toPortPosition, toPortRevision, toStreamState } from './conversions.ts';
import type { ConnectionHealth } from './health.ts';
import { readStreamRaw } from './reads.ts';

type AppendAnswer = Either<WrongExpectedRevision, AppendResult>;

export interface AppendContext {
  readonly client: KurrentDBClient;
  readonly health: ConnectionHealth;
  /** The server's MaxAppendSize, as configured here. */
  readonly maxAppendSize: number;
}

/** One append, checked here against the size limit before anything is sent. */
export async function appendEvents(
  context: AppendContext,
  streamName: string,
  events: ReadonlyArray<EventToAppend>,
  expected: ExpectedRevision,
): Promise<AppendAnswer> {
  const { client, health, maxAppendSize } = context;
  const streamState = toStreamState(expected);
  const data = events.map((event, index) => toEventData(streamName, event, index));
  if (data.length === 0) return answerEmptyAppend(context, streamName, expected);
  const size = appendSize(data);
  if (size > maxAppendSize) throw new AppendTooLargeError(streamName, size, maxAppendSize);
  try {
    const result = await health.observe(() => client.appendToStream(streamName, data, { streamState }));
    if (!result.position) throw new Error(`KurrentDB acknowledged an append to ${streamName} without a position`);
    return right({
      nextExpectedRevision: toPortRevision(result.nextExpectedRevision),
      position: toPortPosition(result.position.commit),
    });
  } catch (error) {
    if (error instanceof WrongExpectedVersionError) {
      const actual = typeof error.actualState === 'bigint' ? toPortRevision(error.actualState) : -1;
      return left({ _tag: 'WrongExpectedRevision', streamName, expected, actual });
    }
    if (error instanceof MaxAppendSizeExceededError) {
      // The server's limit is lower than the one configured here.
      throw new AppendTooLargeError(streamName, size, error.maxAppendSize ?? maxAppendSize);
    }
    throw error;
  }
}

/** The server's answer to an empty append has no position; the current state answers it the same way. */
async function answerEmptyAppend(
  { client, health }: AppendContext,
  streamName: string,
  expected: ExpectedRevision,
): Promise<AppendAnswer> {
  const [last] = await health.observe(() =>
    readStreamRaw(client, streamName, { fromRevision: END, direction: BACKWARDS, maxCount: 1, requiresLeader: true }),
  );
  const actual = last ? toPortRevision(last.revision) : -1;
  if (!expectedRevisionMatches(expected, actual))
    return left({ _tag: 'WrongExpectedRevision', streamName, expected, actual });
  const position = last?.position ? toPortPosition(last.position.commit) : 0;
  return right({ nextExpectedRevision: actual, position });
}
