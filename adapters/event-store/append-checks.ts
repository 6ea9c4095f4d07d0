import type { EventToAppend } from '../../application/ports/event-store.ts';

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
