import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import type { RecordedEvent } from './ports/event-store.ts';

export interface CorruptEvent {
  readonly _tag: 'CorruptEvent';
  readonly streamName: string;
  readonly revision: number;
  readonly position: number;
  readonly type: string;
  readonly message: string;
}

const describeErrors = (errors: t.Errors): string =>
  errors
    .slice(0, 5)
    .map((error) => {
      const path = error.context
        .map((entry) => entry.key)
        .filter((key) => key !== '' && !/^\d+$/.test(key))
        .join('.');
      return `${path || '(root)'}: ${error.message ?? `invalid value ${JSON.stringify(error.value)}`}`;
    })
    .join('; ');

/** Stored events are decoded on read, so a bad or unknown event is reported with its stream and position. */
export const decodeRecorded = <Event>(
  codec: t.Decoder<unknown, Event>,
  recorded: RecordedEvent,
): E.Either<CorruptEvent, Event> => {
  const decoded = codec.decode({ type: recorded.type, data: recorded.data });
  if (E.isRight(decoded)) return decoded;
  return E.left({
    _tag: 'CorruptEvent',
    streamName: recorded.streamName,
    revision: recorded.revision,
    position: recorded.position,
    type: recorded.type,
    message: `cannot decode ${recorded.type} at ${recorded.streamName}@${recorded.revision} (position ${recorded.position}): ${describeErrors(decoded.left)}`,
  });
};
