import type { EventToAppend, ExpectedRevision } from '../../application/ports/event-store.ts';

/**
 * The checks every store makes on an event before writing it, and its data serialised at call time, so that a
 * caller mutating its objects afterwards cannot change what gets stored.
 */
export const serialiseEventToAppend = (streamName: string, event: EventToAppend, index: number): string => {
  if (typeof event.id !== 'string' || event.id.length === 0) {
    throw new TypeError(`event ${index} appended to ${streamName} has no id`);
  }
  if (typeof event.type !== 'string' || event.type.length === 0) {
    throw new TypeError(`event ${event.id} appended to ${streamName} has no type`);
  }
  const json: unknown = JSON.stringify(event.data);
  if (typeof json !== 'string') {
    throw new TypeError(`event ${event.id} appended to ${streamName} has data that is not JSON-serialisable`);
  }
  return json;
};

/** Whether a stream at revision `current` (-1: no stream) is where an append expects it. */
export function expectedRevisionMatches(expected: ExpectedRevision, current: number): boolean {
  if (expected === 'any') return true;
  if (expected === 'no_stream') return current === -1;
  if (expected === 'stream_exists') return current >= 0;
  return expected === current;
}
