import type { Composer } from 'vue-i18n';
import { formatDate } from '../../time';

export const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** What the recurrence builder holds (weekly rules only: the kind a trainer's series is). */
export interface WeeklyRule {
  readonly weekdays: ReadonlyArray<Weekday>;
  readonly count?: number;
  /** The last local date (inclusive). */
  readonly until?: string;
}

/** The weekday of a local date (`2026-11-03` → `TU`). */
export const weekdayOf = (date: string): Weekday | undefined => {
  const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (d === null) return undefined;
  const day = new Date(Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]))).getUTCDay();
  return WEEKDAYS[(day + 6) % 7];
};

/** The RRULE the API takes: `FREQ=WEEKLY;BYDAY=TU,TH;COUNT=10` or `…;UNTIL=20261231` (a local date). */
export const toRrule = (rule: WeeklyRule): string => {
  const days = WEEKDAYS.filter((d) => rule.weekdays.includes(d)).join(',');
  const end = rule.until !== undefined ? `UNTIL=${rule.until.replace(/-/g, '')}` : `COUNT=${rule.count ?? 1}`;
  return `FREQ=WEEKLY;BYDAY=${days};${end}`;
};

/** A saved RRULE back as a weekly rule, when it is one the builder makes; else undefined. */
export const parseRrule = (rrule: string): WeeklyRule | undefined => {
  const parts = new Map(
    rrule
      .toUpperCase()
      .split(';')
      .map((p) => p.split('=') as [string, string]),
  );
  if (parts.get('FREQ') !== 'WEEKLY') return undefined;
  if ([...parts.keys()].some((k) => !['FREQ', 'BYDAY', 'COUNT', 'UNTIL', 'WKST'].includes(k))) return undefined;
  const weekdays = (parts.get('BYDAY') ?? '').split(',').filter((d): d is Weekday => WEEKDAYS.includes(d as Weekday));
  if (weekdays.length === 0) return undefined;
  const count = parts.get('COUNT');
  const until = /^(\d{4})(\d{2})(\d{2})/.exec(parts.get('UNTIL') ?? '');
  if (count !== undefined) return { weekdays, count: Number(count) };
  if (until !== null) return { weekdays, until: `${until[1]}-${until[2]}-${until[3]}` };
  return undefined;
};

/** A local date in the reader's language (`Thu, 24 Dec 2026`). */
export const localDateText = (date: string, locale: string): string => formatDate(`${date}T12:00:00Z`, 'UTC', locale);

const dayName = (day: Weekday, locale: string): string =>
  new Intl.DateTimeFormat(locale, { weekday: 'long', timeZone: 'UTC' }).format(
    new Date(Date.UTC(2024, 0, 1 + WEEKDAYS.indexOf(day))),
  );

const list = (items: ReadonlyArray<string>, locale: string): string =>
  new Intl.ListFormat(locale, { style: 'long', type: 'conjunction' }).format(items);

/**
 * The rule in words, in the reader's language: "Every Tuesday and Thursday at 07:00 for 10 sessions, except Thu,
 * 24 Dec 2026".
 */
export const ruleInWords = (
  t: Composer['t'],
  locale: string,
  rule: WeeklyRule,
  time: string,
  exclusions: ReadonlyArray<string>,
): string => {
  const days = list(
    WEEKDAYS.filter((d) => rule.weekdays.includes(d)).map((d) => dayName(d, locale)),
    locale,
  );
  const skipped = [...exclusions].sort();
  const base =
    rule.until !== undefined
      ? t('rule.until', { days, time, date: localDateText(rule.until, locale) })
      : skipped.length > 0
        ? t('rule.countDates', { days, time, count: rule.count ?? 1 })
        : t('rule.count', { days, time, count: rule.count ?? 1 }, rule.count ?? 1);
  return skipped.length === 0
    ? `${base}.`
    : `${base}${t('rule.except', {
        dates: list(
          skipped.map((d) => localDateText(d, locale)),
          locale,
        ),
      })}.`;
};
