import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import * as rruleModule from 'rrule';
import { describe, expect, it } from 'vitest';
import { expandRecurrence, parseRecurrence } from '../../domain/recurrence.ts';
import type { Occurrence, Recurrence, RecurrenceInput } from '../../domain/recurrence.ts';
import { formatLocalDate, utcToLocal, zoneOffsetMinutes } from '../../domain/time.ts';

type RRuleLib = typeof rruleModule;
const { RRule } =
  (rruleModule as Partial<RRuleLib>).RRule !== undefined
    ? rruleModule
    : (rruleModule as unknown as { readonly default: RRuleLib }).default;

const ZONES = [
  'America/New_York',
  'Europe/London',
  'Australia/Sydney',
  'Asia/Kolkata',
  'Europe/Berlin',
  'America/Los_Angeles',
  'Pacific/Auckland',
  'Asia/Tokyo',
  'America/Sao_Paulo',
  'UTC',
] as const;

const DAY = 86_400_000;
const FIRST_DAY = Date.UTC(2020, 0, 1) / DAY;
const LAST_DAY = Date.UTC(2035, 11, 31) / DAY;
const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'] as const;

const pad = (n: number) => String(n).padStart(2, '0');
const dateOfDay = (day: number) => new Date(day * DAY).toISOString().slice(0, 10);

const startDateArb = fc.integer({ min: FIRST_DAY, max: LAST_DAY }).map(dateOfDay);
// Every minute of the day, with the usual transition hours over-represented.
const startTimeArb = fc
  .oneof(
    fc.record({ h: fc.integer({ min: 0, max: 23 }), m: fc.integer({ min: 0, max: 59 }) }),
    fc.record({ h: fc.integer({ min: 0, max: 3 }), m: fc.constantFrom(0, 15, 30, 59) }),
  )
  .map(({ h, m }) => `${pad(h)}:${pad(m)}`);

const subset = <T>(items: ReadonlyArray<T>) => fc.subarray([...items], { minLength: 1 });

/**
 * Rules that are valid for any start within 2020-2035 (span under 731 days, at most one per day), but a yearly one
 * from 29 February.
 */
const ruleArb = fc.oneof(
  fc
    .record({ interval: fc.integer({ min: 1, max: 3 }), count: fc.integer({ min: 1, max: 120 }) })
    .map(({ interval, count }) => ({ rrule: `FREQ=DAILY;INTERVAL=${interval};COUNT=${count}`, count })),
  fc
    .record({
      days: fc.option(subset(WEEKDAYS), { nil: undefined }),
      interval: fc.integer({ min: 1, max: 2 }),
      count: fc.integer({ min: 1, max: 40 }),
    })
    .map(({ days, interval, count }) => ({
      rrule: `FREQ=WEEKLY;INTERVAL=${interval}${days ? `;BYDAY=${days.join(',')}` : ''};COUNT=${count}`,
      count,
    })),
  fc
    .record({ monthday: fc.integer({ min: 1, max: 28 }), count: fc.integer({ min: 1, max: 24 }) })
    .map(({ monthday, count }) => ({ rrule: `FREQ=MONTHLY;BYMONTHDAY=${monthday};COUNT=${count}`, count })),
  fc
    .record({
      nth: fc.constantFrom(1, 2, 3, 4, -1),
      day: fc.constantFrom(...WEEKDAYS),
      count: fc.integer({ min: 1, max: 20 }),
    })
    .map(({ nth, day, count }) => ({ rrule: `FREQ=MONTHLY;BYDAY=${nth}${day};COUNT=${count}`, count })),
  fc.integer({ min: 1, max: 2 }).map((count) => ({ rrule: `FREQ=YEARLY;COUNT=${count}`, count })),
);

const parsed = (input: RecurrenceInput): Recurrence => {
  const r = parseRecurrence(input);
  if (E.isLeft(r)) throw new Error(`${JSON.stringify(input)} refused: ${JSON.stringify(r.left)}`);
  return r.right;
};

const minutesOfDay = (time: string) => Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));

const localDateOf = (instant: Date, tz: string) => formatLocalDate(utcToLocal(instant, tz));

/**
 * The occurrence shows `startTime` on its own local date, unless that wall time does not exist there: then it was
 * read with the offset in force before the gap (RFC 5545), which shows as startTime plus the gap length.
 * An ambiguous time must have taken the earlier instant: no instant 30 or 60 minutes before shows the same time.
 */
const checkWallTime = (o: Occurrence, startTime: string, tz: string) => {
  const local = utcToLocal(o.start, tz);
  expect(formatLocalDate(local)).toBe(o.localDate);
  const wanted = minutesOfDay(startTime);
  const shown = local.hour * 60 + local.minute;
  expect(local.second).toBe(0);
  if (shown !== wanted) {
    const before = zoneOffsetMinutes(new Date(o.start.getTime() - 3 * 3_600_000), tz);
    const after = zoneOffsetMinutes(o.start, tz);
    expect(after, `${o.localDate} ${startTime} in ${tz} moved without a gap`).toBeGreaterThan(before);
    expect(shown).toBe(wanted + (after - before));
    const wallMs = Date.parse(`${o.localDate}T${startTime}:00Z`);
    expect(o.start.getTime()).toBe(wallMs - before * 60_000);
  }
  for (const minutes of [30, 60]) {
    const earlier = new Date(o.start.getTime() - minutes * 60_000);
    const e = utcToLocal(earlier, tz);
    const sameWall = formatLocalDate(e) === o.localDate && e.hour === local.hour && e.minute === local.minute;
    expect(sameWall, `${earlier.toISOString()} also shows ${o.localDate} ${startTime} in ${tz}`).toBe(false);
  }
};

describe('expandRecurrence properties', () => {
  it('keeps the wall time, the local date, order, duration and COUNT minus exclusions', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ZONES),
        startDateArb,
        startTimeArb,
        ruleArb,
        fc.integer({ min: 1, max: 240 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.array(startDateArb, { maxLength: 3 }),
        (timezone, startDate, startTime, { rrule, count }, durationMinutes, excludedIdx, otherDates) => {
          // A yearly rule from 29 February next falls four years on (RFC 5545 skips the years without that date),
          // past the two-year span a series may cover: refused, which recurrence.test.ts checks on its own.
          fc.pre(!(rrule.startsWith('FREQ=YEARLY') && count > 1 && startDate.endsWith('-02-29')));
          const input = { rrule, startDate, startTime, durationMinutes, timezone };
          const full = expandRecurrence(parsed(input));
          expect(full).toHaveLength(count);

          const excluded = new Set([...excludedIdx.map((i) => full[i % full.length]?.localDate ?? ''), ...otherDates]);
          // Keep at least one occurrence: excluding all of them is refused.
          if (full.every((o) => excluded.has(o.localDate))) excluded.delete(full[0]?.localDate ?? '');
          const occurrences = expandRecurrence(parsed({ ...input, exclusions: [...excluded] }));
          const removed = full.filter((o) => excluded.has(o.localDate)).length;
          expect(occurrences).toHaveLength(count - removed);
          expect(occurrences.map((o) => o.localDate)).toEqual(
            full.filter((o) => !excluded.has(o.localDate)).map((o) => o.localDate),
          );

          occurrences.forEach((o, i) => {
            checkWallTime(o, startTime, timezone);
            expect(o.end.getTime() - o.start.getTime()).toBe(durationMinutes * 60_000);
            if (i > 0) {
              const prev = occurrences[i - 1] as Occurrence;
              expect(o.start.getTime()).toBeGreaterThan(prev.start.getTime());
              expect(o.localDate > prev.localDate).toBe(true);
            }
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('selects exactly the dates rrule.js gives for the literal rule in floating time', () => {
    const filteredRuleArb = fc
      .record({
        freq: fc.constantFrom('DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'),
        interval: fc.constantFrom(1, 1, 2),
        days: fc.option(subset(WEEKDAYS), { nil: undefined }),
        months: fc.option(subset([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), { nil: undefined }),
        monthdays: fc.option(fc.subarray([1, 2, 15, 28, 29, 30, 31, -1], { minLength: 1 }), { nil: undefined }),
        count: fc.integer({ min: 1, max: 60 }),
      })
      .map(({ freq, interval, days, months, monthdays, count }) =>
        [
          `FREQ=${freq}`,
          `INTERVAL=${interval}`,
          days ? `BYDAY=${days.join(',')}` : '',
          months ? `BYMONTH=${months.join(',')}` : '',
          monthdays && freq !== 'WEEKLY' ? `BYMONTHDAY=${monthdays.join(',')}` : '',
          `COUNT=${count}`,
        ]
          .filter((p) => p !== '')
          .join(';'),
      );

    fc.assert(
      fc.property(
        fc.constantFrom(...ZONES),
        startDateArb,
        startTimeArb,
        filteredRuleArb,
        (timezone, startDate, startTime, rrule) => {
          const result = parseRecurrence({ rrule, startDate, startTime, durationMinutes: 30, timezone });
          // Sparse filter combinations may exceed the 2-year span; only valid series are compared.
          fc.pre(E.isRight(result));
          if (E.isLeft(result)) return;
          const floatingStart = new Date(`${startDate}T${startTime}:00Z`);
          const reference = new RRule({ ...RRule.parseString(rrule), dtstart: floatingStart }, true)
            .all()
            .map((d) => d.toISOString());
          const actual = expandRecurrence(result.right);
          expect(actual.map((o) => `${o.localDate}T${startTime}:00.000Z`)).toEqual(reference);
          actual.forEach((o) => expect(localDateOf(o.start, timezone)).toBe(o.localDate));
        },
      ),
      { numRuns: 200 },
    );
  });
});
