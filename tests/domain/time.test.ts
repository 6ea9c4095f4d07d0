import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import {
  TimeZone,
  addDays,
  formatInZone,
  formatLocalDate,
  formatLocalTime,
  isValidTimeZone,
  localToUtc,
  normalizeIsoInstant,
  parseIsoInstant,
  parseLocalDate,
  parseLocalTime,
  utcToLocal,
  zoneOffsetMinutes,
} from '../../domain/time.ts';
import { IsoInstant } from '../../domain/shared.ts';

const at = (iso: string) => new Date(iso);
const utc = (local: { year: number; month: number; day: number; hour: number; minute: number }, tz: string) =>
  localToUtc(local, tz).toISOString();

describe('isValidTimeZone', () => {
  it('accepts IANA names, aliases and UTC', () => {
    for (const tz of [
      'UTC',
      'America/New_York',
      'Europe/London',
      'Australia/Sydney',
      'Asia/Kolkata',
      'Etc/GMT+5',
      'America/Argentina/Buenos_Aires',
      'America/Port-au-Prince',
      'US/Eastern',
    ]) {
      expect(isValidTimeZone(tz), tz).toBe(true);
    }
  });

  it('rejects garbage, offsets and padded names, also on a second (cached) call', () => {
    for (const tz of [
      '',
      ' ',
      'Mars/Olympus_Mons',
      'America/New_York ',
      ' UTC',
      '+05:00',
      'UTC+1;DROP',
      '../etc/passwd',
      'a'.repeat(80),
      'America//New_York',
      'Z',
    ]) {
      expect(isValidTimeZone(tz), JSON.stringify(tz)).toBe(false);
      expect(isValidTimeZone(tz), JSON.stringify(tz)).toBe(false);
    }
  });

  it('rejects non-strings without throwing', () => {
    expect(isValidTimeZone(42 as unknown as string)).toBe(false);
    expect(isValidTimeZone(undefined as unknown as string)).toBe(false);
  });

  it('is the predicate of the TimeZone codec', () => {
    expect(E.isRight(TimeZone.decode('Europe/London'))).toBe(true);
    expect(E.isLeft(TimeZone.decode('Nope/Zone'))).toBe(true);
    expect(E.isLeft(TimeZone.decode(12))).toBe(true);
  });
});

describe('zoneOffsetMinutes', () => {
  it('gives winter and summer offsets in both hemispheres', () => {
    expect(zoneOffsetMinutes(at('2026-01-15T12:00:00Z'), 'America/New_York')).toBe(-300);
    expect(zoneOffsetMinutes(at('2026-07-15T12:00:00Z'), 'America/New_York')).toBe(-240);
    expect(zoneOffsetMinutes(at('2026-01-15T12:00:00Z'), 'Europe/London')).toBe(0);
    expect(zoneOffsetMinutes(at('2026-07-15T12:00:00Z'), 'Europe/London')).toBe(60);
    expect(zoneOffsetMinutes(at('2026-01-15T12:00:00Z'), 'Australia/Sydney')).toBe(660);
    expect(zoneOffsetMinutes(at('2026-07-15T12:00:00Z'), 'Australia/Sydney')).toBe(600);
    expect(zoneOffsetMinutes(at('2026-01-15T12:00:00Z'), 'Asia/Kolkata')).toBe(330);
    expect(zoneOffsetMinutes(at('2026-07-15T12:00:00Z'), 'Asia/Kolkata')).toBe(330);
    expect(zoneOffsetMinutes(at('2026-07-15T12:00:00Z'), 'UTC')).toBe(0);
  });

  it('changes exactly at the 2026 transition instants', () => {
    // New York: 2026-03-08 02:00 EST = 07:00Z; 2026-11-01 02:00 EDT = 06:00Z.
    expect(zoneOffsetMinutes(at('2026-03-08T06:59:59.999Z'), 'America/New_York')).toBe(-300);
    expect(zoneOffsetMinutes(at('2026-03-08T07:00:00Z'), 'America/New_York')).toBe(-240);
    expect(zoneOffsetMinutes(at('2026-11-01T05:59:59Z'), 'America/New_York')).toBe(-240);
    expect(zoneOffsetMinutes(at('2026-11-01T06:00:00Z'), 'America/New_York')).toBe(-300);
    // London: 2026-03-29 01:00Z and 2026-10-25 01:00Z.
    expect(zoneOffsetMinutes(at('2026-03-29T00:59:59Z'), 'Europe/London')).toBe(0);
    expect(zoneOffsetMinutes(at('2026-03-29T01:00:00Z'), 'Europe/London')).toBe(60);
    expect(zoneOffsetMinutes(at('2026-10-25T00:59:59Z'), 'Europe/London')).toBe(60);
    expect(zoneOffsetMinutes(at('2026-10-25T01:00:00Z'), 'Europe/London')).toBe(0);
    // Sydney: ends 2026-04-05 03:00 AEDT = 04-04 16:00Z; starts 2026-10-04 02:00 AEST = 10-03 16:00Z.
    expect(zoneOffsetMinutes(at('2026-04-04T15:59:59Z'), 'Australia/Sydney')).toBe(660);
    expect(zoneOffsetMinutes(at('2026-04-04T16:00:00Z'), 'Australia/Sydney')).toBe(600);
    expect(zoneOffsetMinutes(at('2026-10-03T15:59:59Z'), 'Australia/Sydney')).toBe(600);
    expect(zoneOffsetMinutes(at('2026-10-03T16:00:00Z'), 'Australia/Sydney')).toBe(660);
  });

  it('handles historical offsets with seconds (local mean time)', () => {
    // Monrovia kept -0:44:30 until 1972.
    expect(zoneOffsetMinutes(at('1970-01-01T00:00:00Z'), 'Africa/Monrovia')).toBeCloseTo(-44.5, 10);
  });

  it('throws a RangeError for an invalid zone (callers validate first)', () => {
    expect(() => zoneOffsetMinutes(at('2026-01-01T00:00:00Z'), 'Nope/Zone')).toThrow(RangeError);
  });
});

describe('localToUtc', () => {
  it('converts ordinary wall times', () => {
    expect(utc({ year: 2026, month: 3, day: 2, hour: 10, minute: 0 }, 'America/New_York')).toBe(
      '2026-03-02T15:00:00.000Z',
    );
    expect(utc({ year: 2026, month: 7, day: 1, hour: 10, minute: 0 }, 'America/New_York')).toBe(
      '2026-07-01T14:00:00.000Z',
    );
    expect(utc({ year: 2026, month: 7, day: 1, hour: 10, minute: 0 }, 'Europe/London')).toBe(
      '2026-07-01T09:00:00.000Z',
    );
    expect(utc({ year: 2026, month: 1, day: 1, hour: 10, minute: 0 }, 'Australia/Sydney')).toBe(
      '2025-12-31T23:00:00.000Z',
    );
    expect(utc({ year: 2026, month: 3, day: 2, hour: 10, minute: 0 }, 'UTC')).toBe('2026-03-02T10:00:00.000Z');
  });

  it('New York spring-forward gap moves forward by the gap', () => {
    const tz = 'America/New_York';
    expect(utc({ year: 2026, month: 3, day: 8, hour: 1, minute: 59 }, tz)).toBe('2026-03-08T06:59:00.000Z');
    expect(utc({ year: 2026, month: 3, day: 8, hour: 2, minute: 0 }, tz)).toBe('2026-03-08T07:00:00.000Z');
    expect(utc({ year: 2026, month: 3, day: 8, hour: 2, minute: 30 }, tz)).toBe('2026-03-08T07:30:00.000Z'); // 03:30 EDT
    expect(utc({ year: 2026, month: 3, day: 8, hour: 3, minute: 0 }, tz)).toBe('2026-03-08T07:00:00.000Z');
    expect(utc({ year: 2026, month: 3, day: 8, hour: 3, minute: 30 }, tz)).toBe('2026-03-08T07:30:00.000Z');
  });

  it('New York fall-back ambiguity takes the first (EDT) instant', () => {
    const tz = 'America/New_York';
    expect(utc({ year: 2026, month: 11, day: 1, hour: 0, minute: 59 }, tz)).toBe('2026-11-01T04:59:00.000Z');
    expect(utc({ year: 2026, month: 11, day: 1, hour: 1, minute: 0 }, tz)).toBe('2026-11-01T05:00:00.000Z');
    expect(utc({ year: 2026, month: 11, day: 1, hour: 1, minute: 30 }, tz)).toBe('2026-11-01T05:30:00.000Z');
    expect(utc({ year: 2026, month: 11, day: 1, hour: 1, minute: 59 }, tz)).toBe('2026-11-01T05:59:00.000Z');
    expect(utc({ year: 2026, month: 11, day: 1, hour: 2, minute: 0 }, tz)).toBe('2026-11-01T07:00:00.000Z');
  });

  it('London gap (01:00-02:00) and overlap', () => {
    const tz = 'Europe/London';
    expect(utc({ year: 2026, month: 3, day: 29, hour: 0, minute: 30 }, tz)).toBe('2026-03-29T00:30:00.000Z');
    expect(utc({ year: 2026, month: 3, day: 29, hour: 1, minute: 30 }, tz)).toBe('2026-03-29T01:30:00.000Z'); // 02:30 BST
    expect(utc({ year: 2026, month: 3, day: 29, hour: 2, minute: 30 }, tz)).toBe('2026-03-29T01:30:00.000Z');
    expect(utc({ year: 2026, month: 10, day: 25, hour: 1, minute: 30 }, tz)).toBe('2026-10-25T00:30:00.000Z'); // BST
    expect(utc({ year: 2026, month: 10, day: 25, hour: 2, minute: 30 }, tz)).toBe('2026-10-25T02:30:00.000Z');
  });

  it('Sydney (southern hemisphere): overlap in April, gap in October', () => {
    const tz = 'Australia/Sydney';
    expect(utc({ year: 2026, month: 4, day: 5, hour: 1, minute: 30 }, tz)).toBe('2026-04-04T14:30:00.000Z');
    expect(utc({ year: 2026, month: 4, day: 5, hour: 2, minute: 30 }, tz)).toBe('2026-04-04T15:30:00.000Z'); // AEDT
    expect(utc({ year: 2026, month: 4, day: 5, hour: 3, minute: 30 }, tz)).toBe('2026-04-04T17:30:00.000Z'); // AEST
    expect(utc({ year: 2026, month: 10, day: 4, hour: 1, minute: 30 }, tz)).toBe('2026-10-03T15:30:00.000Z');
    expect(utc({ year: 2026, month: 10, day: 4, hour: 2, minute: 30 }, tz)).toBe('2026-10-03T16:30:00.000Z'); // 03:30 AEDT
    expect(utc({ year: 2026, month: 10, day: 4, hour: 3, minute: 30 }, tz)).toBe('2026-10-03T16:30:00.000Z');
  });

  it('Kolkata has a constant +05:30 offset', () => {
    const tz = 'Asia/Kolkata';
    expect(utc({ year: 2026, month: 3, day: 8, hour: 2, minute: 30 }, tz)).toBe('2026-03-07T21:00:00.000Z');
    expect(utc({ year: 2026, month: 11, day: 1, hour: 1, minute: 30 }, tz)).toBe('2026-10-31T20:00:00.000Z');
    expect(utc({ year: 2026, month: 7, day: 1, hour: 10, minute: 0 }, tz)).toBe('2026-07-01T04:30:00.000Z');
  });
});

describe('utcToLocal', () => {
  it('gives the wall clock and weekday (0 = Sunday)', () => {
    expect(utcToLocal(at('2026-03-02T15:00:00Z'), 'America/New_York')).toEqual({
      year: 2026,
      month: 3,
      day: 2,
      hour: 10,
      minute: 0,
      second: 0,
      weekday: 1,
    });
    expect(utcToLocal(at('2026-03-21T23:00:00Z'), 'Australia/Sydney')).toEqual({
      year: 2026,
      month: 3,
      day: 22,
      hour: 10,
      minute: 0,
      second: 0,
      weekday: 0,
    });
    expect(utcToLocal(at('2026-03-07T21:00:45Z'), 'Asia/Kolkata')).toMatchObject({
      day: 8,
      hour: 2,
      minute: 30,
      second: 45,
    });
  });

  it('shows both instants of an ambiguous hour with the same wall time', () => {
    expect(utcToLocal(at('2026-11-01T05:30:00Z'), 'America/New_York')).toMatchObject({
      hour: 1,
      minute: 30,
      weekday: 0,
    });
    expect(utcToLocal(at('2026-11-01T06:30:00Z'), 'America/New_York')).toMatchObject({
      hour: 1,
      minute: 30,
      weekday: 0,
    });
    expect(utcToLocal(at('2026-10-25T00:30:00Z'), 'Europe/London')).toMatchObject({ hour: 1, minute: 30 });
    expect(utcToLocal(at('2026-10-25T01:30:00Z'), 'Europe/London')).toMatchObject({ hour: 1, minute: 30 });
  });

  it('round-trips with localToUtc outside gaps', () => {
    const local = { year: 2031, month: 12, day: 31, hour: 23, minute: 59 };
    for (const tz of ['America/New_York', 'Europe/London', 'Australia/Sydney', 'Asia/Kolkata', 'Pacific/Auckland']) {
      expect(utcToLocal(localToUtc(local, tz), tz)).toMatchObject(local);
    }
  });
});

describe('parseLocalDate', () => {
  it('accepts real calendar dates', () => {
    expect(parseLocalDate('2026-03-02')).toEqual(E.right({ year: 2026, month: 3, day: 2 }));
    expect(parseLocalDate('2028-02-29')).toEqual(E.right({ year: 2028, month: 2, day: 29 }));
    expect(parseLocalDate('2000-02-29')).toEqual(E.right({ year: 2000, month: 2, day: 29 }));
    expect(parseLocalDate('2026-12-31')).toEqual(E.right({ year: 2026, month: 12, day: 31 }));
  });

  it('refuses impossible dates and loose formats', () => {
    for (const s of [
      '2026-02-29',
      '2100-02-29',
      '2026-04-31',
      '2026-13-01',
      '2026-00-10',
      '2026-01-00',
      '0000-01-01',
      '2026-1-05',
      '2026-03-02T00:00',
      ' 2026-03-02',
      '2026/03/02',
      '20260302',
      '',
    ]) {
      expect(E.isLeft(parseLocalDate(s)), s).toBe(true);
    }
    expect(E.isLeft(parseLocalDate(20260302 as unknown as string))).toBe(true);
  });

  it('formats back and adds days across month and year ends', () => {
    expect(formatLocalDate({ year: 2026, month: 3, day: 2 })).toBe('2026-03-02');
    expect(formatLocalDate(addDays({ year: 2026, month: 12, day: 31 }, 1))).toBe('2027-01-01');
    expect(formatLocalDate(addDays({ year: 2028, month: 3, day: 1 }, -1))).toBe('2028-02-29');
  });
});

describe('parseLocalTime', () => {
  it('accepts 00:00 to 23:59', () => {
    expect(parseLocalTime('00:00')).toEqual(E.right({ hour: 0, minute: 0 }));
    expect(parseLocalTime('10:00')).toEqual(E.right({ hour: 10, minute: 0 }));
    expect(parseLocalTime('23:59')).toEqual(E.right({ hour: 23, minute: 59 }));
    expect(formatLocalTime({ hour: 9, minute: 5 })).toBe('09:05');
  });

  it('refuses out-of-range and loose formats', () => {
    for (const s of ['24:00', '12:60', '9:00', '10:00:00', '10h00', 'ab:cd', '1000', ' 10:00', '']) {
      expect(E.isLeft(parseLocalTime(s)), s).toBe(true);
    }
  });
});

describe('formatInZone', () => {
  it('shows weekday, date, time and zone abbreviation', () => {
    expect(formatInZone(at('2026-03-02T15:00:00Z'), 'America/New_York')).toBe('Monday, March 2, 2026, 10:00 AM EST');
    expect(formatInZone(at('2026-03-09T14:00:00Z'), 'America/New_York')).toBe('Monday, March 9, 2026, 10:00 AM EDT');
    expect(formatInZone(at('2026-03-02T15:00:00Z'), 'UTC')).toBe('Monday, March 2, 2026, 3:00 PM UTC');
  });

  it('names the zone after a GMT offset where the locale has no abbreviation, in the zone’s own date', () => {
    expect(formatInZone(at('2026-03-02T15:00:00Z'), 'Asia/Kolkata')).toBe(
      'Monday, March 2, 2026, 8:30 PM GMT+5:30 (Asia/Kolkata)',
    );
    expect(formatInZone(at('2026-03-02T15:00:00Z'), 'Australia/Sydney')).toBe(
      'Tuesday, March 3, 2026, 2:00 AM GMT+11 (Australia/Sydney)',
    );
    expect(formatInZone(at('2030-03-02T09:00:00Z'), 'Europe/Madrid')).toBe(
      'Saturday, March 2, 2030, 10:00 AM GMT+1 (Europe/Madrid)',
    );
    expect(formatInZone(at('2030-03-02T09:00:00Z'), 'America/Mexico_City', 'es-MX')).toBe(
      'sábado, 2 de marzo de 2030, 3:00 a.m. GMT-6 (America/Mexico_City)',
    );
    expect(formatInZone(at('2030-03-02T09:00:00Z'), 'Europe/Madrid', 'es-ES')).toBe(
      'sábado, 2 de marzo de 2030, 10:00 CET',
    );
  });

  it('uses plain spaces only', () => {
    expect(formatInZone(at('2026-07-01T09:00:00Z'), 'Europe/London')).not.toMatch(/[\u202f\u00a0]/);
  });

  it('honours another locale and falls back to en-US for a malformed one', () => {
    expect(formatInZone(at('2026-03-02T15:00:00Z'), 'Europe/Berlin', 'de-DE')).toContain('Montag, 2. März 2026');
    expect(formatInZone(at('2026-03-02T15:00:00Z'), 'America/New_York', '!!')).toBe(
      'Monday, March 2, 2026, 10:00 AM EST',
    );
  });
});

describe('IsoInstant', () => {
  it('accepts Z and offsets, and normalises to ISO UTC', () => {
    expect(IsoInstant.decode('2026-03-02T15:00:00Z')).toEqual(E.right('2026-03-02T15:00:00.000Z'));
    expect(normalizeIsoInstant('2026-03-02T10:00:00-05:00')).toEqual(E.right('2026-03-02T15:00:00.000Z'));
    expect(normalizeIsoInstant('2026-03-02T20:30+05:30')).toEqual(E.right('2026-03-02T15:00:00.000Z'));
    expect(normalizeIsoInstant('2026-03-02T15:00:00.123456Z')).toEqual(E.right('2026-03-02T15:00:00.123Z'));
    expect(IsoInstant.decode('2026-03-01T23:30:00-05:00')).toEqual(E.right('2026-03-02T04:30:00.000Z'));
  });

  it('refuses local times, impossible dates and junk', () => {
    for (const s of [
      '2026-03-02T15:00:00',
      '2026-03-02',
      '2026-02-30T00:00:00Z',
      '2026-03-02T24:00:00Z',
      '2026-03-02T10:00:60Z',
      '2026-03-02T10:00:00+24:00',
      '2026-03-02 10:00:00Z',
      'yesterday',
      '',
    ]) {
      expect(E.isLeft(IsoInstant.decode(s)), s).toBe(true);
      expect(E.isLeft(parseIsoInstant(s)), s).toBe(true);
    }
    expect(E.isLeft(IsoInstant.decode(1767225600000))).toBe(true);
  });
});
