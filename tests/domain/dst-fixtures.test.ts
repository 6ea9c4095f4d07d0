import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { expandRecurrence, parseRecurrence } from '../../domain/recurrence.ts';
import type { RecurrenceInput } from '../../domain/recurrence.ts';

// Expected instants are written out by hand from the 2026 rules:
// US (New York): EST -05:00, EDT -04:00 from Sun Mar 8 02:00 to Sun Nov 1 02:00.
// EU (London): GMT +00:00, BST +01:00 from Sun Mar 29 01:00 GMT to Sun Oct 25 01:00 GMT.
// Sydney: AEDT +11:00 until Sun Apr 5 03:00 (back to 02:00 AEST +10:00), again from Sun Oct 4 02:00 AEST.
// Kolkata: IST +05:30 all year.

const expand = (input: RecurrenceInput) => {
  const parsed = parseRecurrence(input);
  if (E.isLeft(parsed)) throw new Error(JSON.stringify(parsed.left));
  return expandRecurrence(parsed.right).map((o) => [o.localDate, o.start.toISOString(), o.end.toISOString()]);
};

/** [localDate, start] pairs; end is start + 60 minutes in every fixture here. */
const withHourLong = (rows: ReadonlyArray<readonly [string, string]>) =>
  rows.map(([d, s]) => [d, s, new Date(Date.parse(s) + 3_600_000).toISOString()]);

describe('America/New_York', () => {
  it('weekly Monday 10:00 from March 2: 15:00Z before the change, 14:00Z after', () => {
    expect(
      expand({
        rrule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=3',
        startDate: '2026-03-02',
        startTime: '10:00',
        durationMinutes: 60,
        timezone: 'America/New_York',
      }),
    ).toEqual(
      withHourLong([
        ['2026-03-02', '2026-03-02T15:00:00.000Z'],
        ['2026-03-09', '2026-03-09T14:00:00.000Z'],
        ['2026-03-16', '2026-03-16T14:00:00.000Z'],
      ]),
    );
  });

  it('Sundays 10:00 in March and November cross both transitions, including the transition days', () => {
    expect(
      expand({
        rrule: 'FREQ=WEEKLY;BYDAY=SU;BYMONTH=3,11;UNTIL=20261130',
        startDate: '2026-03-01',
        startTime: '10:00',
        durationMinutes: 60,
        timezone: 'America/New_York',
      }),
    ).toEqual(
      withHourLong([
        ['2026-03-01', '2026-03-01T15:00:00.000Z'],
        ['2026-03-08', '2026-03-08T14:00:00.000Z'],
        ['2026-03-15', '2026-03-15T14:00:00.000Z'],
        ['2026-03-22', '2026-03-22T14:00:00.000Z'],
        ['2026-03-29', '2026-03-29T14:00:00.000Z'],
        ['2026-11-01', '2026-11-01T15:00:00.000Z'],
        ['2026-11-08', '2026-11-08T15:00:00.000Z'],
        ['2026-11-15', '2026-11-15T15:00:00.000Z'],
        ['2026-11-22', '2026-11-22T15:00:00.000Z'],
        ['2026-11-29', '2026-11-29T15:00:00.000Z'],
      ]),
    );
  });

  it('02:30 on the spring-forward day does not exist and becomes 03:30 EDT, keeping its local date', () => {
    expect(
      expand({
        rrule: 'FREQ=WEEKLY;BYDAY=SU;COUNT=3',
        startDate: '2026-03-01',
        startTime: '02:30',
        durationMinutes: 60,
        timezone: 'America/New_York',
      }),
    ).toEqual(
      withHourLong([
        ['2026-03-01', '2026-03-01T07:30:00.000Z'], // 02:30 EST
        ['2026-03-08', '2026-03-08T07:30:00.000Z'], // 03:30 EDT
        ['2026-03-15', '2026-03-15T06:30:00.000Z'], // 02:30 EDT
      ]),
    );
  });

  it('01:30 on the fall-back day is ambiguous and takes the first (EDT) instant', () => {
    expect(
      expand({
        rrule: 'FREQ=WEEKLY;BYDAY=SU;COUNT=3',
        startDate: '2026-10-25',
        startTime: '01:30',
        durationMinutes: 60,
        timezone: 'America/New_York',
      }),
    ).toEqual(
      withHourLong([
        ['2026-10-25', '2026-10-25T05:30:00.000Z'], // 01:30 EDT
        ['2026-11-01', '2026-11-01T05:30:00.000Z'], // 01:30 EDT, the first of the two
        ['2026-11-08', '2026-11-08T06:30:00.000Z'], // 01:30 EST
      ]),
    );
  });

  it('end is start plus real elapsed minutes across the fall-back hour', () => {
    expect(
      expand({
        rrule: 'FREQ=WEEKLY;COUNT=1',
        startDate: '2026-11-01',
        startTime: '01:00',
        durationMinutes: 120,
        timezone: 'America/New_York',
      }),
    ).toEqual([['2026-11-01', '2026-11-01T05:00:00.000Z', '2026-11-01T07:00:00.000Z']]); // ends 02:00 EST
  });
});

describe('Europe/London', () => {
  it('Sundays 10:00 in March and October cross both transitions', () => {
    expect(
      expand({
        rrule: 'FREQ=WEEKLY;BYDAY=SU;BYMONTH=3,10;UNTIL=20261031',
        startDate: '2026-03-01',
        startTime: '10:00',
        durationMinutes: 60,
        timezone: 'Europe/London',
      }),
    ).toEqual(
      withHourLong([
        ['2026-03-01', '2026-03-01T10:00:00.000Z'],
        ['2026-03-08', '2026-03-08T10:00:00.000Z'],
        ['2026-03-15', '2026-03-15T10:00:00.000Z'],
        ['2026-03-22', '2026-03-22T10:00:00.000Z'],
        ['2026-03-29', '2026-03-29T09:00:00.000Z'],
        ['2026-10-04', '2026-10-04T09:00:00.000Z'],
        ['2026-10-11', '2026-10-11T09:00:00.000Z'],
        ['2026-10-18', '2026-10-18T09:00:00.000Z'],
        ['2026-10-25', '2026-10-25T10:00:00.000Z'],
      ]),
    );
  });

  it('01:30 on March 29 does not exist (gap 01:00-02:00) and becomes 02:30 BST', () => {
    expect(
      expand({
        rrule: 'FREQ=WEEKLY;COUNT=3',
        startDate: '2026-03-22',
        startTime: '01:30',
        durationMinutes: 60,
        timezone: 'Europe/London',
      }),
    ).toEqual(
      withHourLong([
        ['2026-03-22', '2026-03-22T01:30:00.000Z'],
        ['2026-03-29', '2026-03-29T01:30:00.000Z'],
        ['2026-04-05', '2026-04-05T00:30:00.000Z'],
      ]),
    );
  });

  it('01:30 on October 25 is ambiguous and takes the BST instant', () => {
    expect(
      expand({
        rrule: 'FREQ=WEEKLY;COUNT=3',
        startDate: '2026-10-18',
        startTime: '01:30',
        durationMinutes: 60,
        timezone: 'Europe/London',
      }),
    ).toEqual(
      withHourLong([
        ['2026-10-18', '2026-10-18T00:30:00.000Z'],
        ['2026-10-25', '2026-10-25T00:30:00.000Z'],
        ['2026-11-01', '2026-11-01T01:30:00.000Z'],
      ]),
    );
  });
});

describe('Australia/Sydney', () => {
  it('Sundays 10:00 in March, April and October cross the April end and the October start of DST', () => {
    expect(
      expand({
        rrule: 'FREQ=WEEKLY;BYDAY=SU;BYMONTH=3,4,10;UNTIL=20261018',
        startDate: '2026-03-22',
        startTime: '10:00',
        durationMinutes: 60,
        timezone: 'Australia/Sydney',
      }),
    ).toEqual(
      withHourLong([
        ['2026-03-22', '2026-03-21T23:00:00.000Z'],
        ['2026-03-29', '2026-03-28T23:00:00.000Z'],
        ['2026-04-05', '2026-04-05T00:00:00.000Z'],
        ['2026-04-12', '2026-04-12T00:00:00.000Z'],
        ['2026-04-19', '2026-04-19T00:00:00.000Z'],
        ['2026-04-26', '2026-04-26T00:00:00.000Z'],
        ['2026-10-04', '2026-10-03T23:00:00.000Z'],
        ['2026-10-11', '2026-10-10T23:00:00.000Z'],
        ['2026-10-18', '2026-10-17T23:00:00.000Z'],
      ]),
    );
  });

  it('02:30 on October 4 does not exist and becomes 03:30 AEDT', () => {
    expect(
      expand({
        rrule: 'FREQ=WEEKLY;COUNT=3',
        startDate: '2026-09-27',
        startTime: '02:30',
        durationMinutes: 60,
        timezone: 'Australia/Sydney',
      }),
    ).toEqual(
      withHourLong([
        ['2026-09-27', '2026-09-26T16:30:00.000Z'], // 02:30 AEST
        ['2026-10-04', '2026-10-03T16:30:00.000Z'], // 03:30 AEDT
        ['2026-10-11', '2026-10-10T15:30:00.000Z'], // 02:30 AEDT
      ]),
    );
  });

  it('02:30 on April 5 is ambiguous and takes the first (AEDT) instant', () => {
    expect(
      expand({
        rrule: 'FREQ=WEEKLY;COUNT=3',
        startDate: '2026-03-29',
        startTime: '02:30',
        durationMinutes: 60,
        timezone: 'Australia/Sydney',
      }),
    ).toEqual(
      withHourLong([
        ['2026-03-29', '2026-03-28T15:30:00.000Z'], // 02:30 AEDT
        ['2026-04-05', '2026-04-04T15:30:00.000Z'], // 02:30 AEDT, the first of the two
        ['2026-04-12', '2026-04-11T16:30:00.000Z'], // 02:30 AEST
      ]),
    );
  });
});

describe('Asia/Kolkata', () => {
  it('Sundays 10:00 stay at 04:30Z through the US and EU transition dates', () => {
    const rows = [
      '2026-03-01',
      '2026-03-08',
      '2026-03-15',
      '2026-03-22',
      '2026-03-29',
      '2026-10-04',
      '2026-10-11',
      '2026-10-18',
      '2026-10-25',
    ].map((d) => [d, `${d}T04:30:00.000Z`] as const);
    expect(
      expand({
        rrule: 'FREQ=WEEKLY;BYDAY=SU;BYMONTH=3,10;UNTIL=20261031',
        startDate: '2026-03-01',
        startTime: '10:00',
        durationMinutes: 60,
        timezone: 'Asia/Kolkata',
      }),
    ).toEqual(withHourLong(rows));
  });

  it('02:30 and 01:30 on the US transition days are ordinary times, on the previous UTC day', () => {
    expect(
      expand({
        rrule: 'FREQ=WEEKLY;BYDAY=SU;COUNT=2',
        startDate: '2026-03-01',
        startTime: '02:30',
        durationMinutes: 60,
        timezone: 'Asia/Kolkata',
      }),
    ).toEqual(
      withHourLong([
        ['2026-03-01', '2026-02-28T21:00:00.000Z'],
        ['2026-03-08', '2026-03-07T21:00:00.000Z'],
      ]),
    );
    expect(
      expand({
        rrule: 'FREQ=WEEKLY;BYDAY=SU;COUNT=2',
        startDate: '2026-10-25',
        startTime: '01:30',
        durationMinutes: 60,
        timezone: 'Asia/Kolkata',
      }),
    ).toEqual(
      withHourLong([
        ['2026-10-25', '2026-10-24T20:00:00.000Z'],
        ['2026-11-01', '2026-10-31T20:00:00.000Z'],
      ]),
    );
  });
});
