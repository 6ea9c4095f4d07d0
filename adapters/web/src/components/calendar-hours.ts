import { DateTime } from 'luxon';

/** The hours a day column shows by default, in the viewer's zone. */
const DEFAULT_FIRST_HOUR = 6;
const DEFAULT_LAST_HOUR = 22;

const slot = (hour: number): string => `${String(hour).padStart(2, '0')}:00:00`;

/**
 * The week grid's first and last hour (`slotMinTime`, `slotMaxTime`): 06:00 to 22:00 in the viewer's zone, widened
 * to the whole hours of every session given, and the whole day for one that runs past midnight.
 */
export const hoursToShow = (
  items: ReadonlyArray<{ readonly start: string; readonly end: string }>,
  zone: string,
): { readonly min: string; readonly max: string } => {
  let first = DEFAULT_FIRST_HOUR;
  let last = DEFAULT_LAST_HOUR;
  for (const item of items) {
    const start = DateTime.fromISO(item.start, { zone });
    const end = DateTime.fromISO(item.end, { zone });
    if (!start.isValid || !end.isValid) continue;
    const endsAtMidnight = end.equals(end.startOf('day')) && end.minus({ days: 1 }).hasSame(start, 'day');
    // Past midnight: the session shows on two day columns, from 00:00 on the second.
    if (!end.hasSame(start, 'day') && !endsAtMidnight) return { min: slot(0), max: slot(24) };
    const endHour = endsAtMidnight ? 24 : end.hour + (end.minute > 0 || end.second > 0 ? 1 : 0);
    first = Math.min(first, start.hour);
    last = Math.max(last, endHour);
  }
  return { min: slot(first), max: slot(Math.min(24, last)) };
};
