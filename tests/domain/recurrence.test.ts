import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import {
  MAX_EXCLUSIONS,
  MAX_RRULE_LENGTH,
  expandRecurrence,
  occurrenceKey,
  parseRecurrence,
} from '../../domain/recurrence.ts';
import type { Recurrence, RecurrenceError, RecurrenceInput } from '../../domain/recurrence.ts';

const base: RecurrenceInput = {
  rrule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=10',
  startDate: '2026-03-02',
  startTime: '10:00',
  durationMinutes: 60,
  timezone: 'America/New_York',
};

const ok = (over: Partial<RecurrenceInput>): Recurrence => {
  const r = parseRecurrence({ ...base, ...over });
  if (E.isLeft(r)) throw new Error(`expected a valid recurrence, got ${JSON.stringify(r.left)}`);
  return r.right;
};

const errors = (over: Record<string, unknown>): RecurrenceError[] => {
  const r = parseRecurrence({ ...base, ...over } as RecurrenceInput);
  if (E.isRight(r)) throw new Error(`expected errors for ${JSON.stringify(over)}`);
  return r.left;
};

const paths = (over: Record<string, unknown>) => errors(over).map((e) => e.path);

const dates = (over: Partial<RecurrenceInput>) => expandRecurrence(ok(over)).map((o) => o.localDate);

describe('parseRecurrence: the rrule field', () => {
  it('accepts a plain value, a leading RRULE: and any letter case, and normalises it', () => {
    expect(ok({ rrule: 'FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10' }).rrule).toBe('FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10');
    expect(ok({ rrule: 'RRULE:FREQ=WEEKLY;COUNT=3' }).rrule).toBe('FREQ=WEEKLY;COUNT=3');
    expect(ok({ rrule: ' rrule:freq=monthly;byday=-1fr;count=5; ' }).rrule).toBe('FREQ=MONTHLY;BYDAY=-1FR;COUNT=5');
  });

  it('refuses DTSTART and multiple lines', () => {
    expect(paths({ rrule: 'DTSTART:20260302T100000Z;FREQ=DAILY;COUNT=3' })).toEqual(['rrule']);
    expect(errors({ rrule: 'FREQ=DAILY;COUNT=3;DTSTART=20260302' })[0]?.message).toMatch(/DTSTART/);
    expect(errors({ rrule: 'DTSTART:20260302T100000\nRRULE:FREQ=DAILY;COUNT=3' })[0]?.message).toMatch(/lines/);
    expect(paths({ rrule: 'FREQ=DAILY;COUNT=3\r\nEXDATE:20260303' })).toEqual(['rrule']);
  });

  it('refuses a value longer than 256 characters and accepts exactly 256', () => {
    const build = (length: number) => {
      const head = 'FREQ=MONTHLY;COUNT=3;BYMONTHDAY=2';
      let rest = length - head.length;
      let tail = '';
      if (rest % 2 === 1) {
        tail = ',02';
        rest -= 3;
      }
      return head + ',2'.repeat(rest / 2) + tail;
    };
    const exact = build(MAX_RRULE_LENGTH);
    expect(exact).toHaveLength(256);
    expect(E.isRight(parseRecurrence({ ...base, rrule: exact }))).toBe(true);
    const over = build(MAX_RRULE_LENGTH + 1);
    expect(over).toHaveLength(257);
    expect(errors({ rrule: over })).toEqual([{ path: 'rrule', message: 'rrule must be at most 256 characters' }]);
  });

  it('requires COUNT or UNTIL, and not both', () => {
    expect(errors({ rrule: 'FREQ=WEEKLY;BYDAY=MO' })).toEqual([
      { path: 'rrule', message: 'the rule must end: give COUNT or UNTIL (infinite series are not allowed)' },
    ]);
    expect(errors({ rrule: 'FREQ=WEEKLY;COUNT=3;UNTIL=20260401' })).toEqual([
      { path: 'rrule', message: 'COUNT and UNTIL must not both be given' },
    ]);
  });

  it('refuses sub-daily frequencies and explicit times of day', () => {
    for (const freq of ['SECONDLY', 'MINUTELY', 'HOURLY']) {
      expect(errors({ rrule: `FREQ=${freq};COUNT=3` })).toEqual([
        { path: 'rrule', message: `FREQ=${freq} is not allowed: a series has at most one occurrence per day` },
      ]);
    }
    expect(paths({ rrule: 'FREQ=DAILY;BYHOUR=10,14;COUNT=4' })).toEqual(['rrule']);
    expect(paths({ rrule: 'FREQ=DAILY;BYMINUTE=0,30;COUNT=4' })).toEqual(['rrule']);
    expect(paths({ rrule: 'FREQ=DAILY;BYSECOND=0;COUNT=4' })).toEqual(['rrule']);
  });

  it('refuses malformed parts with a message naming them', () => {
    const message = (rrule: string) => errors({ rrule }).map((e) => e.message);
    expect(message('COUNT=3')).toEqual(['FREQ is required']);
    expect(message('FREQ=FORTNIGHTLY;COUNT=3')[0]).toMatch(/FREQ must be/);
    expect(message('FREQ=WEEKLY;COUNT=3;FOO=1')).toEqual(["unknown or unsupported rule part 'FOO'"]);
    expect(message('FREQ=WEEKLY;COUNT=3;COUNT=4')).toEqual(['COUNT is given more than once']);
    expect(message('FREQ=WEEKLY;;COUNT=3')).toEqual(['rrule has an empty part']);
    expect(message('FREQ=WEEKLY;COUNT=')).toEqual(['COUNT has no value']);
    expect(message('FREQ=WEEKLY;COUNT=0')[0]).toMatch(/COUNT must be a positive integer/);
    expect(message('FREQ=WEEKLY;COUNT=3x')[0]).toMatch(/COUNT must be a positive integer/);
    expect(message('FREQ=WEEKLY;INTERVAL=0;COUNT=3')[0]).toMatch(/INTERVAL/);
    expect(message('FREQ=WEEKLY;BYDAY=XX;COUNT=3')[0]).toMatch(/BYDAY/);
    expect(message('FREQ=MONTHLY;BYDAY=0MO;COUNT=3')[0]).toMatch(/BYDAY/);
    expect(message('FREQ=MONTHLY;BYMONTHDAY=32;COUNT=3')[0]).toMatch(/BYMONTHDAY/);
    expect(message('FREQ=MONTHLY;BYMONTHDAY=0;COUNT=3')[0]).toMatch(/BYMONTHDAY/);
    expect(message('FREQ=YEARLY;BYMONTH=13;COUNT=3')[0]).toMatch(/BYMONTH/);
    expect(message('FREQ=YEARLY;BYMONTH=-1;COUNT=3')[0]).toMatch(/BYMONTH/);
    expect(message('FREQ=WEEKLY;WKST=XY;COUNT=3')[0]).toMatch(/WKST/);
    expect(message('FREQ=WEEKLY;BYDAY=MO,,TU;COUNT=3')[0]).toMatch(/BYDAY/);
  });

  it('applies the RFC 5545 restrictions between FREQ and BYxxx parts', () => {
    const message = (rrule: string) => errors({ rrule }).map((e) => e.message);
    expect(message('FREQ=WEEKLY;BYDAY=2MO;COUNT=3')).toEqual([
      'numbered BYDAY values (like 2TU) need FREQ=MONTHLY or FREQ=YEARLY',
    ]);
    expect(message('FREQ=MONTHLY;BYDAY=6MO;COUNT=3')).toEqual([
      'numbered BYDAY values must be between -5 and 5 with FREQ=MONTHLY',
    ]);
    expect(message('FREQ=WEEKLY;BYMONTHDAY=1;COUNT=3')).toEqual(['BYMONTHDAY is not allowed with FREQ=WEEKLY']);
    expect(message('FREQ=MONTHLY;BYWEEKNO=1;COUNT=3')).toEqual(['BYWEEKNO is only allowed with FREQ=YEARLY']);
    expect(message('FREQ=DAILY;BYYEARDAY=1;COUNT=3')).toEqual(['BYYEARDAY is only allowed with FREQ=YEARLY']);
    expect(message('FREQ=MONTHLY;BYSETPOS=1;COUNT=3')).toEqual(['BYSETPOS needs another BYxxx part']);
  });

  it('reports a non-string rule', () => {
    expect(errors({ rrule: 42 })).toEqual([{ path: 'rrule', message: 'rrule must be a string' }]);
    expect(errors({ rrule: '  ' })).toEqual([{ path: 'rrule', message: 'rrule is empty' }]);
  });
});

describe('parseRecurrence: limits', () => {
  it('accepts 500 occurrences and refuses 501 (COUNT)', () => {
    expect(expandRecurrence(ok({ rrule: 'FREQ=DAILY;COUNT=500' }))).toHaveLength(500);
    expect(errors({ rrule: 'FREQ=DAILY;COUNT=501' })).toEqual([
      { path: 'rrule', message: 'COUNT must be at most 500, got 501' },
    ]);
  });

  it('accepts 500 occurrences and refuses 501 (UNTIL)', () => {
    // 2026-03-02 .. 2027-07-14 is 500 days inclusive.
    const occurrences = expandRecurrence(ok({ rrule: 'FREQ=DAILY;UNTIL=20270714' }));
    expect(occurrences).toHaveLength(500);
    expect(occurrences.at(-1)?.localDate).toBe('2027-07-14');
    expect(errors({ rrule: 'FREQ=DAILY;UNTIL=20270715' })).toEqual([
      { path: 'rrule', message: 'the rule yields more than 500 occurrences' },
    ]);
  });

  it('accepts a span of exactly 731 days and refuses 732', () => {
    const spanError = {
      path: 'rrule',
      message: 'the occurrences would span more than 731 days (2 years) from first to last',
    };
    // 2026-03-02 to 2028-03-02 is 731 days (2028 is a leap year).
    expect(dates({ rrule: 'FREQ=YEARLY;COUNT=3' })).toEqual(['2026-03-02', '2027-03-02', '2028-03-02']);
    expect(dates({ rrule: 'FREQ=DAILY;INTERVAL=731;COUNT=2' })).toEqual(['2026-03-02', '2028-03-02']);
    expect(errors({ rrule: 'FREQ=DAILY;INTERVAL=732;COUNT=2' })).toEqual([spanError]);
    expect(dates({ rrule: 'FREQ=YEARLY;COUNT=3', startDate: '2027-03-02' })).toEqual([
      '2027-03-02',
      '2028-03-02',
      '2029-03-02',
    ]);
    // Mondays up to 2028-02-28 (728 days) are fine; 2028-03-06 would be 735 days after the first.
    expect(expandRecurrence(ok({ rrule: 'FREQ=WEEKLY;UNTIL=20280305' }))).toHaveLength(105);
    expect(errors({ rrule: 'FREQ=WEEKLY;UNTIL=20280306' })).toEqual([spanError]);
  });

  it('measures the span from the first occurrence, not from startDate', () => {
    // First occurrence 2026-03-02 (13 days after startDate); the 25th, 2028-03-02, is 731 days after it.
    const monthly = dates({ rrule: 'FREQ=MONTHLY;BYMONTHDAY=2;COUNT=25', startDate: '2026-02-15' });
    expect(monthly).toHaveLength(25);
    expect([monthly[0], monthly.at(-1)]).toEqual(['2026-03-02', '2028-03-02']);
    expect(paths({ rrule: 'FREQ=MONTHLY;BYMONTHDAY=2;COUNT=26', startDate: '2026-02-15' })).toEqual(['rrule']);
  });

  it('sees occurrences far beyond the span even when the rule is sparse', () => {
    const spanError = {
      path: 'rrule',
      message: 'the occurrences would span more than 731 days (2 years) from first to last',
    };
    expect(errors({ rrule: 'FREQ=YEARLY;INTERVAL=5;COUNT=2' })).toEqual([spanError]);
    expect(errors({ rrule: 'FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;COUNT=2', startDate: '2026-03-01' })).toEqual([
      spanError,
    ]);
  });

  it('UNTIL may be at most 1462 days (2 x 731) after startDate', () => {
    const untilError = {
      path: 'rrule',
      message: 'UNTIL must be at most 1462 days after startDate (a series spans at most 731 days)',
    };
    // 2026-03-02 + 1462 days = 2030-03-03; the next occurrence (2031) is after UNTIL, so one meeting.
    expect(dates({ rrule: 'FREQ=YEARLY;INTERVAL=5;UNTIL=20300303' })).toEqual(['2026-03-02']);
    expect(errors({ rrule: 'FREQ=YEARLY;INTERVAL=5;UNTIL=20300304' })).toEqual([untilError]);
    expect(errors({ rrule: 'FREQ=YEARLY;INTERVAL=5;UNTIL=20991231T000000Z' })).toEqual([untilError]);
  });

  it('refuses a rule with no occurrence, or whose first is more than 731 days away', () => {
    expect(errors({ rrule: 'FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30;COUNT=3' })).toEqual([
      { path: 'rrule', message: 'the rule yields no occurrences on or after startDate' },
    ]);
    expect(errors({ rrule: 'FREQ=DAILY;UNTIL=20260301' })).toEqual([
      { path: 'rrule', message: 'UNTIL is before the first occurrence, 2026-03-02' },
    ]);
    // Rules that can never match (within one 400-year calendar cycle, after which every rule repeats).
    for (const rrule of [
      'FREQ=DAILY;INTERVAL=2;BYMONTH=2;BYMONTHDAY=30;COUNT=3',
      'FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6;COUNT=2',
      'FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;BYSETPOS=3;COUNT=3',
      'FREQ=YEARLY;BYYEARDAY=366;BYMONTH=1;COUNT=2',
    ]) {
      expect(errors({ rrule }), rrule).toEqual([
        { path: 'rrule', message: 'the rule yields no occurrences on or after startDate' },
      ]);
    }
    expect(errors({ rrule: 'FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;COUNT=1', startDate: '2029-03-01' })).toEqual([
      {
        path: 'rrule',
        message:
          'the first occurrence, 2032-02-29, is after the two-year horizon (2031-03-02, 731 days after startDate)',
      },
    ]);
  });

  it('names the first occurrence when it lies beyond the two-year horizon, however far (issue 9, item 10)', () => {
    // Ten years out: beyond the 1462 days the expansion looks at for the series itself.
    expect(errors({ rrule: 'FREQ=YEARLY;INTERVAL=10;BYMONTH=1;COUNT=2' })).toEqual([
      {
        path: 'rrule',
        message:
          'the first occurrence, 2036-01-02, is after the two-year horizon (2028-03-02, 731 days after startDate)',
      },
    ]);
    // 2025, 2030, 2035 are not leap years, 2040 is.
    expect(
      errors({ rrule: 'FREQ=YEARLY;INTERVAL=5;BYMONTH=2;BYMONTHDAY=29;UNTIL=20270101', startDate: '2025-03-01' }),
    ).toEqual([
      {
        path: 'rrule',
        message:
          'the first occurrence, 2040-02-29, is after the two-year horizon (2027-03-02, 731 days after startDate)',
      },
    ]);
    // Every fourth year from 2026 is never a leap year: there is no first occurrence at all.
    expect(
      errors({ rrule: 'FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29;COUNT=1', startDate: '2026-03-01' }),
    ).toEqual([{ path: 'rrule', message: 'the rule yields no occurrences on or after startDate' }]);
    // The first is near, but UNTIL is before it.
    expect(errors({ rrule: 'FREQ=MONTHLY;BYMONTHDAY=31;UNTIL=20260520', startDate: '2026-04-01' })).toEqual([
      { path: 'rrule', message: 'UNTIL is before the first occurrence, 2026-05-31' },
    ]);
  });

  it('durationMinutes is an integer from 1 to 1440', () => {
    expect(ok({ durationMinutes: 1 }).durationMinutes).toBe(1);
    expect(ok({ durationMinutes: 1440 }).durationMinutes).toBe(1440);
    for (const d of [0, 1441, 1.5, -30, Number.NaN, Number.POSITIVE_INFINITY, '60', null]) {
      expect(paths({ durationMinutes: d }), String(d)).toEqual(['durationMinutes']);
    }
  });

  it('refuses occurrences that would overlap in real time (24 h meetings across the 23 h spring-forward day)', () => {
    expect(errors({ rrule: 'FREQ=DAILY;COUNT=10', durationMinutes: 1440 })).toEqual([
      {
        path: 'durationMinutes',
        message: 'occurrences on 2026-03-07 and 2026-03-08 would overlap with a duration of 1440 minutes',
      },
    ]);
    expect(expandRecurrence(ok({ rrule: 'FREQ=DAILY;COUNT=10', durationMinutes: 1380 }))).toHaveLength(10);
    // Back-to-back is not overlapping, and the 25 h fall-back day leaves an hour free.
    expect(expandRecurrence(ok({ rrule: 'FREQ=DAILY;COUNT=10', durationMinutes: 1440, timezone: 'UTC' }))).toHaveLength(
      10,
    );
    expect(
      expandRecurrence(ok({ rrule: 'FREQ=DAILY;COUNT=5', startDate: '2026-10-30', durationMinutes: 1440 })),
    ).toHaveLength(5);
  });
});

describe('parseRecurrence: other fields', () => {
  it('validates timezone, startDate and startTime strictly', () => {
    expect(paths({ timezone: 'Mars/Olympus' })).toEqual(['timezone']);
    expect(paths({ timezone: '' })).toEqual(['timezone']);
    expect(paths({ timezone: undefined })).toEqual(['timezone']);
    expect(paths({ startDate: '2026-02-30' })).toEqual(['startDate']);
    expect(paths({ startDate: '2026-3-2' })).toEqual(['startDate']);
    expect(paths({ startTime: '24:00' })).toEqual(['startTime']);
    expect(paths({ startTime: '10:00:00' })).toEqual(['startTime']);
  });

  it('reports every invalid field at once', () => {
    expect(
      paths({
        rrule: 'FREQ=DAILY',
        startDate: 'x',
        startTime: 'y',
        durationMinutes: 0,
        timezone: 'z',
        exclusions: ['2026-03-03', 'nope'],
      }),
    ).toEqual(['rrule', 'startDate', 'startTime', 'durationMinutes', 'timezone', 'exclusions[1]']);
  });

  it('exclusions are strict local dates, at most 500', () => {
    expect(errors({ exclusions: ['2026-03-09', '2026-02-30'] })).toEqual([
      { path: 'exclusions[1]', message: "'2026-02-30' is not a real calendar date" },
    ]);
    expect(paths({ exclusions: '2026-03-09' })).toEqual(['exclusions']);
    const many = (n: number) => Array.from({ length: n }, (_, i) => `2030-01-${String((i % 28) + 1).padStart(2, '0')}`);
    expect(E.isRight(parseRecurrence({ ...base, exclusions: many(MAX_EXCLUSIONS) }))).toBe(true);
    expect(errors({ exclusions: many(MAX_EXCLUSIONS + 1) })).toEqual([
      { path: 'exclusions', message: 'at most 500 exclusions are allowed' },
    ]);
  });

  it('refuses exclusions that remove every occurrence', () => {
    expect(errors({ rrule: 'FREQ=DAILY;COUNT=2', exclusions: ['2026-03-02', '2026-03-03'] })).toEqual([
      { path: 'exclusions', message: 'the exclusions remove every occurrence' },
    ]);
  });

  it('normalises exclusions (sorted, unique) and round-trips through parseRecurrence', () => {
    const rec = ok({ exclusions: ['2026-03-16', '2026-03-09', '2026-03-16'] });
    expect(rec.exclusions).toEqual(['2026-03-09', '2026-03-16']);
    const again = parseRecurrence(JSON.parse(JSON.stringify(rec)) as RecurrenceInput);
    expect(again).toEqual(E.right(rec));
  });
});

describe('UNTIL', () => {
  it('a date is the last allowed local date, whatever the time of day', () => {
    expect(dates({ rrule: 'FREQ=DAILY;UNTIL=20260305', startTime: '23:59' })).toEqual([
      '2026-03-02',
      '2026-03-03',
      '2026-03-04',
      '2026-03-05',
    ]);
  });

  it('a UTC date-time is compared with the real start instant, inclusive', () => {
    // 10:00 EST on 2026-03-05 is 15:00Z.
    expect(dates({ rrule: 'FREQ=DAILY;UNTIL=20260305T150000Z' })).toHaveLength(4);
    expect(dates({ rrule: 'FREQ=DAILY;UNTIL=20260305T145959Z' })).toHaveLength(3);
    // Across the spring-forward change the local 10:00 is 14:00Z.
    expect(dates({ rrule: 'FREQ=DAILY;UNTIL=20260309T140000Z', startDate: '2026-03-06' })).toEqual([
      '2026-03-06',
      '2026-03-07',
      '2026-03-08',
      '2026-03-09',
    ]);
    expect(dates({ rrule: 'FREQ=DAILY;UNTIL=20260309T135959Z', startDate: '2026-03-06' })).toHaveLength(3);
    // In Sydney the UTC date is the day before the local one.
    expect(dates({ rrule: 'FREQ=DAILY;UNTIL=20260304T230000Z', timezone: 'Australia/Sydney' })).toEqual([
      '2026-03-02',
      '2026-03-03',
      '2026-03-04',
      '2026-03-05',
    ]);
  });

  it('refuses floating date-times and impossible values', () => {
    expect(errors({ rrule: 'FREQ=DAILY;UNTIL=20260305T150000' })[0]?.message).toMatch(/UNTIL must be a date/);
    expect(errors({ rrule: 'FREQ=DAILY;UNTIL=20260230' })[0]?.message).toMatch(/not a real date/);
    expect(errors({ rrule: 'FREQ=DAILY;UNTIL=20260305T250000Z' })[0]?.message).toMatch(/not a real date-time/);
    expect(paths({ rrule: 'FREQ=DAILY;UNTIL=tomorrow' })).toEqual(['rrule']);
  });
});

describe('expandRecurrence', () => {
  it('drops excluded local dates without extending COUNT', () => {
    const occurrences = expandRecurrence(ok({ exclusions: ['2026-03-09', '2026-03-23', '2027-01-01'] }));
    expect(occurrences).toHaveLength(8);
    expect(occurrences.map(occurrenceKey)).toEqual([
      '2026-03-02',
      '2026-03-16',
      '2026-03-30',
      '2026-04-06',
      '2026-04-13',
      '2026-04-20',
      '2026-04-27',
      '2026-05-04',
    ]);
  });

  it('starts at the first matching date on or after an unsynchronised startDate', () => {
    expect(dates({ rrule: 'FREQ=WEEKLY;BYDAY=MO,WE;COUNT=3', startDate: '2026-03-03' })).toEqual([
      '2026-03-04',
      '2026-03-09',
      '2026-03-11',
    ]);
  });

  it('supports monthly and yearly patterns', () => {
    expect(dates({ rrule: 'FREQ=MONTHLY;BYDAY=-1FR;COUNT=3' })).toEqual(['2026-03-27', '2026-04-24', '2026-05-29']);
    expect(dates({ rrule: 'FREQ=MONTHLY;BYMONTHDAY=31;COUNT=3' })).toEqual(['2026-03-31', '2026-05-31', '2026-07-31']);
    expect(dates({ rrule: 'FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;COUNT=3' })).toEqual([
      '2026-03-31',
      '2026-04-30',
      '2026-05-29',
    ]);
    expect(dates({ rrule: 'FREQ=YEARLY;BYWEEKNO=10;BYDAY=MO;COUNT=2' })).toEqual(['2026-03-02', '2027-03-08']);
    expect(dates({ rrule: 'FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;WKST=SU;COUNT=4' })).toEqual([
      '2026-03-03',
      '2026-03-05',
      '2026-03-17',
      '2026-03-19',
    ]);
    expect(dates({ rrule: 'FREQ=DAILY;BYDAY=SA,SU;BYMONTH=3;COUNT=4' })).toEqual([
      '2026-03-07',
      '2026-03-08',
      '2026-03-14',
      '2026-03-15',
    ]);
  });

  describe('BYSETPOS as RFC 5545 has it (issue 9, item 9)', () => {
    const london = { startDate: '2030-01-04', startTime: '10:00', timezone: 'Europe/London' } as const;

    it('a negative position beyond the set picks nothing', () => {
      // Friday 2030-01-04 starts a week whose set is that Friday alone: -2 picks nothing there.
      expect(dates({ ...london, rrule: 'FREQ=WEEKLY;BYDAY=MO,WE,FR;BYSETPOS=-2;COUNT=3' })).toEqual([
        '2030-01-09',
        '2030-01-16',
        '2030-01-23',
      ]);
      expect(errors({ ...london, rrule: 'FREQ=MONTHLY;BYMONTHDAY=1;BYSETPOS=-2;COUNT=3' })).toEqual([
        { path: 'rrule', message: 'the rule yields no occurrences on or after startDate' },
      ]);
    });

    it('a position given twice counts once', () => {
      expect(dates({ ...london, rrule: 'FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1,-1;COUNT=3' })).toEqual([
        '2030-01-31',
        '2030-02-28',
        '2030-03-29',
      ]);
    });

    it('picked days come in date order whatever the order of the positions; out-of-range ones pick nothing', () => {
      expect(dates({ ...london, rrule: 'FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1,30,1;COUNT=5' })).toEqual([
        '2030-01-31',
        '2030-02-01',
        '2030-02-28',
        '2030-03-01',
        '2030-03-29',
      ]);
      // January and February 2030 have 43 weekdays: the 30th is 2030-02-11.
      expect(
        dates({
          ...london,
          startDate: '2030-01-01',
          rrule: 'FREQ=YEARLY;BYMONTH=1,2;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1,30,1;COUNT=3',
        }),
      ).toEqual(['2030-01-01', '2030-02-11', '2030-02-28']);
    });

    it('plain and numbered BYDAY values together are a union: every Monday and the first Tuesday', () => {
      expect(dates({ rrule: 'FREQ=MONTHLY;BYDAY=MO,1TU;COUNT=7', startDate: '2026-03-01' })).toEqual([
        '2026-03-02',
        '2026-03-03',
        '2026-03-09',
        '2026-03-16',
        '2026-03-23',
        '2026-03-30',
        '2026-04-06',
      ]);
      // BYSETPOS picks from that union: the last of {Mondays, first Tuesday} of each month.
      expect(dates({ rrule: 'FREQ=MONTHLY;BYDAY=MO,1TU;BYSETPOS=-1;COUNT=2', startDate: '2026-03-01' })).toEqual([
        '2026-03-30',
        '2026-04-27',
      ]);
    });
  });

  it('gives end = start + durationMinutes and keeps the local wall time', () => {
    const [first] = expandRecurrence(ok({ durationMinutes: 45 }));
    expect(first).toEqual({
      localDate: '2026-03-02',
      start: new Date('2026-03-02T15:00:00.000Z'),
      end: new Date('2026-03-02T15:45:00.000Z'),
    });
  });

  it('returns fresh Date objects on every call', () => {
    const rec = ok({});
    const a = expandRecurrence(rec);
    (a[0] as { start: Date }).start.setTime(0);
    expect(expandRecurrence(rec)[0]?.start.toISOString()).toBe('2026-03-02T15:00:00.000Z');
  });
});
