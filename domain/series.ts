import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { annotate } from './annotate.ts';
import {
  ChangeOrigin as _ChangeOrigin,
  CustomerId,
  CustomerMetadata,
  Description,
  InstructorId,
  InstructorMetadata,
  LIMITS,
  Reason,
  RemoteLink,
  Title,
  TrainingType,
  checkId,
  checkLink,
  checkText,
} from './meeting.ts';
import {
  MAX_DURATION_MINUTES,
  MAX_EXCLUSIONS,
  MAX_OCCURRENCES,
  MAX_RRULE_LENGTH,
  MAX_SPAN_DAYS,
  MIN_DURATION_MINUTES,
  expandRecurrence,
  parseRecurrence,
} from './recurrence.ts';
import type { Occurrence as RecurrenceOccurrence } from './recurrence.ts';
import { Actor, IsoInstant, RecordedAt, assertNever, validationFailed } from './shared.ts';
import type { FieldError, ValidationFailed } from './shared.ts';
import { TimeZoneName } from './time.ts';

void _ChangeOrigin;

const stamp = { at: RecordedAt, by: Actor };

// ---------- fields: the recurrence's limits are the engine's (recurrence.ts) ----------

const LocalDate = annotate(t.string, { format: 'date' });
const StartDate = annotate(LocalDate, { description: 'Local date of the first occurrence.', examples: ['2026-03-02'] });
const StartTime = annotate(t.string, {
  pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$',
  description: 'Local start time of every occurrence, `HH:MM`.',
  examples: ['10:00'],
});
const DurationMinutes = annotate(t.number, {
  type: 'integer',
  minimum: MIN_DURATION_MINUTES,
  maximum: MAX_DURATION_MINUTES,
  description: 'Length of every occurrence; occurrences of one series must not overlap each other.',
});
const Rrule = annotate(t.string, {
  minLength: 1,
  maxLength: MAX_RRULE_LENGTH,
  description:
    'RFC 5545 RRULE value without DTSTART (an `RRULE:` prefix is tolerated, case is not significant), ending by ' +
    `COUNT (at most ${MAX_OCCURRENCES}) or UNTIL (a date or a UTC date-time), not both: no endless series. ` +
    'A `startDate` that does not match the rule is not itself an occurrence; the series starts on the first ' +
    `matching date on or after it. A series spans at most ${MAX_SPAN_DAYS} days. BYSETPOS picks by position ` +
    'from the days of each FREQ period (a position beyond them picks nothing, a repeated one counts once); BYDAY ' +
    'values with and without a number (`MO,1TU`) add up: every Monday and the first Tuesday.',
  examples: ['FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10', 'FREQ=DAILY;UNTIL=20260331T235959Z'],
});
const Exclusions = annotate(t.array(LocalDate), {
  uniqueItems: true,
  maxItems: MAX_EXCLUSIONS,
  description: 'Local dates on which no occurrence takes place.',
});
const SeriesZone = annotate(TimeZoneName, {
  description: 'IANA time zone in which the occurrences keep their local wall time, across daylight-saving changes.',
});
const SeriesId = annotate(t.string, { description: 'The series.' });
const CancellationId = annotate(t.string, {
  description: 'The `seriesCancellationId` of the sessions this cancelled.',
});
const When = (description: string) => annotate(IsoInstant, { description });

export const RecurrenceSpec = annotate(
  t.type({
    rrule: Rrule,
    startDate: StartDate,
    startTime: StartTime,
    durationMinutes: DurationMinutes,
    timezone: SeriesZone,
    exclusions: Exclusions,
  }),
  {
    name: 'RecurrenceSpec',
    description: 'The pattern of a series, normalised (rrule upper case without `RRULE:`, exclusions sorted).',
  },
);
export type RecurrenceSpec = t.TypeOf<typeof RecurrenceSpec>;

export const Slot = annotate(
  t.type({
    meetingId: annotate(t.string, { description: '`<seriesId>_<localDate>`.' }),
    localDate: annotate(LocalDate, { description: 'The date in the series time zone.' }),
    start: When('When it starts.'),
    end: When('When it ends.'),
  }),
  { name: 'OccurrenceSlot', description: 'A slot of the pattern of a series.' },
);
export type Slot = t.TypeOf<typeof Slot>;

export const CancelledOccurrence = annotate(
  t.type({ meetingId: t.string, start: When('When it was to start.'), end: When('When it was to end.') }),
  { name: 'CancelledOccurrence' },
);
export type CancelledOccurrence = t.TypeOf<typeof CancelledOccurrence>;

const detailProps = {
  title: Title,
  description: Description,
  trainingType: TrainingType,
  remoteLink: RemoteLink,
  customerMetadata: CustomerMetadata,
  instructorMetadata: InstructorMetadata,
};

// ---------- events ----------

export const SeriesScheduled = t.type({
  type: t.literal('SeriesScheduled'),
  data: annotate(
    t.intersection([
      t.type({
        seriesId: SeriesId,
        title: Title,
        customerId: CustomerId,
        instructorId: InstructorId,
        trainingType: TrainingType,
        description: Description,
        customerMetadata: CustomerMetadata,
        instructorMetadata: InstructorMetadata,
        recurrence: RecurrenceSpec,
        occurrences: annotate(t.array(Slot), { description: 'The planned occurrences, sorted by start.' }),
        ...stamp,
      }),
      t.partial({ remoteLink: RemoteLink }),
    ]),
    {
      description:
        'A series was scheduled; its future occurrences became meetings (each has its own `MeetingScheduled`).',
    },
  ),
});

export const SeriesRecurrenceChanged = t.type({
  type: t.literal('SeriesRecurrenceChanged'),
  data: annotate(
    t.intersection([
      t.type({
        seriesId: SeriesId,
        recurrence: RecurrenceSpec,
        previous: RecurrenceSpec,
        added: t.array(Slot),
        moved: t.array(Slot),
        removed: t.array(Slot),
        ...stamp,
      }),
      t.partial({
        cancellationId: annotate(t.string, {
          description:
            'The `seriesCancellationId` the removed sessions are cancelled under; their one notice (`SeriesOccurrencesCancelled`) carries it too. Absent on changes recorded before it existed.',
        }),
      }),
    ]),
    {
      description:
        'The pattern of a series changed: which future slots were added, moved (same meeting, new time) or removed (their meetings cancelled).',
    },
  ),
});

export const SeriesDetailsChanged = t.type({
  type: t.literal('SeriesDetailsChanged'),
  data: annotate(
    t.type({
      seriesId: SeriesId,
      changes: annotate(t.partial(detailProps), { description: 'The new values.' }),
      ...stamp,
    }),
    { description: 'Fields of a series other than its pattern changed; `changes` holds the new values.' },
  ),
});

export const SeriesCancelled = t.type({
  type: t.literal('SeriesCancelled'),
  data: annotate(
    t.intersection([
      t.type({
        seriesId: SeriesId,
        cancellationId: CancellationId,
        from: When('Sessions starting at or after this instant were cancelled.'),
        cancelled: t.array(CancelledOccurrence),
        ...stamp,
      }),
      t.partial({ reason: Reason }),
    ]),
    {
      description:
        'A series was cancelled from `from` on; `cancelled` lists the sessions this cancelled (one email announces them).',
    },
  ),
});

/** Sessions a series edit cancelled (left the pattern): announced once, like a series cancellation, but the series goes on. */
export const SeriesOccurrencesCancelled = t.type({
  type: t.literal('SeriesOccurrencesCancelled'),
  data: annotate(
    t.intersection([
      t.type({
        seriesId: SeriesId,
        cancellationId: CancellationId,
        cancelled: annotate(t.array(CancelledOccurrence), { minItems: 1 }),
        ...stamp,
      }),
      t.partial({ reason: annotate(t.string, { description: 'Why (`The series schedule changed`).' }) }),
    ]),
    {
      description:
        'A series edit cancelled the sessions that left its pattern; `cancelled` lists them (one email announces them). The series goes on.',
    },
  ),
});

export const SeriesEvent = t.union([
  SeriesScheduled,
  SeriesRecurrenceChanged,
  SeriesDetailsChanged,
  SeriesCancelled,
  SeriesOccurrencesCancelled,
]);
export type SeriesEvent = t.TypeOf<typeof SeriesEvent>;
export const seriesEventTypes: ReadonlyArray<SeriesEvent['type']> = [
  'SeriesScheduled',
  'SeriesRecurrenceChanged',
  'SeriesDetailsChanged',
  'SeriesCancelled',
  'SeriesOccurrencesCancelled',
];

// ---------- commands ----------

/** What a client gives to schedule a series: shared by the command and the HTTP body. */
export const seriesRequiredFields = {
  title: Title,
  customerId: CustomerId,
  instructorId: InstructorId,
  trainingType: TrainingType,
  timezone: SeriesZone,
  startDate: StartDate,
  startTime: StartTime,
  durationMinutes: DurationMinutes,
  rrule: Rrule,
};
export const seriesOptionalFields = {
  remoteLink: RemoteLink,
  description: Description,
  customerMetadata: CustomerMetadata,
  instructorMetadata: InstructorMetadata,
  exclusions: Exclusions,
};
/** A series as a client gives it: the fields of its ScheduleSeries command without the id and the stamp. */
export type SeriesFields = t.TypeOf<t.TypeC<typeof seriesRequiredFields>> &
  t.TypeOf<t.PartialC<typeof seriesOptionalFields>>;

export const ScheduleSeries = t.type({
  type: t.literal('ScheduleSeries'),
  data: t.intersection([
    t.type({ seriesId: t.string, ...seriesRequiredFields, ...stamp }),
    t.partial(seriesOptionalFields),
  ]),
});

export const ChangeSeriesRecurrence = t.type({
  type: t.literal('ChangeSeriesRecurrence'),
  data: t.intersection([
    t.type(stamp),
    t.partial({
      ...RecurrenceSpec.props,
      /** Under which the sessions this change drops are cancelled and announced (once). */
      cancellationId: t.string,
    }),
  ]),
});

export const ChangeSeriesDetails = t.type({
  type: t.literal('ChangeSeriesDetails'),
  data: t.intersection([t.type(stamp), t.partial(detailProps)]),
});

export const CancelSeries = t.type({
  type: t.literal('CancelSeries'),
  data: t.intersection([
    t.type({
      cancellationId: t.string,
      from: IsoInstant,
      /** The occurrences still to cancel, as the caller found them (not cancelled, starting at or after `from`). */
      toCancel: t.array(CancelledOccurrence),
      ...stamp,
    }),
    t.partial({ reason: t.string }),
  ]),
});

export const RecordOccurrencesCancelled = t.type({
  type: t.literal('RecordOccurrencesCancelled'),
  data: t.intersection([
    t.type({ cancellationId: t.string, cancelled: t.array(CancelledOccurrence), ...stamp }),
    t.partial({ reason: t.string }),
  ]),
});

export const SeriesCommand = t.union([
  ScheduleSeries,
  ChangeSeriesRecurrence,
  ChangeSeriesDetails,
  CancelSeries,
  RecordOccurrencesCancelled,
]);
export type SeriesCommand = t.TypeOf<typeof SeriesCommand>;

// ---------- state ----------

export interface Series {
  readonly status: 'active' | 'cancelled';
  readonly id: string;
  readonly title: string;
  readonly customerId: string;
  readonly instructorId: string;
  readonly trainingType: TrainingType;
  readonly remoteLink?: string;
  readonly description: string;
  readonly customerMetadata: string;
  readonly instructorMetadata: string;
  readonly recurrence: RecurrenceSpec;
  /** Every slot the series ever planned that is still in its pattern, past ones included. */
  readonly occurrences: ReadonlyArray<Slot>;
  /** Occurrences at or after this instant were cancelled with the series; none are added there again. */
  readonly cancelledFrom?: string;
}
export type SeriesState = { readonly status: 'none' } | Series;

export const initialState = (): SeriesState => ({ status: 'none' });

export interface SeriesNotFound {
  readonly _tag: 'SeriesNotFound';
}
export interface SeriesAlreadyExists {
  readonly _tag: 'SeriesAlreadyExists';
}
export interface SeriesCancelledError {
  readonly _tag: 'SeriesIsCancelled';
  readonly message: string;
}
export type SeriesError = ValidationFailed | SeriesNotFound | SeriesAlreadyExists | SeriesCancelledError;

/** An occurrence's meeting id is derived from its slot, so a slot that returns to the pattern finds its meeting. */
export const occurrenceMeetingId = (seriesId: string, localDate: string): string => `${seriesId}_${localDate}`;

const toSlots = (seriesId: string, occurrences: ReadonlyArray<RecurrenceOccurrence>): Slot[] =>
  occurrences.map((o) => ({
    meetingId: occurrenceMeetingId(seriesId, o.localDate),
    localDate: o.localDate,
    start: o.start.toISOString(),
    end: o.end.toISOString(),
  }));

const expand = (
  seriesId: string,
  spec: RecurrenceSpec,
): E.Either<FieldError[], { spec: RecurrenceSpec; slots: Slot[] }> => {
  const parsed = parseRecurrence(spec);
  if (E.isLeft(parsed)) return E.left(parsed.left);
  const r = parsed.right;
  const normalized: RecurrenceSpec = {
    rrule: r.rrule,
    startDate: r.startDate,
    startTime: r.startTime,
    durationMinutes: r.durationMinutes,
    timezone: r.timezone,
    exclusions: [...r.exclusions],
  };
  return E.right({ spec: normalized, slots: toSlots(seriesId, expandRecurrence(r)) });
};

const checkDetails = (d: Partial<Record<keyof typeof detailProps, string>>): FieldError[] => [
  ...checkText('title', d.title, LIMITS.title, true, 'single'),
  ...checkText('description', d.description, LIMITS.description, false),
  ...checkText('customerMetadata', d.customerMetadata, LIMITS.metadata, false),
  ...checkText('instructorMetadata', d.instructorMetadata, LIMITS.metadata, false),
];

const notCancelled = (state: Series): E.Either<SeriesError, Series> =>
  state.status === 'cancelled'
    ? E.left({ _tag: 'SeriesIsCancelled', message: 'the series is cancelled' })
    : E.right(state);

// ---------- decide ----------

export const decide = (command: SeriesCommand, state: SeriesState): E.Either<SeriesError, SeriesEvent[]> => {
  if (command.type === 'ScheduleSeries') {
    if (state.status !== 'none') return E.left({ _tag: 'SeriesAlreadyExists' });
    return scheduleSeries(command.data);
  }
  if (state.status === 'none') return E.left({ _tag: 'SeriesNotFound' });
  switch (command.type) {
    case 'ChangeSeriesRecurrence':
      return E.chain((s: Series) => changeRecurrence(command.data, s))(notCancelled(state));
    case 'ChangeSeriesDetails':
      return E.chain((s: Series) => changeDetails(command.data, s))(notCancelled(state));
    case 'CancelSeries':
      return cancelSeries(command.data, state);
    case 'RecordOccurrencesCancelled':
      return recordOccurrencesCancelled(command.data, state);
    default:
      return assertNever(command);
  }
};

const scheduleSeries = (c: t.TypeOf<typeof ScheduleSeries>['data']): E.Either<SeriesError, SeriesEvent[]> => {
  const spec: RecurrenceSpec = {
    rrule: c.rrule,
    startDate: c.startDate,
    startTime: c.startTime,
    durationMinutes: c.durationMinutes,
    timezone: c.timezone,
    exclusions: c.exclusions ?? [],
  };
  const expanded = expand(c.seriesId, spec);
  const errors: FieldError[] = [
    ...checkId('seriesId', c.seriesId),
    ...checkId('customerId', c.customerId),
    ...checkId('instructorId', c.instructorId),
    ...checkDetails(c),
    ...checkLink(c.trainingType, c.remoteLink),
    ...(c.customerId === c.instructorId ? [{ path: 'instructorId', message: 'must differ from customerId' }] : []),
    ...(E.isLeft(expanded) ? expanded.left : []),
  ];
  if (errors.length > 0 || E.isLeft(expanded)) return E.left(validationFailed(errors));
  const future = expanded.right.slots.filter((slot) => slot.start > c.at);
  if (future.length === 0) {
    return E.left(validationFailed([{ path: 'startDate', message: 'every occurrence of this series is in the past' }]));
  }
  return E.right([
    {
      type: 'SeriesScheduled',
      data: {
        seriesId: c.seriesId,
        title: c.title.trim(),
        customerId: c.customerId,
        instructorId: c.instructorId,
        trainingType: c.trainingType,
        remoteLink: c.remoteLink,
        description: c.description ?? '',
        customerMetadata: c.customerMetadata ?? '',
        instructorMetadata: c.instructorMetadata ?? '',
        recurrence: expanded.right.spec,
        occurrences: future,
        at: c.at,
        by: c.by,
      },
    },
  ]);
};

/** A meeting of the series: one of its slots, or one named after it (its slot left the pattern, it was reinstated). */
const ofSeries = (state: Series): ((meetingId: string) => boolean) => {
  const ours = new Set(state.occurrences.map((o) => o.meetingId));
  const prefix = `${state.id}_`;
  return (meetingId) => ours.has(meetingId) || meetingId.startsWith(prefix);
};

const cancelSeries = (
  c: t.TypeOf<typeof CancelSeries>['data'],
  state: Series,
): E.Either<SeriesError, SeriesEvent[]> => {
  if (state.status === 'cancelled')
    return E.left({ _tag: 'SeriesIsCancelled', message: 'the series is already cancelled' });
  const { cancellationId, from, toCancel, reason, at, by } = c;
  const errors = checkText('reason', reason, LIMITS.reason, false);
  if (errors.length > 0) return E.left(validationFailed(errors));
  // Every meeting of the series counts, also one whose slot left the pattern and was then reinstated by hand.
  const ours = ofSeries(state);
  const cancelled = toCancel.filter((o) => ours(o.meetingId) && o.start >= from);
  const trimmed = reason?.trim();
  return E.right([
    {
      type: 'SeriesCancelled',
      data: {
        seriesId: state.id,
        cancellationId,
        from,
        cancelled,
        ...(trimmed !== undefined && trimmed !== '' ? { reason: trimmed } : {}),
        at,
        by,
      },
    },
  ]);
};

const recordOccurrencesCancelled = (
  c: t.TypeOf<typeof RecordOccurrencesCancelled>['data'],
  state: Series,
): E.Either<SeriesError, SeriesEvent[]> => {
  const { cancellationId, cancelled, reason, at, by } = c;
  if (cancelled.length === 0) return E.right([]);
  const ours = ofSeries(state);
  const foreign = cancelled.filter((o) => !ours(o.meetingId));
  if (foreign.length > 0) {
    const message = `not occurrences of this series: ${foreign.map((o) => o.meetingId).join(', ')}`;
    return E.left(validationFailed([{ path: 'cancelled', message }]));
  }
  return E.right([
    { type: 'SeriesOccurrencesCancelled', data: { seriesId: state.id, cancellationId, cancelled, reason, at, by } },
  ]);
};

/**
 * Started occurrences never change. A future slot still in the new pattern keeps its meeting (moved if its time
 * changed); a future slot no longer in it is removed (its meeting gets cancelled, not deleted); new future slots
 * become new meetings, but none at or after a series cancellation.
 */
const changeRecurrence = (
  c: t.TypeOf<typeof ChangeSeriesRecurrence>['data'],
  state: Series,
): E.Either<SeriesError, SeriesEvent[]> => {
  const spec: RecurrenceSpec = {
    rrule: c.rrule ?? state.recurrence.rrule,
    startDate: c.startDate ?? state.recurrence.startDate,
    startTime: c.startTime ?? state.recurrence.startTime,
    durationMinutes: c.durationMinutes ?? state.recurrence.durationMinutes,
    timezone: c.timezone ?? state.recurrence.timezone,
    exclusions: c.exclusions ?? state.recurrence.exclusions,
  };
  const expanded = expand(state.id, spec);
  if (E.isLeft(expanded)) return E.left(validationFailed(expanded.left));
  const now = c.at;
  const current = new Map(state.occurrences.map((o) => [o.localDate, o]));
  const next = new Map(expanded.right.slots.map((o) => [o.localDate, o]));
  // A new zone with the same instants (New York to Toronto) still changes how the sessions are shown and mailed.
  const zoneChanged = expanded.right.spec.timezone !== state.recurrence.timezone;
  const isFuture = (slot: Slot) =>
    slot.start > now && (state.cancelledFrom === undefined || slot.start < state.cancelledFrom);
  const added: Slot[] = [];
  const moved: Slot[] = [];
  const removed: Slot[] = [];
  for (const [localDate, slot] of next) {
    const existing = current.get(localDate);
    if (existing === undefined) {
      if (isFuture(slot)) added.push(slot);
    } else if (
      existing.start > now &&
      (existing.start !== slot.start || existing.end !== slot.end || zoneChanged) &&
      isFuture(slot)
    ) {
      moved.push(slot);
    }
  }
  for (const [localDate, slot] of current) {
    if (slot.start > now && !next.has(localDate)) removed.push(slot);
    else if (
      slot.start > now &&
      next.has(localDate) &&
      !isFuture(next.get(localDate) as Slot) &&
      !moved.some((m) => m.localDate === localDate)
    ) {
      const target = next.get(localDate) as Slot;
      if (target.start !== slot.start) removed.push(slot);
    }
  }
  if (
    JSON.stringify(expanded.right.spec) === JSON.stringify(state.recurrence) &&
    added.length + moved.length + removed.length === 0
  )
    return E.right([]);
  return E.right([
    {
      type: 'SeriesRecurrenceChanged',
      data: {
        seriesId: state.id,
        recurrence: expanded.right.spec,
        previous: state.recurrence,
        added,
        moved,
        removed,
        cancellationId: c.cancellationId,
        at: c.at,
        by: c.by,
      },
    },
  ]);
};

const changeDetails = (
  c: t.TypeOf<typeof ChangeSeriesDetails>['data'],
  state: Series,
): E.Either<SeriesError, SeriesEvent[]> => {
  const trainingType = c.trainingType ?? state.trainingType;
  const remoteLink =
    c.remoteLink ??
    (trainingType === 'link' && c.trainingType === undefined
      ? state.remoteLink
      : c.trainingType === 'link'
        ? state.remoteLink
        : undefined);
  const errors = [
    ...checkDetails(c),
    ...(c.trainingType !== undefined || c.remoteLink !== undefined ? checkLink(trainingType, remoteLink) : []),
  ];
  if (errors.length > 0) return E.left(validationFailed(errors));
  const changes: Record<string, string> = {};
  for (const key of ['title', 'description', 'customerMetadata', 'instructorMetadata'] as const) {
    const value = key === 'title' ? c[key]?.trim() : c[key];
    if (value !== undefined && value !== state[key]) changes[key] = value;
  }
  if (trainingType !== state.trainingType || remoteLink !== state.remoteLink) {
    changes.trainingType = trainingType;
    if (remoteLink !== undefined) changes.remoteLink = remoteLink;
  }
  if (Object.keys(changes).length === 0) return E.right([]);
  return E.right([{ type: 'SeriesDetailsChanged', data: { seriesId: state.id, changes, at: c.at, by: c.by } }]);
};

// ---------- evolve ----------

export const evolve = (state: SeriesState, event: SeriesEvent): SeriesState => {
  if (event.type === 'SeriesScheduled') {
    const { at: _at, by: _by, seriesId, ...rest } = event.data;
    return { ...rest, id: seriesId, status: 'active' };
  }
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'SeriesRecurrenceChanged': {
      const { added, moved, removed, recurrence } = event.data;
      const movedBy = new Map(moved.map((m) => [m.localDate, m]));
      const gone = new Set(removed.map((r) => r.localDate));
      const occurrences = [
        ...state.occurrences.filter((o) => !gone.has(o.localDate)).map((o) => movedBy.get(o.localDate) ?? o),
        ...added,
      ].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
      return { ...state, recurrence, occurrences };
    }
    case 'SeriesDetailsChanged': {
      const { remoteLink: _old, ...rest } = state;
      const changes = event.data.changes;
      const trainingType = changes.trainingType ?? state.trainingType;
      const remoteLink =
        changes.trainingType !== undefined ? changes.remoteLink : (changes.remoteLink ?? state.remoteLink);
      return {
        ...rest,
        ...changes,
        trainingType,
        ...(trainingType === 'link' && remoteLink !== undefined ? { remoteLink } : {}),
      };
    }
    case 'SeriesCancelled':
      return {
        ...state,
        status: event.data.from <= event.data.at ? 'cancelled' : state.status,
        // The earliest cancellation wins: a later, narrower one must not reopen what an earlier one closed.
        cancelledFrom:
          state.cancelledFrom !== undefined && state.cancelledFrom < event.data.from
            ? state.cancelledFrom
            : event.data.from,
      };
    case 'SeriesOccurrencesCancelled':
      return state;
    default:
      return assertNever(event);
  }
};

export const seriesStreamName = (seriesId: string): string => `series-${seriesId}`;
export const seriesDecider = { decide, evolve, initialState } as const;
