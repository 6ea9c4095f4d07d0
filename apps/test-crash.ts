import type { SeriesProbe, SeriesStep } from '../application/series-probe.ts';

/**
 * TEST-ONLY crash points for series operations. Inert unless `SERIES_TEST_CRASH` is set; never set it in production.
 * The process-kill tests (tests/apps/series-crash.test.ts) set it to `<operation>:<step>[:<count>]`, e.g.
 * `recurrence:series-event` (right after the series event is appended), `cancel:session:2` (once two sessions are
 * done) or `recurrence:sessions-done` (every session done, the dropped-sessions notice not yet written). When the
 * step is reached the process kills itself with SIGKILL, exactly like `kill -9` from outside.
 */
export const seriesCrashProbe = (env: NodeJS.ProcessEnv = process.env): SeriesProbe | undefined => {
  const spec = env.SERIES_TEST_CRASH?.trim();
  if (spec === undefined || spec === '') return undefined;
  const [operation, step, count] = spec.split(':');
  const wanted = count === undefined ? undefined : Number(count);
  return (at: SeriesStep) => {
    if (at.operation !== operation || at.step !== step) return;
    if (wanted !== undefined && at.count !== wanted) return;
    process.kill(process.pid, 'SIGKILL');
  };
};

/**
 * TEST-ONLY crash point of the booking saga (stores without atomic appends across streams). Inert unless
 * `BOOKING_TEST_CRASH=reserved`: the process kills itself with SIGKILL once a booking's reservations are appended and
 * before its meeting or series event is (tests/apps/schedule-crash.test.ts).
 */
export const bookingCrashProbe = (env: NodeJS.ProcessEnv = process.env): (() => void) | undefined =>
  env.BOOKING_TEST_CRASH?.trim() === 'reserved' ? () => process.kill(process.pid, 'SIGKILL') : undefined;
