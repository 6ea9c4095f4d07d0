import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { annotate } from './annotate.ts';

export interface LocalDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

export interface LocalTime {
  readonly hour: number;
  readonly minute: number;
}

export interface LocalDateTime extends LocalDate, LocalTime {
  readonly second?: number;
}

/** Wall-clock fields of an instant in a zone. weekday: 0 = Sunday ... 6 = Saturday. */
export interface ZonedParts {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly weekday: number;
}

export const MS_PER_MINUTE = 60_000;
export const MS_PER_DAY = 86_400_000;

// ---------------------------------------------------------------------------
// Zones

const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/;
export const MAX_TIME_ZONE_LENGTH = 64;
const MAX_INVALID_CACHE = 1_000;

// One formatter per zone: constructing Intl.DateTimeFormat costs far more than formatting with it.
const offsetFormatters = new Map<string, Intl.DateTimeFormat>();
const invalidZones = new Set<string>();

const newOffsetFormatter = (tz: string): Intl.DateTimeFormat =>
  new Intl.DateTimeFormat('en-US-u-nu-latn', { timeZone: tz, timeZoneName: 'longOffset' });

/** True for IANA zone names (and aliases such as 'UTC', 'US/Eastern') the runtime's Intl knows. */
export const isValidTimeZone = (tz: string): boolean => {
  if (typeof tz !== 'string') return false;
  if (offsetFormatters.has(tz)) return true;
  if (invalidZones.has(tz)) return false;
  let valid = false;
  if (tz.length <= MAX_TIME_ZONE_LENGTH && ZONE_NAME.test(tz)) {
    try {
      offsetFormatters.set(tz, newOffsetFormatter(tz));
      valid = true;
    } catch {
      valid = false;
    }
  }
  if (!valid) {
    // Bounded: garbage input must not grow memory without limit.
    if (invalidZones.size >= MAX_INVALID_CACHE) invalidZones.clear();
    invalidZones.add(tz);
  }
  return valid;
};

const offsetFormatter = (tz: string): Intl.DateTimeFormat => {
  const cached = offsetFormatters.get(tz);
  if (cached !== undefined) return cached;
  if (!isValidTimeZone(tz)) throw new RangeError(`invalid time zone: ${tz}`);
  return offsetFormatters.get(tz) as Intl.DateTimeFormat;
};

const digit = (s: string, i: number): number => s.charCodeAt(i) - 48;

/**
 * Offset (local minus UTC) in ms at the instant `ms`. Parses ICU's "GMT+05:30" / "GMT-04:56:02" / "GMT"
 * by character codes: this runs once or twice per occurrence when expanding series.
 */
const offsetMsAt = (ms: number, tz: string): number => {
  const s = offsetFormatter(tz).format(ms);
  const g = s.lastIndexOf('GMT');
  if (g < 0) throw new RangeError(`unexpected offset format from Intl: ${s}`);
  let i = g + 3;
  if (i >= s.length) return 0;
  const signChar = s.charCodeAt(i);
  const sign = signChar === 45 || signChar === 0x2212 ? -1 : 1;
  i += 1;
  let hours = 0;
  while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) {
    hours = hours * 10 + digit(s, i);
    i += 1;
  }
  let minutes = 0;
  let seconds = 0;
  if (s.charCodeAt(i) === 58) {
    minutes = digit(s, i + 1) * 10 + digit(s, i + 2);
    i += 3;
    if (s.charCodeAt(i) === 58) seconds = digit(s, i + 1) * 10 + digit(s, i + 2);
  }
  return sign * ((hours * 60 + minutes) * 60 + seconds) * 1000;
};

// Offsets sampled at UTC midnights, memoised per zone. They are facts about the zone, so the cache is exact;
// it only bounds memory.
const gridOffsets = new Map<string, Map<number, number>>();
const MAX_GRID_ENTRIES = 50_000;

const gridOffset = (tz: string, dayIndex: number): number => {
  let zone = gridOffsets.get(tz);
  if (zone === undefined) {
    zone = new Map();
    gridOffsets.set(tz, zone);
  }
  const cached = zone.get(dayIndex);
  if (cached !== undefined) return cached;
  const offset = offsetMsAt(dayIndex * MS_PER_DAY, tz);
  if (zone.size >= MAX_GRID_ENTRIES) zone.clear();
  zone.set(dayIndex, offset);
  return offset;
};

/** UTC offset in minutes (local minus UTC) of `tz` at `instant`. Throws RangeError for an invalid zone. */
export const zoneOffsetMinutes = (instant: Date, tz: string): number =>
  offsetMsAt(instant.getTime(), tz) / MS_PER_MINUTE;

/**
 * The instant at which the wall clock in `tz` shows `wallMs` (a local date-time encoded as if it were UTC).
 * RFC 5545 §3.3.5: a time inside a gap is read with the offset in force before the gap, so it moves forward by
 * the gap's length; an ambiguous time takes the first (earlier) of its two instants.
 * Offsets are sampled at the UTC midnights bracketing wallMs ± 1 day (any real offset is below 24 h), which
 * assumes no two transitions within three days — true of every zone in the tz database.
 */
export const localMsToUtcMs = (wallMs: number, tz: string): number => {
  const day = Math.floor(wallMs / MS_PER_DAY);
  const before = gridOffset(tz, day - 1);
  const after = gridOffset(tz, day + 2);
  if (before === after) return wallMs - before;
  const early = wallMs - before;
  const late = wallMs - after;
  const earlyValid = offsetMsAt(early, tz) === before;
  const lateValid = offsetMsAt(late, tz) === after;
  if (earlyValid && lateValid) return Math.min(early, late);
  if (earlyValid) return early;
  if (lateValid) return late;
  return early;
};

/** Milliseconds of a local date-time read as UTC; correct for years 0-99 too (Date.UTC maps those to 19xx). */
export const wallClockMs = (l: LocalDateTime): number => {
  const ms = Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second ?? 0);
  if (l.year >= 0 && l.year < 100) {
    const d = new Date(ms);
    d.setUTCFullYear(l.year, l.month - 1, l.day);
    return d.getTime();
  }
  return ms;
};

/** Local wall time in `tz` to the real instant (gap: moved forward; ambiguous: the earlier instant). */
export const localToUtc = (local: LocalDateTime, tz: string): Date => new Date(localMsToUtcMs(wallClockMs(local), tz));

export const utcToLocal = (instant: Date, tz: string): ZonedParts => {
  const ms = instant.getTime();
  const wall = new Date(ms + offsetMsAt(ms, tz));
  return {
    year: wall.getUTCFullYear(),
    month: wall.getUTCMonth() + 1,
    day: wall.getUTCDate(),
    hour: wall.getUTCHours(),
    minute: wall.getUTCMinutes(),
    second: wall.getUTCSeconds(),
    weekday: wall.getUTCDay(),
  };
};

// ---------------------------------------------------------------------------
// Local dates and times

export const isLeapYear = (year: number): boolean => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

export const daysInMonth = (year: number, month: number): number => {
  switch (month) {
    case 2:
      return isLeapYear(year) ? 29 : 28;
    case 4:
    case 6:
    case 9:
    case 11:
      return 30;
    default:
      return 31;
  }
};

export const isRealDate = (year: number, month: number, day: number): boolean =>
  Number.isInteger(year) &&
  Number.isInteger(month) &&
  Number.isInteger(day) &&
  year >= 1 &&
  year <= 9999 &&
  month >= 1 &&
  month <= 12 &&
  day >= 1 &&
  day <= daysInMonth(year, month);

const LOCAL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const LOCAL_TIME = /^(\d{2}):(\d{2})$/;

/** Strict 'YYYY-MM-DD' (years 0001-9999) that names a real calendar date. */
export const parseLocalDate = (s: string): E.Either<string, LocalDate> => {
  if (typeof s !== 'string') return E.left('expected a date string YYYY-MM-DD');
  const m = LOCAL_DATE.exec(s);
  if (m === null) return E.left(`expected a date as YYYY-MM-DD, got '${s}'`);
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (!isRealDate(year, month, day)) return E.left(`'${s}' is not a real calendar date`);
  return E.right({ year, month, day });
};

/** Strict 'HH:MM', 00:00 to 23:59. */
export const parseLocalTime = (s: string): E.Either<string, LocalTime> => {
  if (typeof s !== 'string') return E.left('expected a time string HH:MM');
  const m = LOCAL_TIME.exec(s);
  if (m === null) return E.left(`expected a time as HH:MM, got '${s}'`);
  const hour = Number(m[1]);
  const minute = Number(m[2]);
  if (hour > 23 || minute > 59) return E.left(`'${s}' is not a time between 00:00 and 23:59`);
  return E.right({ hour, minute });
};

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));
const pad4 = (n: number): string => (n >= 1000 ? String(n) : String(n).padStart(4, '0'));

export const formatLocalDate = (d: LocalDate): string => `${pad4(d.year)}-${pad2(d.month)}-${pad2(d.day)}`;

export const formatLocalTime = (t: LocalTime): string => `${pad2(t.hour)}:${pad2(t.minute)}`;

/** 'YYYY-MM-DD' of a wall-clock value encoded as UTC milliseconds. */
export const wallMsToLocalDate = (wallMs: number): string => {
  const d = new Date(wallMs);
  return `${pad4(d.getUTCFullYear())}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
};

export const addDays = (d: LocalDate, days: number): LocalDate => {
  const x = new Date(wallClockMs({ ...d, hour: 0, minute: 0 }) + days * MS_PER_DAY);
  return { year: x.getUTCFullYear(), month: x.getUTCMonth() + 1, day: x.getUTCDate() };
};

// ---------------------------------------------------------------------------
// Display

const displayFormatters = new Map<string, { readonly date: Intl.DateTimeFormat; readonly time: Intl.DateTimeFormat }>();
const MAX_DISPLAY_FORMATTERS = 500;

const displayFormatter = (tz: string, locale: string) => {
  const key = `${locale}|${tz}`;
  const cached = displayFormatters.get(key);
  if (cached !== undefined) return cached;
  if (!isValidTimeZone(tz)) throw new RangeError(`invalid time zone: ${tz}`);
  const make = (loc: string) => ({
    date: new Intl.DateTimeFormat(loc, {
      timeZone: tz,
      weekday: 'long',
      year: 'numeric',
      month: 'long',
      day: 'numeric',
    }),
    time: new Intl.DateTimeFormat(loc, { timeZone: tz, hour: 'numeric', minute: '2-digit', timeZoneName: 'short' }),
  });
  let made;
  try {
    made = make(locale);
  } catch {
    // A malformed locale tag falls back to en-US rather than failing an email.
    made = make('en-US');
  }
  if (displayFormatters.size >= MAX_DISPLAY_FORMATTERS) displayFormatters.clear();
  displayFormatters.set(key, made);
  return made;
};

const NARROW_SPACES = /[\u202f\u00a0]/g;

/** A short zone name that is only an offset ("GMT+1", "UTC-5:30"): it names no zone. */
const OFFSET_ZONE_NAME = /^(?:GMT|UTC)[+\-\u2212]\d/;

/**
 * Human date and time with its zone, e.g. "Monday, March 2, 2026, 10:00 AM EST". Where the locale has no
 * abbreviation for the zone, ICU shows a GMT offset, which names an offset rather than the zone; the IANA zone id
 * follows it then: "Saturday, March 2, 2030, 10:00 AM GMT+1 (Europe/Madrid)". ICU's narrow no-break spaces become
 * plain spaces so plain-text emails render the same everywhere. Throws RangeError for an invalid zone.
 */
export const formatInZone = (instant: Date, tz: string, locale = 'en-US'): string => {
  const f = displayFormatter(tz, locale);
  const zoneName = f.time.formatToParts(instant).find((part) => part.type === 'timeZoneName')?.value ?? '';
  const zoneId = OFFSET_ZONE_NAME.test(zoneName) ? ` (${tz})` : '';
  return `${f.date.format(instant)}, ${f.time.format(instant)}${zoneId}`.replace(NARROW_SPACES, ' ');
};

// ---------------------------------------------------------------------------
// Instants

const ISO_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/**
 * RFC 3339 date-time with a 'Z' or '±HH:MM' offset (seconds and fraction optional; fraction beyond
 * milliseconds is truncated). Calendar fields are checked strictly: Date.parse would roll 02-30 over to March.
 */
export const parseIsoInstant = (s: string): E.Either<string, Date> => {
  if (typeof s !== 'string') return E.left('expected an ISO 8601 date-time string');
  const m = ISO_INSTANT.exec(s);
  if (m === null) return E.left(`expected an ISO 8601 date-time with Z or an offset, got '${s}'`);
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (!isRealDate(year, month, day) || hour > 23 || minute > 59 || second > 59) {
    return E.left(`'${s}' is not a real date-time`);
  }
  const millis = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  let offsetMs = 0;
  if (m[8] === undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return E.left(`'${s}' has an invalid offset`);
    offsetMs = (m[9] === '-' ? -1 : 1) * (oh * 60 + om) * MS_PER_MINUTE;
  }
  return E.right(new Date(wallClockMs({ year, month, day, hour, minute, second }) + millis - offsetMs));
};

/** The instant as `toISOString()` (UTC, milliseconds, 'Z'), the normal form for storage and comparison. */
export const normalizeIsoInstant = (s: string): E.Either<string, string> =>
  E.map((d: Date) => d.toISOString())(parseIsoInstant(s));

// ---------------------------------------------------------------------------
// Codecs

export interface TimeZoneBrand {
  readonly TimeZone: unique symbol;
}

export const TimeZone = t.brand(t.string, (s): s is t.Branded<string, TimeZoneBrand> => isValidTimeZone(s), 'TimeZone');
export type TimeZone = t.TypeOf<typeof TimeZone>;

/** A zone name as bodies and events carry it; where it is used, isValidTimeZone decides whether the runtime knows it. */
export const TimeZoneName = annotate(t.string, {
  name: 'TimeZone',
  minLength: 1,
  maxLength: MAX_TIME_ZONE_LENGTH,
  description: 'IANA time zone name, used for display and emails.',
  examples: ['UTC', 'Europe/Amsterdam', 'America/New_York'],
});
