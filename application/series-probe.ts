/** Which series operation a request runs: a PATCH that moves only the time of day, zone or length is a `time` change. */
export type SeriesOperation = 'create' | 'recurrence' | 'details' | 'time' | 'cancel';

/**
 * A point a series operation reaches: its series event appended, `count` sessions done, every session done (before
 * the dropped-sessions notice). Only the test-only crash probe (apps/test-crash.ts) listens.
 */
export interface SeriesStep {
  readonly operation: SeriesOperation;
  readonly step: 'series-event' | 'session' | 'sessions-done';
  readonly count?: number;
}

export type SeriesProbe = (step: SeriesStep) => void;
