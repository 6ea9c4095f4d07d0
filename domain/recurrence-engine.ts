/**
 * RFC 5545 RRULE expansion over local calendar days, for the rules the service accepts (recurrence.ts parseRule):
 * FREQ YEARLY, MONTHLY, WEEKLY or DAILY, INTERVAL, BYMONTH, BYWEEKNO, BYYEARDAY, BYMONTHDAY, BYDAY (numbered with
 * MONTHLY and YEARLY), BYSETPOS, WKST. There is no time-of-day part (BYHOUR, BYMINUTE, BYSECOND are refused), so an
 * occurrence is a day and every period (a year, month, week or day of the rule's FREQ) yields a set of days.
 *
 * The algorithm is python-dateutil's (the reference the tests compare with), on day numbers instead of year masks:
 * - the periods are DTSTART's year / month / week (weeks start on WKST) / day and every INTERVAL-th one after it;
 *   the first weekly period runs from DTSTART to the end of its week, as in dateutil;
 * - a day of a period belongs to the set when it passes every BYxxx filter given; without BYWEEKNO, BYYEARDAY,
 *   BYMONTHDAY and BYDAY, DTSTART's month day (YEARLY also its month when BYMONTH is absent, MONTHLY) or weekday
 *   (WEEKLY) is implied;
 * - BYDAY values are a union: MO,1TU is every Monday and the first Tuesday (dateutil and rrule.js intersect the
 *   plain and the numbered values and yield nothing); a numbered value counts within the month for MONTHLY and for
 *   YEARLY with BYMONTH, within the year otherwise, and one beyond the month or year selects nothing;
 * - BYSETPOS picks from the period's set in order: positions beyond the set (positive or negative) pick nothing,
 *   a day picked twice counts once, and the picked days are emitted in date order (rrule.js 2.8.1 took the first
 *   day for a negative position beyond the set, kept duplicates and kept the positions' order);
 * - days before DTSTART are never emitted (but they count for BYSETPOS within a monthly or yearly period);
 * - BYWEEKNO uses ISO 8601 weeks with WKST, ported from dateutil (including its treatment of the weeks that
 *   straddle 1 January).
 */

export type Freq = 'YEARLY' | 'MONTHLY' | 'WEEKLY' | 'DAILY';

export interface ByDay {
  /** 0 = Monday ... 6 = Sunday. */
  readonly weekday: number;
  readonly n: number | undefined;
}

export interface DateRule {
  readonly freq: Freq;
  readonly interval: number;
  readonly byday: ReadonlyArray<ByDay> | undefined;
  readonly bymonth: ReadonlyArray<number> | undefined;
  readonly bymonthday: ReadonlyArray<number> | undefined;
  readonly byyearday: ReadonlyArray<number> | undefined;
  readonly byweekno: ReadonlyArray<number> | undefined;
  readonly bysetpos: ReadonlyArray<number> | undefined;
  /** 0 = Monday (the default) ... 6 = Sunday. */
  readonly wkst: number | undefined;
}

// ---------------------------------------------------------------------------
// Day numbers: days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's civil algorithms).

export const daysFromCivil = (year: number, month: number, day: number): number => {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
};

interface Civil {
  year: number;
  month: number;
  day: number;
}

const civilInto = (dayNumber: number, out: Civil): Civil => {
  const z = dayNumber + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  out.day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  out.month = mp < 10 ? mp + 3 : mp - 9;
  out.year = yoe + era * 400 + (out.month <= 2 ? 1 : 0);
  return out;
};

export const civilFromDays = (dayNumber: number): Civil => civilInto(dayNumber, { year: 0, month: 0, day: 0 });

/** 0 = Monday ... 6 = Sunday (1970-01-01 was a Thursday). */
export const weekdayOf = (dayNumber: number): number => (((dayNumber + 3) % 7) + 7) % 7;

const isLeap = (year: number): boolean => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

const MONTH_DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const monthLength = (year: number, month: number): number =>
  month === 2 && isLeap(year) ? 29 : (MONTH_DAYS[month] as number);

/** One cycle of the Gregorian calendar (400 years) in each FREQ's unit, and the most days one unit spans. */
const CYCLE: Readonly<Record<Freq, { readonly units: number; readonly unitDays: number }>> = {
  DAILY: { units: 146_097, unitDays: 1 },
  WEEKLY: { units: 20_871, unitDays: 7 },
  MONTHLY: { units: 4_800, unitDays: 31 },
  YEARLY: { units: 400, unitDays: 366 },
};

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
/** The last day the service expands to: 9999-12-31. */
export const LAST_SUPPORTED_DAY = daysFromCivil(9999, 12, 31);

/**
 * The last day a search for the rule's first occurrence from startDay needs to reach: the periods' positions in
 * the calendar repeat after cycle / gcd(INTERVAL, cycle) periods (the calendar repeats every 400 years), so a rule
 * with no occurrence by then has none at all. At most 146097 periods are visited; never beyond 9999-12-31.
 */
export const firstOccurrenceSearchEnd = (rule: DateRule, startDay: number): number => {
  const { units, unitDays } = CYCLE[rule.freq];
  const periods = units / gcd(rule.interval, units);
  return Math.min(LAST_SUPPORTED_DAY, startDay + (periods * rule.interval + 1) * unitDays);
};

// ---------------------------------------------------------------------------
// Compiled rule

interface Plan {
  readonly freq: Freq;
  readonly interval: number;
  readonly wkst: number;
  readonly months: Uint8Array | undefined;
  readonly weekdays: Uint8Array | undefined;
  readonly nweekdays: ReadonlyArray<ByDay> | undefined;
  readonly monthdays: Uint8Array | undefined;
  /** Index k set: the k-th last day of the month. */
  readonly nmonthdays: Uint8Array | undefined;
  readonly yeardays: ReadonlySet<number> | undefined;
  readonly weeknos: ReadonlyArray<number> | undefined;
  readonly setpos: ReadonlyArray<number> | undefined;
}

const flags = (size: number, values: ReadonlyArray<number>): Uint8Array => {
  const out = new Uint8Array(size);
  for (const v of values) out[v] = 1;
  return out;
};

const compile = (rule: DateRule, start: Civil, startWeekday: number): Plan => {
  let bymonth = rule.bymonth;
  let bymonthday = rule.bymonthday;
  let plainDays = rule.byday?.filter((d) => d.n === undefined).map((d) => d.weekday);
  const numbered = rule.byday?.filter((d) => d.n !== undefined);
  if (
    rule.byweekno === undefined &&
    rule.byyearday === undefined &&
    rule.bymonthday === undefined &&
    rule.byday === undefined
  ) {
    // RFC 5545 §3.3.10: missing parts are taken from DTSTART.
    switch (rule.freq) {
      case 'YEARLY':
        bymonth ??= [start.month];
        bymonthday = [start.day];
        break;
      case 'MONTHLY':
        bymonthday = [start.day];
        break;
      case 'WEEKLY':
        plainDays = [startWeekday];
        break;
      case 'DAILY':
        break;
      default: {
        const never: never = rule.freq;
        return never;
      }
    }
  }
  const positive = bymonthday?.filter((d) => d > 0) ?? [];
  const negative = bymonthday?.filter((d) => d < 0).map((d) => -d) ?? [];
  return {
    freq: rule.freq,
    interval: rule.interval,
    wkst: rule.wkst ?? 0,
    months: bymonth === undefined ? undefined : flags(13, bymonth),
    weekdays: plainDays === undefined || plainDays.length === 0 ? undefined : flags(7, plainDays),
    nweekdays: numbered === undefined || numbered.length === 0 ? undefined : numbered,
    monthdays: bymonthday === undefined ? undefined : flags(32, positive),
    nmonthdays: bymonthday === undefined ? undefined : flags(32, negative),
    yeardays: rule.byyearday === undefined ? undefined : new Set(rule.byyearday),
    weeknos: rule.byweekno,
    setpos: rule.bysetpos,
  };
};

/**
 * Days of the year (index from 1 January) in the given week numbers, weeks starting on wkst and week 1 being the
 * first with at least four days in the year (ISO 8601 with WKST). A port of dateutil's mask, including its
 * handling of week 1 of the next year and the last week of the previous one.
 */
const weekNumberMask = (year: number, weeknos: ReadonlyArray<number>, wkst: number): Uint8Array => {
  const yearLength = isLeap(year) ? 366 : 365;
  const yearWeekday = weekdayOf(daysFromCivil(year, 1, 1));
  const mask = new Uint8Array(yearLength + 7);
  const weekdayAt = (i: number) => (yearWeekday + i) % 7;
  const firstWkst = (7 - yearWeekday + wkst) % 7;
  let no1Wkst = firstWkst;
  let weekYearLength: number;
  if (no1Wkst >= 4) {
    no1Wkst = 0;
    weekYearLength = yearLength + ((yearWeekday - wkst + 7) % 7);
  } else {
    weekYearLength = yearLength - no1Wkst;
  }
  const numWeeks = Math.floor(weekYearLength / 7) + Math.floor((weekYearLength % 7) / 4);
  const markWeek = (from: number) => {
    let i = from;
    for (let j = 0; j < 7; j++) {
      mask[i] = 1;
      i += 1;
      if (weekdayAt(i) === wkst) break;
    }
  };
  for (const value of weeknos) {
    const n = value < 0 ? value + numWeeks + 1 : value;
    if (!(n > 0 && n <= numWeeks)) continue;
    let i = no1Wkst;
    if (n > 1) {
      i = no1Wkst + (n - 1) * 7;
      if (no1Wkst !== firstWkst) i -= 7 - firstWkst;
    }
    markWeek(i);
  }
  if (weeknos.includes(1)) {
    // Week 1 of the next year may begin in this one.
    let i = no1Wkst + numWeeks * 7;
    if (no1Wkst !== firstWkst) i -= 7 - firstWkst;
    if (i < yearLength) markWeek(i);
  }
  if (no1Wkst !== 0) {
    // The days before week 1 belong to the previous year's last week.
    let lastWeeks: number;
    if (!weeknos.includes(-1)) {
      const lastYearWeekday = weekdayOf(daysFromCivil(year - 1, 1, 1));
      const lastNo1Wkst = (7 - lastYearWeekday + wkst) % 7;
      const lastYearLength = isLeap(year - 1) ? 366 : 365;
      lastWeeks =
        lastNo1Wkst >= 4
          ? 52 + Math.floor(((lastYearLength + ((lastYearWeekday - wkst + 7) % 7)) % 7) / 4)
          : 52 + Math.floor(((yearLength - no1Wkst) % 7) / 4);
    } else {
      lastWeeks = -1;
    }
    if (weeknos.includes(lastWeeks)) for (let i = 0; i < no1Wkst; i++) mask[i] = 1;
  }
  return mask;
};

/** An upper bound on the days one period of the rule can hold. */
const maxSetSize = (plan: Plan): number => {
  const countOf = (flagsOf: Uint8Array | undefined) => (flagsOf === undefined ? 0 : flagsOf.reduce((a, b) => a + b, 0));
  switch (plan.freq) {
    case 'DAILY':
      return 1;
    case 'WEEKLY':
      return plan.weekdays === undefined ? 7 : countOf(plan.weekdays);
    case 'MONTHLY':
      return plan.weekdays === undefined && plan.nweekdays === undefined && plan.monthdays !== undefined
        ? countOf(plan.monthdays) + countOf(plan.nmonthdays)
        : 31;
    case 'YEARLY':
      return 366;
    default: {
      const never: never = plan.freq;
      return never;
    }
  }
};

/** Marks the numbered weekdays (1MO, -1FR) of the day range [first, last] in `marked`. */
const markNumbered = (numbered: ReadonlyArray<ByDay>, first: number, last: number, marked: Set<number>): void => {
  for (const { weekday, n } of numbered) {
    if (n === undefined) continue;
    let i: number;
    if (n < 0) {
      i = last + (n + 1) * 7;
      i -= (weekdayOf(i) - weekday + 7) % 7;
    } else {
      i = first + (n - 1) * 7;
      i += (7 - weekdayOf(i) + weekday) % 7;
    }
    if (i >= first && i <= last) marked.add(i);
  }
};

type Emit = (day: number) => boolean;

/** DAILY: each period is one day, so BYSETPOS keeps it (1, -1) or drops every day; the days are scanned directly. */
const expandDaily = (plan: Plan, startDay: number, lastDay: number, emit: Emit): void => {
  if (plan.setpos !== undefined && !plan.setpos.includes(1) && !plan.setpos.includes(-1)) return;
  const civil: Civil = { year: 0, month: 0, day: 0 };
  for (let d = startDay; d <= lastDay; d += plan.interval) {
    const { year, month, day } = civilInto(d, civil);
    if (plan.months !== undefined && plan.months[month] !== 1) {
      // On to the last day of this month that the step reaches; the loop's step then enters the next month.
      const nextMonth = d - day + monthLength(year, month) + 1;
      d += (Math.ceil((nextMonth - d) / plan.interval) - 1) * plan.interval;
      continue;
    }
    if (plan.weekdays !== undefined && plan.weekdays[weekdayOf(d)] !== 1) continue;
    if (
      plan.monthdays !== undefined &&
      plan.monthdays[day] !== 1 &&
      (plan.nmonthdays as Uint8Array)[monthLength(year, month) - day + 1] !== 1
    ) {
      continue;
    }
    if (!emit(d)) return;
  }
};

/** Where a YEARLY, MONTHLY or WEEKLY rule's periods start from: DTSTART's day, week and month. */
interface Origin {
  readonly start: Civil;
  readonly startDay: number;
  readonly firstWeekStart: number;
  readonly startMonthIndex: number;
}

/** The days [from, to) of the rule's k-th period; undefined beyond the year 9999. */
const periodOf = (plan: Plan, origin: Origin, k: number): { from: number; to: number } | undefined => {
  const { freq, interval } = plan;
  switch (freq) {
    case 'YEARLY': {
      const year = origin.start.year + k * interval;
      if (year > 9999) return undefined;
      return { from: daysFromCivil(year, 1, 1), to: daysFromCivil(year + 1, 1, 1) };
    }
    case 'MONTHLY': {
      const index = origin.startMonthIndex + k * interval;
      const year = Math.floor(index / 12);
      if (year > 9999) return undefined;
      const month = index - year * 12 + 1;
      const from = daysFromCivil(year, month, 1);
      return { from, to: from + monthLength(year, month) };
    }
    case 'WEEKLY':
      return {
        from: k === 0 ? origin.startDay : origin.firstWeekStart + k * interval * 7,
        to: origin.firstWeekStart + k * interval * 7 + 7,
      };
    case 'DAILY':
      throw new Error('periodOf: DAILY rules are expanded day by day');
    default: {
      const never: never = freq;
      return never;
    }
  }
};

/** Marks the numbered weekdays of the period [from, to): they count within its month(s) or its year. */
const markPeriodNumbered = (
  plan: Plan,
  nweekdays: ReadonlyArray<ByDay>,
  from: number,
  to: number,
  numbered: Set<number>,
): void => {
  numbered.clear();
  if (plan.freq === 'MONTHLY' || plan.months === undefined) {
    markNumbered(nweekdays, from, to - 1, numbered);
    return;
  }
  const year = civilFromDays(from).year;
  for (let month = 1; month <= 12; month++) {
    if (plan.months[month] !== 1) continue;
    const first = daysFromCivil(year, month, 1);
    markNumbered(nweekdays, first, first + monthLength(year, month) - 1, numbered);
  }
};

/** The BYWEEKNO mask of one year, kept while the periods stay in that year. */
interface WeekMasks {
  year: number;
  mask: Uint8Array | undefined;
}

const weekMaskOf = (plan: Plan, year: number, masks: WeekMasks): Uint8Array | undefined => {
  if (plan.weeknos !== undefined && year !== masks.year) {
    masks.mask = weekNumberMask(year, plan.weeknos, plan.wkst);
    masks.year = year;
  }
  return masks.mask;
};

/** The days of [from, to) that pass every BYxxx filter, their calendar fields advanced day by day (no division per day). */
const collectCandidates = (
  plan: Plan,
  from: number,
  to: number,
  numbered: ReadonlySet<number>,
  masks: WeekMasks,
  candidates: number[],
): void => {
  candidates.length = 0;
  const hasByDay = plan.weekdays !== undefined || plan.nweekdays !== undefined;
  let { year, month, day } = civilFromDays(from);
  let weekday = weekdayOf(from);
  let monthDays = monthLength(year, month);
  let yearStart = daysFromCivil(year, 1, 1);
  let yearLength = isLeap(year) ? 366 : 365;
  let weekMask = weekMaskOf(plan, year, masks);
  for (let d = from; d < to; d++) {
    if (plan.months !== undefined && plan.months[month] !== 1) {
      // Skip to the month's last day: none of its days can match.
      const skip = Math.min(monthDays - day, to - 1 - d);
      d += skip;
      day += skip;
      weekday = (weekday + skip) % 7;
    } else if (
      (plan.weeknos === undefined || (weekMask as Uint8Array)[d - yearStart] === 1) &&
      (!hasByDay || plan.weekdays?.[weekday] === 1 || numbered.has(d)) &&
      (plan.monthdays === undefined ||
        plan.monthdays[day] === 1 ||
        (plan.nmonthdays as Uint8Array)[monthDays - day + 1] === 1) &&
      (plan.yeardays === undefined ||
        plan.yeardays.has(d - yearStart + 1) ||
        plan.yeardays.has(d - yearStart - yearLength))
    ) {
      candidates.push(d);
    }
    weekday = weekday === 6 ? 0 : weekday + 1;
    if (day < monthDays) {
      day += 1;
    } else {
      day = 1;
      if (month < 12) {
        month += 1;
      } else {
        month = 1;
        year += 1;
        yearStart = d + 1;
        yearLength = isLeap(year) ? 366 : 365;
        weekMask = weekMaskOf(plan, year, masks);
      }
      monthDays = monthLength(year, month);
    }
  }
};

/** BYSETPOS: the positions' days of the period's set, each once, in date order. */
const pickPositions = (setpos: ReadonlyArray<number>, candidates: ReadonlyArray<number>): number[] => {
  const picked = new Set<number>();
  for (const pos of setpos) {
    const index = pos > 0 ? pos - 1 : candidates.length + pos;
    if (index >= 0 && index < candidates.length) picked.add(candidates[index] as number);
  }
  return [...picked].sort((a, b) => a - b);
};

/**
 * Calls `emit` with each occurrence day from startDay (DTSTART's day) to lastDay inclusive, in order, until it
 * returns false. lastDay must be at most LAST_SUPPORTED_DAY.
 */
export const expandDays = (rule: DateRule, startDay: number, lastDay: number, emit: Emit): void => {
  const start = civilFromDays(startDay);
  const startWeekday = weekdayOf(startDay);
  const plan = compile(rule, start, startWeekday);
  // A rule whose positions all lie beyond any period's set yields nothing: no need to walk its periods.
  if (plan.setpos !== undefined) {
    const largest = maxSetSize(plan);
    if (plan.setpos.every((pos) => Math.abs(pos) > largest)) return;
  }
  if (plan.freq === 'DAILY') {
    expandDaily(plan, startDay, lastDay, emit);
    return;
  }
  const origin: Origin = {
    start,
    startDay,
    firstWeekStart: startDay - ((startWeekday - plan.wkst + 7) % 7),
    startMonthIndex: start.year * 12 + start.month - 1,
  };
  const candidates: number[] = [];
  const numbered = new Set<number>();
  const masks: WeekMasks = { year: Number.NaN, mask: undefined };
  for (let k = 0; ; k++) {
    const period = periodOf(plan, origin, k);
    if (period === undefined || period.from > lastDay) return;
    if (plan.nweekdays !== undefined) markPeriodNumbered(plan, plan.nweekdays, period.from, period.to, numbered);
    collectCandidates(plan, period.from, period.to, numbered, masks, candidates);
    const selected = plan.setpos === undefined ? candidates : pickPositions(plan.setpos, candidates);
    for (const d of selected) {
      if (d < startDay) continue;
      if (d > lastDay) return;
      if (!emit(d)) return;
    }
  }
};
