import * as E from 'fp-ts/lib/Either.js';
import { LAST_SUPPORTED_DAY, daysFromCivil, expandDays, firstOccurrenceSearchEnd } from './recurrence-engine.ts';
import type { ByDay, DateRule, Freq } from './recurrence-engine.ts';
import {
  MS_PER_DAY,
  MS_PER_MINUTE,
  addDays,
  formatLocalDate,
  formatLocalTime,
  isRealDate,
  isValidTimeZone,
  localMsToUtcMs,
  parseLocalDate,
  parseLocalTime,
  wallClockMs,
  wallMsToLocalDate,
  zoneOffsetMinutes,
} from './time.ts';
import type { LocalDate, LocalTime, TimeZone } from './time.ts';

export const MAX_RRULE_LENGTH = 256;
export const MAX_OCCURRENCES = 500;
export const MAX_EXCLUSIONS = 500;
/** First to last occurrence, in local calendar days: two years including a leap day. */
export const MAX_SPAN_DAYS = 731;
export const MIN_DURATION_MINUTES = 1;
export const MAX_DURATION_MINUTES = 1440;

export interface RecurrenceError {
  readonly path: string;
  readonly message: string;
}

export interface RecurrenceInput {
  readonly rrule: string;
  readonly startDate: string;
  readonly startTime: string;
  readonly durationMinutes: number;
  readonly timezone: string;
  readonly exclusions?: ReadonlyArray<string>;
}

declare const recurrenceBrand: unique symbol;

/**
 * A validated series pattern. Only parseRecurrence makes one; its fields are the normalised input (rrule upper
 * case without 'RRULE:', exclusions sorted and unique), so passing it back to parseRecurrence round-trips.
 */
export interface Recurrence {
  readonly rrule: string;
  readonly startDate: string;
  readonly startTime: string;
  readonly durationMinutes: number;
  readonly timezone: TimeZone;
  readonly exclusions: ReadonlyArray<string>;
  readonly [recurrenceBrand]: true;
}

/**
 * One meeting of a series. `localDate` is the occurrence's own local date in the series' zone (before any gap
 * shift moved its start); at most one occurrence per local date exists, so it is the stable slot key.
 */
export interface Occurrence {
  readonly localDate: string;
  readonly start: Date;
  readonly end: Date;
}

export const occurrenceKey = (o: Occurrence): string => o.localDate;

// ---------------------------------------------------------------------------
// RRULE value parsing (strict: rrule.js's parser accepted '1abc' as 1 and unknown parts silently)

type Until = { readonly kind: 'date'; readonly date: LocalDate } | { readonly kind: 'utc'; readonly instantMs: number };

/** The engine's date rule, plus how the rule ends and its normalised text. */
interface Rule extends DateRule {
  readonly normalized: string;
  readonly count: number | undefined;
  readonly until: Until | undefined;
}

const WEEKDAY_CODES: Readonly<Record<string, number>> = { MO: 0, TU: 1, WE: 2, TH: 3, FR: 4, SA: 5, SU: 6 };
const KNOWN_PARTS = new Set([
  'FREQ',
  'INTERVAL',
  'COUNT',
  'UNTIL',
  'BYDAY',
  'BYMONTH',
  'BYMONTHDAY',
  'BYYEARDAY',
  'BYWEEKNO',
  'BYSETPOS',
  'WKST',
  'BYHOUR',
  'BYMINUTE',
  'BYSECOND',
]);
const BYDAY_ITEM = /^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$/;
const SIGNED_INT = /^[+-]?\d{1,3}$/;
const POSITIVE_INT = /^[1-9]\d{0,5}$/;
const UNTIL_DATE = /^(\d{4})(\d{2})(\d{2})$/;
const UNTIL_UTC = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

const parseIntList = (
  name: string,
  value: string,
  min: number,
  max: number,
  signed: boolean,
  errors: string[],
): ReadonlyArray<number> | undefined => {
  const out: number[] = [];
  for (const item of value.split(',')) {
    const n = SIGNED_INT.test(item) ? Number(item) : Number.NaN;
    const abs = Math.abs(n);
    if (Number.isNaN(n) || abs < min || abs > max || (!signed && n < 0)) {
      errors.push(
        signed
          ? `${name} values must be between ${min} and ${max} or -${max} and -${min}, got '${item}'`
          : `${name} values must be between ${min} and ${max}, got '${item}'`,
      );
      return undefined;
    }
    out.push(n);
  }
  return out;
};

/** The rule text without its optional `RRULE:` prefix and trailing `;`, or why it is no rule value at all. */
const ruleText = (raw: unknown): E.Either<ReadonlyArray<string>, string> => {
  if (typeof raw !== 'string') return E.left(['rrule must be a string']);
  if (raw.length > MAX_RRULE_LENGTH) return E.left([`rrule must be at most ${MAX_RRULE_LENGTH} characters`]);
  if (/[\r\n]/.test(raw)) return E.left(['rrule must be a single RRULE value, not multiple lines']);
  let text = raw.trim().toUpperCase();
  if (text.includes('DTSTART')) {
    return E.left(['rrule must not contain DTSTART: the start comes from startDate, startTime and timezone']);
  }
  if (text.startsWith('RRULE:')) text = text.slice('RRULE:'.length);
  if (text.endsWith(';')) text = text.slice(0, -1);
  if (text === '') return E.left(['rrule is empty']);
  return E.right(text);
};

/** The rule's parts by name: each known, given once and with a value. */
const ruleParts = (text: string): E.Either<ReadonlyArray<string>, ReadonlyMap<string, string>> => {
  const errors: string[] = [];
  const parts = new Map<string, string>();
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    if (!KNOWN_PARTS.has(key)) {
      errors.push(key === '' ? 'rrule has an empty part' : `unknown or unsupported rule part '${key}'`);
    } else if (parts.has(key)) {
      errors.push(`${key} is given more than once`);
    } else if (value === '') {
      errors.push(`${key} has no value`);
    } else {
      parts.set(key, value);
    }
  }
  return errors.length > 0 ? E.left(errors) : E.right(parts);
};

type Parts = ReadonlyMap<string, string>;

const parseFreq = (freqText: string | undefined, errors: string[]): Freq | undefined => {
  switch (freqText) {
    case undefined:
      errors.push('FREQ is required');
      return undefined;
    case 'YEARLY':
    case 'MONTHLY':
    case 'WEEKLY':
    case 'DAILY':
      return freqText;
    case 'HOURLY':
    case 'MINUTELY':
    case 'SECONDLY':
      errors.push(`FREQ=${freqText} is not allowed: a series has at most one occurrence per day`);
      return undefined;
    default:
      errors.push(`FREQ must be YEARLY, MONTHLY, WEEKLY or DAILY, got '${freqText}'`);
      return undefined;
  }
};

const parseInterval = (intervalText: string | undefined, errors: string[]): number => {
  if (intervalText === undefined) return 1;
  if (POSITIVE_INT.test(intervalText)) return Number(intervalText);
  errors.push(`INTERVAL must be a positive integer below 1000000, got '${intervalText}'`);
  return 1;
};

const parseCount = (countText: string | undefined, errors: string[]): number | undefined => {
  if (countText === undefined) return undefined;
  if (!/^[1-9]\d*$/.test(countText)) errors.push(`COUNT must be a positive integer, got '${countText}'`);
  else if (countText.length > 3 || Number(countText) > MAX_OCCURRENCES) {
    errors.push(`COUNT must be at most ${MAX_OCCURRENCES}, got ${countText}`);
  } else return Number(countText);
  return undefined;
};

const parseUntil = (untilText: string | undefined, errors: string[]): Until | undefined => {
  if (untilText === undefined) return undefined;
  const d = UNTIL_DATE.exec(untilText);
  const u = d === null ? UNTIL_UTC.exec(untilText) : null;
  if (d !== null) {
    const date = { year: Number(d[1]), month: Number(d[2]), day: Number(d[3]) };
    if (isRealDate(date.year, date.month, date.day)) return { kind: 'date', date };
    errors.push(`UNTIL '${untilText}' is not a real date`);
  } else if (u !== null) {
    const f = u.slice(1).map(Number) as [number, number, number, number, number, number];
    if (isRealDate(f[0], f[1], f[2]) && f[3] <= 23 && f[4] <= 59 && f[5] <= 59) {
      return {
        kind: 'utc',
        instantMs: wallClockMs({ year: f[0], month: f[1], day: f[2], hour: f[3], minute: f[4], second: f[5] }),
      };
    }
    errors.push(`UNTIL '${untilText}' is not a real date-time`);
  } else {
    errors.push(`UNTIL must be a date (YYYYMMDD) or a UTC date-time (YYYYMMDDTHHMMSSZ), got '${untilText}'`);
  }
  return undefined;
};

const parseByDay = (bydayText: string | undefined, errors: string[]): ByDay[] | undefined => {
  if (bydayText === undefined) return undefined;
  const byday: ByDay[] = [];
  for (const item of bydayText.split(',')) {
    const m = BYDAY_ITEM.exec(item);
    const n = m?.[1] === undefined ? undefined : Number(m[1]);
    if (m === null || (n !== undefined && (n === 0 || Math.abs(n) > 53))) {
      errors.push(`BYDAY values must be weekdays like MO or 2TU or -1FR, got '${item}'`);
      return undefined;
    }
    byday.push({ weekday: WEEKDAY_CODES[m[2] as string] as number, n });
  }
  return byday;
};

const parseWkst = (wkstText: string | undefined, errors: string[]): number | undefined => {
  if (wkstText === undefined) return undefined;
  const wkst = WEEKDAY_CODES[wkstText];
  if (wkst === undefined) errors.push(`WKST must be a weekday (MO..SU), got '${wkstText}'`);
  return wkst;
};

/** RFC 5545 §3.3.10 restrictions on which BYxxx parts go with which FREQ. */
const checkCombinations = (
  parts: Parts,
  freq: Freq | undefined,
  byday: ReadonlyArray<ByDay> | undefined,
  bysetpos: ReadonlyArray<number> | undefined,
  errors: string[],
): void => {
  if (freq !== undefined) {
    if (parts.has('BYWEEKNO') && freq !== 'YEARLY') errors.push('BYWEEKNO is only allowed with FREQ=YEARLY');
    if (parts.has('BYYEARDAY') && freq !== 'YEARLY') errors.push('BYYEARDAY is only allowed with FREQ=YEARLY');
    if (parts.has('BYMONTHDAY') && freq === 'WEEKLY') errors.push('BYMONTHDAY is not allowed with FREQ=WEEKLY');
    if (byday?.some((d) => d.n !== undefined)) {
      if (freq !== 'MONTHLY' && freq !== 'YEARLY') {
        errors.push('numbered BYDAY values (like 2TU) need FREQ=MONTHLY or FREQ=YEARLY');
      } else if (freq === 'YEARLY' && parts.has('BYWEEKNO')) {
        errors.push('numbered BYDAY values are not allowed together with BYWEEKNO');
      } else if (freq === 'MONTHLY' && byday.some((d) => d.n !== undefined && Math.abs(d.n) > 5)) {
        errors.push('numbered BYDAY values must be between -5 and 5 with FREQ=MONTHLY');
      }
    }
  }
  if (bysetpos !== undefined && ![...parts.keys()].some((k) => k.startsWith('BY') && k !== 'BYSETPOS')) {
    errors.push('BYSETPOS needs another BYxxx part');
  }
};

/** Every error of a rule is reported, in the order of its parts' checks. */
const parseRule = (raw: unknown): E.Either<ReadonlyArray<string>, Rule> => {
  const text = ruleText(raw);
  if (E.isLeft(text)) return text;
  const split = ruleParts(text.right);
  if (E.isLeft(split)) return split;
  const parts = split.right;
  const errors: string[] = [];
  for (const key of ['BYHOUR', 'BYMINUTE', 'BYSECOND']) {
    if (parts.has(key)) errors.push(`${key} is not allowed: the time of day comes from startTime`);
  }
  const freq = parseFreq(parts.get('FREQ'), errors);
  const interval = parseInterval(parts.get('INTERVAL'), errors);
  const count = parseCount(parts.get('COUNT'), errors);
  const until = parseUntil(parts.get('UNTIL'), errors);
  if (parts.has('COUNT') && parts.has('UNTIL')) errors.push('COUNT and UNTIL must not both be given');
  if (!parts.has('COUNT') && !parts.has('UNTIL')) {
    errors.push('the rule must end: give COUNT or UNTIL (infinite series are not allowed)');
  }
  const byday = parseByDay(parts.get('BYDAY'), errors);
  const list = (key: string, min: number, max: number, signed: boolean) => {
    const v = parts.get(key);
    return v === undefined ? undefined : parseIntList(key, v, min, max, signed, errors);
  };
  const bymonth = list('BYMONTH', 1, 12, false);
  const bymonthday = list('BYMONTHDAY', 1, 31, true);
  const byyearday = list('BYYEARDAY', 1, 366, true);
  const byweekno = list('BYWEEKNO', 1, 53, true);
  const bysetpos = list('BYSETPOS', 1, 366, true);
  const wkst = parseWkst(parts.get('WKST'), errors);
  checkCombinations(parts, freq, byday, bysetpos, errors);
  if (errors.length > 0 || freq === undefined) return E.left(errors);
  const normalized = text.right;
  return E.right({
    normalized,
    freq,
    interval,
    count,
    until,
    byday,
    bymonth,
    bymonthday,
    byyearday,
    byweekno,
    bysetpos,
    wkst,
  });
};

// Parsed rules are immutable; memoising keeps repeated expansion of stored series cheap.
const ruleCache = new Map<string, Rule>();
const MAX_RULE_CACHE = 1_000;

const cachedRule = (normalized: string): Rule | undefined => {
  const hit = ruleCache.get(normalized);
  if (hit !== undefined) return hit;
  const parsed = parseRule(normalized);
  if (E.isLeft(parsed)) return undefined;
  if (ruleCache.size >= MAX_RULE_CACHE) ruleCache.clear();
  ruleCache.set(normalized, parsed.right);
  return parsed.right;
};

// ---------------------------------------------------------------------------
// Expansion in floating time

type ExpansionProblem =
  | { readonly kind: 'none' }
  | { readonly kind: 'empty' }
  | { readonly kind: 'untilTooLate' }
  | { readonly kind: 'firstTooLate'; readonly first: string }
  | { readonly kind: 'untilBeforeFirst'; readonly first: string }
  | { readonly kind: 'tooMany' }
  | { readonly kind: 'spanTooLong' };

const NO_PROBLEM: ExpansionProblem = { kind: 'none' };

interface Expansion {
  /** Wall-clock times (as UTC ms) and their real instants, in order, before exclusions. */
  readonly walls: ReadonlyArray<number>;
  readonly starts: ReadonlyArray<number>;
  readonly problem: ExpansionProblem;
}

/** Days from startDate the expansion may reach: the first occurrence within 731 days, the last within 731 more. */
const HORIZON_DAYS = 2 * MAX_SPAN_DAYS;

/**
 * Expands the rule in floating local time (domain/recurrence-engine.ts gives the days, each at startTime) and
 * converts each wall time to its instant in the zone.
 * UNTIL semantics (RFC 5545 §3.3.10 with a zoned DTSTART):
 * - a date (20261231) is the last allowed local date: every occurrence on that date in the series' zone counts;
 * - a UTC date-time (20261231T235959Z) is compared with each occurrence's real start instant: an occurrence
 *   counts when it starts at or before it (days up to the one after its local date are expanded: the offset may
 *   differ between the two).
 * UNTIL may be at most 1462 days (2 × 731) after startDate, the furthest a valid series can reach.
 * When nothing lies within the horizon, the first occurrence is looked for until the rule's periods repeat in the
 * 400-year calendar cycle (or 9999-12-31), so a refusal can say why: none at all, the first too far, or UNTIL
 * before it.
 */
const expand = (rule: Rule, start: LocalDate, time: LocalTime, tz: string, validate: boolean): Expansion => {
  const startDay = daysFromCivil(start.year, start.month, start.day);
  const timeMs = (time.hour * 60 + time.minute) * MS_PER_MINUTE;
  const horizonDay = startDay + HORIZON_DAYS;
  let lastDay = horizonDay;
  let untilInstant: number | undefined;
  const until = rule.until;
  if (until !== undefined) {
    let untilDay: number;
    switch (until.kind) {
      case 'date':
        untilDay = daysFromCivil(until.date.year, until.date.month, until.date.day);
        lastDay = Math.min(lastDay, untilDay);
        break;
      case 'utc': {
        untilInstant = until.instantMs;
        const untilWall = until.instantMs + zoneOffsetMinutes(new Date(until.instantMs), tz) * MS_PER_MINUTE;
        untilDay = Math.floor(untilWall / MS_PER_DAY);
        lastDay = Math.min(lastDay, untilDay + 1);
        break;
      }
      default: {
        const never: never = until;
        return never;
      }
    }
    if (validate && untilDay > horizonDay) return { walls: [], starts: [], problem: { kind: 'untilTooLate' } };
  }
  lastDay = Math.min(lastDay, LAST_SUPPORTED_DAY);

  const walls: number[] = [];
  const starts: number[] = [];
  let problem: ExpansionProblem = NO_PROBLEM;
  let firstDay = 0;
  const count = rule.count;
  expandDays(rule, startDay, lastDay, (day) => {
    const wall = day * MS_PER_DAY + timeMs;
    const instant = localMsToUtcMs(wall, tz);
    if (untilInstant !== undefined && instant > untilInstant) return false;
    if (walls.length === 0) {
      firstDay = day;
      if (day - startDay > MAX_SPAN_DAYS) {
        problem = { kind: 'firstTooLate', first: wallMsToLocalDate(wall) };
        return false;
      }
    } else if (day - firstDay > MAX_SPAN_DAYS) {
      problem = { kind: 'spanTooLong' };
      return false;
    }
    if (walls.length === MAX_OCCURRENCES) {
      problem = { kind: 'tooMany' };
      return false;
    }
    walls.push(wall);
    starts.push(instant);
    return count === undefined || walls.length < count;
  });

  if (!validate || problem.kind !== 'none') return { walls, starts, problem };
  if (walls.length === 0) {
    let first: number | undefined;
    expandDays(rule, startDay, firstOccurrenceSearchEnd(rule, startDay), (day) => {
      first = day;
      return false;
    });
    if (first === undefined) return { walls, starts, problem: { kind: 'empty' } };
    const firstDate = wallMsToLocalDate(first * MS_PER_DAY);
    return {
      walls,
      starts,
      problem:
        first - startDay > MAX_SPAN_DAYS
          ? { kind: 'firstTooLate', first: firstDate }
          : { kind: 'untilBeforeFirst', first: firstDate },
    };
  }
  // Every rule with one occurrence recurs for ever, so COUNT not reached within the horizon means the rest lie
  // beyond it, more than 731 days after the first.
  if (count !== undefined && walls.length < count) return { walls, starts, problem: { kind: 'spanTooLong' } };
  return { walls, starts, problem };
};

const toOccurrences = (x: Expansion, durationMinutes: number, exclusions: ReadonlySet<string>): Occurrence[] => {
  const out: Occurrence[] = [];
  const durationMs = durationMinutes * MS_PER_MINUTE;
  for (let i = 0; i < x.walls.length; i++) {
    const localDate = wallMsToLocalDate(x.walls[i] as number);
    if (exclusions.has(localDate)) continue;
    const start = x.starts[i] as number;
    out.push({ localDate, start: new Date(start), end: new Date(start + durationMs) });
  }
  return out;
};

const problemMessage = (problem: Exclude<ExpansionProblem, { kind: 'none' }>, start: LocalDate): string => {
  switch (problem.kind) {
    case 'empty':
      return 'the rule yields no occurrences on or after startDate';
    case 'untilTooLate':
      return `UNTIL must be at most ${2 * MAX_SPAN_DAYS} days after startDate (a series spans at most ${MAX_SPAN_DAYS} days)`;
    case 'firstTooLate':
      return `the first occurrence, ${problem.first}, is after the two-year horizon (${formatLocalDate(addDays(start, MAX_SPAN_DAYS))}, ${MAX_SPAN_DAYS} days after startDate)`;
    case 'untilBeforeFirst':
      return `UNTIL is before the first occurrence, ${problem.first}`;
    case 'tooMany':
      return `the rule yields more than ${MAX_OCCURRENCES} occurrences`;
    case 'spanTooLong':
      return `the occurrences would span more than ${MAX_SPAN_DAYS} days (2 years) from first to last`;
    default: {
      const never: never = problem;
      return never;
    }
  }
};

// ---------------------------------------------------------------------------
// Public API

/**
 * Validates a series pattern. Every field error is reported (path = field name, `exclusions[i]` for one
 * exclusion); rule-level limits are checked on the rule's own occurrences, before exclusions (exclusions
 * remove occurrences without extending COUNT, as RFC 5545 EXDATE does):
 * at most 500 occurrences, first-to-last span at most 731 local days (the first within 731 days of startDate,
 * UNTIL within 1462), at most one occurrence per local date,
 * and no occurrence may start before the previous one ends (checked in real elapsed time, so a 24-hour meeting
 * on the 23-hour spring-forward day is refused: path durationMinutes).
 * A startDate that does not match the rule (a Tuesday for BYDAY=MO) is not itself an occurrence: the series
 * starts with the first matching date on or after it, as python-dateutil, rrule.js and most calendars do.
 */
export const parseRecurrence = (input: RecurrenceInput): E.Either<RecurrenceError[], Recurrence> => {
  const errors: RecurrenceError[] = [];
  const fail = (path: string) => (message: string) => errors.push({ path, message });

  const rule = parseRule(input.rrule);
  if (E.isLeft(rule)) rule.left.forEach(fail('rrule'));

  const startDate = parseLocalDate(input.startDate);
  if (E.isLeft(startDate)) fail('startDate')(startDate.left);

  const startTime = parseLocalTime(input.startTime);
  if (E.isLeft(startTime)) fail('startTime')(startTime.left);

  const duration = input.durationMinutes;
  if (
    typeof duration !== 'number' ||
    !Number.isInteger(duration) ||
    duration < MIN_DURATION_MINUTES ||
    duration > MAX_DURATION_MINUTES
  ) {
    fail('durationMinutes')(
      `durationMinutes must be an integer from ${MIN_DURATION_MINUTES} to ${MAX_DURATION_MINUTES}`,
    );
  }

  const timezone = input.timezone;
  if (typeof timezone !== 'string' || !isValidTimeZone(timezone)) {
    fail('timezone')(`timezone must be an IANA time zone name like 'Europe/London'`);
  }

  const exclusionSet = new Set<string>();
  const rawExclusions: unknown = input.exclusions ?? [];
  if (!Array.isArray(rawExclusions)) {
    fail('exclusions')('exclusions must be a list of local dates (YYYY-MM-DD)');
  } else if (rawExclusions.length > MAX_EXCLUSIONS) {
    fail('exclusions')(`at most ${MAX_EXCLUSIONS} exclusions are allowed`);
  } else {
    rawExclusions.forEach((item: unknown, i) => {
      const parsed = parseLocalDate(item as string);
      if (E.isLeft(parsed)) fail(`exclusions[${i}]`)(parsed.left);
      else exclusionSet.add(formatLocalDate(parsed.right));
    });
  }

  if (errors.length > 0 || E.isLeft(rule) || E.isLeft(startDate) || E.isLeft(startTime)) return E.left(errors);

  const expansion = expand(rule.right, startDate.right, startTime.right, timezone, true);
  if (expansion.problem.kind !== 'none') {
    return E.left([{ path: 'rrule', message: problemMessage(expansion.problem, startDate.right) }]);
  }

  const all = toOccurrences(expansion, duration, new Set());
  for (let i = 1; i < all.length; i++) {
    const prev = all[i - 1] as Occurrence;
    const cur = all[i] as Occurrence;
    if (cur.localDate === prev.localDate) {
      return E.left([{ path: 'rrule', message: `the rule yields two occurrences on ${cur.localDate}` }]);
    }
    if (cur.start.getTime() < prev.end.getTime()) {
      return E.left([
        {
          path: 'durationMinutes',
          message: `occurrences on ${prev.localDate} and ${cur.localDate} would overlap with a duration of ${duration} minutes`,
        },
      ]);
    }
  }
  if (all.every((o) => exclusionSet.has(o.localDate))) {
    return E.left([{ path: 'exclusions', message: 'the exclusions remove every occurrence' }]);
  }

  const recurrence = {
    rrule: rule.right.normalized,
    startDate: formatLocalDate(startDate.right),
    startTime: formatLocalTime(startTime.right),
    durationMinutes: duration,
    timezone: timezone as TimeZone,
    exclusions: [...exclusionSet].sort(),
  } as unknown as Recurrence;
  return E.right(recurrence);
};

/**
 * The series' meetings in order, without the excluded local dates. Expanded in floating local time and each
 * wall time converted with localToUtc, so 10:00 stays 10:00 local across DST changes; a start in a
 * spring-forward gap moves forward by the gap, an ambiguous one takes the earlier instant; end = start +
 * durationMinutes of real time.
 */
export const expandRecurrence = (rec: Recurrence): ReadonlyArray<Occurrence> => {
  const rule = cachedRule(rec.rrule);
  const startDate = parseLocalDate(rec.startDate);
  const startTime = parseLocalTime(rec.startTime);
  if (rule === undefined || E.isLeft(startDate) || E.isLeft(startTime)) {
    // Unreachable for values made by parseRecurrence (the type is branded).
    throw new Error('expandRecurrence: not a Recurrence produced by parseRecurrence');
  }
  const expansion = expand(rule, startDate.right, startTime.right, rec.timezone, false);
  return toOccurrences(expansion, rec.durationMinutes, new Set(rec.exclusions));
};
