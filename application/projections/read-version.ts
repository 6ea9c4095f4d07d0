import type { RecordedEvent } from '../ports/event-store.ts';

/**
 * A version of what some answers show (calendars: meetings, series, people, attendance): the position of the last
 * projected event of those streams, so a cached answer and its ETag stay valid while only other streams move on
 * (notices, reminder plans, change windows, webhook deliveries, sign-ins). Until such an event is projected, the read
 * models' position when first asked: never lower than any event of those streams the read models already show, so a
 * restart never hands out a version an answer of other data had.
 */
export const trackReadVersion = (
  projections: {
    onProjected(listener: (event: RecordedEvent) => void): void;
    readonly appliedPosition: number;
  },
  streamPrefixes: ReadonlyArray<string>,
): (() => number) => {
  let version: number | undefined;
  projections.onProjected((event) => {
    if (streamPrefixes.some((prefix) => event.streamName.startsWith(prefix))) version = event.position;
  });
  return () => (version ??= projections.appliedPosition);
};
