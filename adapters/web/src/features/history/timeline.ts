import type { components } from '../../api/schema';
import { formatDate, formatInstant, formatRange } from '../../time';

type Schemas = components['schemas'];
export type HistoryEntry = Schemas['HistoryEntry'];
type Recurrence = Schemas['RecurrenceSpec'];
type Actor = Schemas['Actor'];

/** vue-i18n's `t` as this module uses it. */
export type Translate = (key: string, named?: Record<string, unknown>, plural?: number) => string;

/** One "what changed": a field, what it was (when known) and what it became. */
export interface Change {
  readonly field: string;
  readonly from?: string;
  readonly to: string;
}

/** One event of a history as a person reads it. */
export interface TimelineItem {
  readonly key: string;
  readonly type: string;
  readonly at: string;
  readonly actor: Actor;
  readonly headline: string;
  readonly changes: ReadonlyArray<Change>;
  readonly notes: ReadonlyArray<string>;
}

interface Ctx {
  readonly t: Translate;
  readonly locale: string;
  /** The viewer's zone: every time is shown in it, named. */
  readonly zone: string;
}

/** What is known of the meeting or series so far, folded from its events in order. */
type Facts = Record<string, string | undefined>;

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const list = (value: unknown): ReadonlyArray<unknown> => (Array.isArray(value) ? value : []);

/** `SeriesOccurrencesCancelled` → `Series occurrences cancelled`: a type nobody taught this page, in words. */
export const typeInWords = (type: string): string => {
  const words = type
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
};

const localDate = (date: string, locale: string): string => formatDate(`${date}T12:00:00Z`, 'UTC', locale);

const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];
const weekdayName = (code: string, locale: string): string | undefined => {
  const index = WEEKDAYS.indexOf(code);
  // 2024-01-01 was a Monday.
  return index < 0
    ? undefined
    : new Intl.DateTimeFormat(locale, { weekday: 'long', timeZone: 'UTC' }).format(Date.UTC(2024, 0, 1 + index));
};

/** An RRULE in words (`weekly on Monday and Thursday, 10 times`); a rule beyond these words is shown as it is. */
export const ruleInWords = (rrule: string, ctx: Ctx): string => {
  const { t, locale } = ctx;
  const parts = new Map(
    rrule
      .replace(/^RRULE:/i, '')
      .split(';')
      .map((p) => p.split('=') as [string, string | undefined])
      .map(([k, v]) => [k.toUpperCase(), (v ?? '').toUpperCase()]),
  );
  const known = new Set(['FREQ', 'INTERVAL', 'BYDAY', 'COUNT', 'UNTIL', 'WKST']);
  const freq = parts.get('FREQ');
  const days = (parts.get('BYDAY') ?? '').split(',').filter((d) => d.length > 0);
  const dayNames = days.map((d) => weekdayName(d, locale));
  if (
    [...parts.keys()].some((k) => !known.has(k)) ||
    !['DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'].includes(freq ?? '') ||
    dayNames.some((d) => d === undefined)
  )
    return t('history.rule.raw', { rule: rrule });
  const interval = Number(parts.get('INTERVAL') ?? '1') || 1;
  const every = t(`history.rule.${(freq ?? '').toLowerCase()}`, { n: interval }, interval);
  const on =
    dayNames.length > 0
      ? ` ${t('history.rule.on', { days: new Intl.ListFormat(locale, { type: 'conjunction' }).format(dayNames as string[]) })}`
      : '';
  const count = parts.get('COUNT');
  const until = parts.get('UNTIL');
  const untilDate = until === undefined ? undefined : /^(\d{4})(\d{2})(\d{2})/.exec(until);
  const end =
    count !== undefined
      ? `, ${t('history.rule.count', { n: Number(count) }, Number(count))}`
      : untilDate !== null && untilDate !== undefined
        ? `, ${t('history.rule.until', { date: localDate(`${untilDate[1]}-${untilDate[2]}-${untilDate[3]}`, locale) })}`
        : '';
  return `${every}${on}${end}`;
};

const recurrenceFacts = (r: Recurrence | undefined, ctx: Ctx): Facts =>
  r === undefined
    ? {}
    : {
        rule: ruleInWords(r.rrule, ctx),
        startDate: localDate(r.startDate, ctx.locale),
        startTime: r.startTime,
        duration: ctx.t('history.minutes', { n: r.durationMinutes }, r.durationMinutes),
        timezone: r.timezone,
        exclusions:
          r.exclusions.length === 0
            ? ctx.t('history.noExclusions')
            : r.exclusions.map((d) => localDate(d, ctx.locale)).join(', '),
      };

const DETAIL_FIELDS = [
  'title',
  'description',
  'trainingType',
  'remoteLink',
  'customerMetadata',
  'instructorMetadata',
] as const;

const shown = (field: string, value: string | undefined, ctx: Ctx): string => {
  if (value === undefined || value.length === 0) return ctx.t('history.empty');
  if (field === 'trainingType') return ctx.t(`trainingTypes.${value}`);
  if (field === 'state') return ctx.t(`states.${value}`);
  if (field === 'title' || field === 'description' || field.endsWith('Metadata')) return `“${value}”`;
  return value;
};

/** A change of each field whose value differs from what the facts say it was; updates the facts. */
const diff = (facts: Facts, next: Facts, ctx: Ctx, labels: string): Change[] => {
  const changes: Change[] = [];
  for (const [field, value] of Object.entries(next)) {
    if (value === undefined || facts[field] === value) continue;
    const before = facts[field];
    if (before === undefined && value.length === 0) continue;
    changes.push({
      field: ctx.t(`${labels}.${field}`),
      from: before === undefined ? undefined : shown(field, before, ctx),
      to: shown(field, value, ctx),
    });
    facts[field] = value;
  }
  return changes;
};

/** A session's time in the viewer's zone, named, and in the session's own zone where that differs. */
const range = (start: unknown, end: unknown, ctx: Ctx, sessionZone?: unknown): string | undefined => {
  const s = str(start);
  const e = str(end);
  if (s === undefined || e === undefined) return undefined;
  const mine = formatRange(s, e, ctx.zone, ctx.locale);
  const theirs = str(sessionZone);
  return theirs === undefined || theirs === ctx.zone
    ? mine
    : `${mine} (${ctx.t('time.sessionZone', { time: formatRange(s, e, theirs, ctx.locale) })})`;
};

const reasonNote = (data: Record<string, unknown>, ctx: Ctx): string[] => {
  const reason = str(data.reason);
  return reason === undefined || reason.length === 0
    ? [ctx.t('history.noReason')]
    : [ctx.t('history.reason', { reason })];
};

const originNote = (data: Record<string, unknown>, ctx: Ctx): string[] =>
  data.origin === 'series' ? [ctx.t('history.fromSeries')] : [];

const participantRole = (role: unknown): 'customer' | 'instructor' =>
  role === 'instructor' ? 'instructor' : 'customer';

type Step = (
  data: Record<string, unknown>,
  facts: Facts,
  ctx: Ctx,
) => Omit<TimelineItem, 'key' | 'type' | 'at' | 'actor'>;

const pick = (data: Record<string, unknown>, fields: ReadonlyArray<string>): Facts =>
  Object.fromEntries(fields.map((f) => [f, str(data[f])]));

const STEPS: Record<string, Step> = {
  MeetingScheduled: (data, facts, ctx) => {
    const when = range(data.start, data.end, ctx, data.timezone);
    const changes = diff(
      facts,
      { ...pick(data, DETAIL_FIELDS), when, timezone: str(data.timezone) },
      ctx,
      'history.field',
    );
    facts.state = 'planned';
    // Who is who, for the attendance events that follow (they name the person only).
    facts.customerId = str(data.customerId);
    return {
      headline: ctx.t('history.meeting.scheduled', { title: str(data.title) ?? '' }),
      changes,
      notes: data.seriesId !== undefined ? [ctx.t('history.partOfSeries')] : [],
    };
  },
  MeetingDetailsChanged: (data, facts, ctx) => {
    const changes = diff(
      facts,
      pick((data.changes ?? {}) as Record<string, unknown>, DETAIL_FIELDS),
      ctx,
      'history.field',
    );
    return { headline: ctx.t('history.meeting.detailsChanged'), changes, notes: originNote(data, ctx) };
  },
  MeetingRescheduled: (data, facts, ctx) => {
    const previous = (data.previous ?? {}) as Record<string, unknown>;
    const before = range(previous.start, previous.end, ctx, previous.timezone);
    if (facts.when === undefined && before !== undefined) facts.when = before;
    if (facts.timezone === undefined) facts.timezone = str(previous.timezone);
    const changes = diff(
      facts,
      { when: range(data.start, data.end, ctx, data.timezone), timezone: str(data.timezone) },
      ctx,
      'history.field',
    );
    return { headline: ctx.t('history.meeting.rescheduled'), changes, notes: originNote(data, ctx) };
  },
  TrainingTypeChanged: (data, facts, ctx) => {
    const next = pick(data, ['trainingType', 'remoteLink']);
    if (next.trainingType === '1-1') next.remoteLink = '';
    const changes = diff(facts, next, ctx, 'history.field');
    return { headline: ctx.t('history.meeting.trainingTypeChanged'), changes, notes: originNote(data, ctx) };
  },
  MeetingConfirmed: (_data, facts, ctx) => ({
    headline: ctx.t('history.meeting.confirmed'),
    changes: diff(facts, { state: 'scheduled' }, ctx, 'history.field'),
    notes: [],
  }),
  SessionCancelled: (data, facts, ctx) => ({
    headline: ctx.t('history.meeting.cancelled'),
    changes: diff(facts, { state: 'cancelled' }, ctx, 'history.field'),
    notes: [...reasonNote(data, ctx), ...originNote(data, ctx)],
  }),
  MeetingReinstated: (_data, facts, ctx) => ({
    headline: ctx.t('history.meeting.reinstated'),
    changes: diff(facts, { state: 'planned' }, ctx, 'history.field'),
    notes: [],
  }),
  ParticipantJoined: (data, _facts, ctx) => ({
    headline: ctx.t(`history.attendance.joined.${participantRole(data.role)}`),
    changes: [],
    notes: [],
  }),
  ParticipantLeft: (data, _facts, ctx) => ({
    headline: ctx.t(`history.attendance.left.${participantRole(data.role)}`),
    changes: [],
    notes: [],
  }),
  AttendanceMarked: (data, facts, ctx) => {
    const status = (value: unknown) =>
      value === 'attended' || value === 'no-show' ? ctx.t(`history.attendance.status.${value}`) : undefined;
    const to = status(data.status) ?? ctx.t('history.empty');
    const from = status(data.previous);
    // Recorded with the mark; older marks carry no role and are told apart by the meeting's customer.
    const role =
      data.role === 'customer' || data.role === 'instructor'
        ? data.role
        : facts.customerId !== undefined && data.personId !== facts.customerId
          ? 'instructor'
          : 'customer';
    return {
      headline: ctx.t(`history.attendance.marked.${role}`),
      changes: [{ field: ctx.t('history.attendance.field'), ...(from !== undefined ? { from } : {}), to }],
      notes: [],
    };
  },
  SeriesScheduled: (data, facts, ctx) => {
    const occurrences = list(data.occurrences);
    const changes = diff(
      facts,
      { ...pick(data, DETAIL_FIELDS), ...recurrenceFacts(data.recurrence as Recurrence | undefined, ctx) },
      ctx,
      'history.field',
    );
    return {
      headline: ctx.t('history.series.scheduled', { title: str(data.title) ?? '' }),
      changes,
      notes: [ctx.t('history.sessionsPlanned', { n: occurrences.length }, occurrences.length)],
    };
  },
  SeriesRecurrenceChanged: (data, facts, ctx) => {
    const previous = recurrenceFacts(data.previous as Recurrence | undefined, ctx);
    for (const [k, v] of Object.entries(previous)) if (facts[k] === undefined) facts[k] = v;
    const changes = diff(facts, recurrenceFacts(data.recurrence as Recurrence | undefined, ctx), ctx, 'history.field');
    const counts = (['added', 'moved', 'removed'] as const)
      .map((k) => [k, list(data[k]).length] as const)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => ctx.t(`history.series.${k}`, { n }, n));
    return { headline: ctx.t('history.series.recurrenceChanged'), changes, notes: counts };
  },
  SeriesDetailsChanged: (data, facts, ctx) => ({
    headline: ctx.t('history.series.detailsChanged'),
    changes: diff(facts, pick((data.changes ?? {}) as Record<string, unknown>, DETAIL_FIELDS), ctx, 'history.field'),
    notes: [],
  }),
  SeriesCancelled: (data, facts, ctx) => {
    const n = list(data.cancelled).length;
    const from = str(data.from);
    return {
      headline: ctx.t('history.series.cancelled'),
      changes: [],
      notes: [
        ...(from === undefined
          ? []
          : [ctx.t('history.series.cancelledFrom', { from: formatInstant(from, ctx.zone, ctx.locale) })]),
        ctx.t('history.sessionsCancelled', { n }, n),
        ...reasonNote(data, ctx),
      ],
    };
  },
  SeriesOccurrencesCancelled: (data, _facts, ctx) => {
    const n = list(data.cancelled).length;
    return {
      headline: ctx.t('history.series.occurrencesCancelled'),
      changes: [],
      notes: [ctx.t('history.sessionsCancelled', { n }, n), ...reasonNote(data, ctx)],
    };
  },
};

/**
 * The events of one meeting's or series' history, oldest first, folded in order: each says what changed from what
 * to what, as far as the earlier events (or the event itself, for a move) tell. Types this page does not know are
 * named in words, their data left out.
 */
export const foldHistory = (events: ReadonlyArray<HistoryEntry>, ctx: Ctx): TimelineItem[] => {
  const facts: Facts = {};
  return events.map((event) => {
    const step = STEPS[event.type];
    const data = (typeof event.data === 'object' && event.data !== null ? event.data : {}) as Record<string, unknown>;
    const body = step?.(data, facts, ctx) ?? {
      headline: ctx.t('history.unknown', { what: typeInWords(event.type) }),
      changes: [],
      notes: [],
    };
    // The position in the log: a meeting's history holds its attendance's events too, with revisions of their own.
    return { key: `${event.position}`, type: event.type, at: event.at, actor: event.actor, ...body };
  });
};
