import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { annotate } from './annotate.ts';
import {
  Actor,
  INSTANT_NOTE,
  Id,
  IsoInstant,
  RecordedAt,
  MAX_ID_LENGTH,
  assertNever,
  checkId,
  isHttpsUrl,
  validationFailed,
} from './shared.ts';
import type { FieldError, ValidationFailed } from './shared.ts';
import { MS_PER_MINUTE, TimeZoneName, isValidTimeZone } from './time.ts';
import { eventTypesOf } from './decider.ts';
import type { Decider } from './decider.ts';

export const MAX_MEETING_MINUTES = 24 * 60;
export const MAX_MEETING_MS = MAX_MEETING_MINUTES * MS_PER_MINUTE;

/** The text limits the rules below check; the field codecs carry them into the API document. */
export const LIMITS = {
  title: 200,
  description: 5000,
  metadata: 10_000,
  remoteLink: 2048,
  reason: 1000,
  id: MAX_ID_LENGTH,
} as const;

export const TrainingType = annotate(t.keyof({ '1-1': null, link: null }), {
  name: 'TrainingType',
  description: '`1-1`: a native WebRTC call through this server; `link`: an outside meeting at `remoteLink`.',
});
export type TrainingType = t.TypeOf<typeof TrainingType>;

/** Who asked for a change: the meeting itself, or its series (series edits must not overwrite individual ones). */
export const ChangeOrigin = annotate(t.keyof({ meeting: null, series: null }), {
  description:
    'Whether the change was made on the meeting itself or came from its series (series edits leave fields edited on the meeting alone).',
});
export type ChangeOrigin = t.TypeOf<typeof ChangeOrigin>;

// ---------- fields, as bodies and events carry them ----------

export const Title = annotate(t.string, {
  minLength: 1,
  maxLength: LIMITS.title,
  description: 'Shown to both participants; not blank.',
});
export const Description = annotate(t.string, {
  maxLength: LIMITS.description,
  description: 'Free text shown to both participants.',
});
export const CustomerMetadata = annotate(t.string, {
  maxLength: LIMITS.metadata,
  description: 'Free text about the customer (for example from a CRM); shown to admins and the instructor only.',
});
export const InstructorMetadata = annotate(t.string, {
  maxLength: LIMITS.metadata,
  description: 'Free text about the instructor; shown to admins only.',
});
export const RemoteLink = annotate(t.string, {
  format: 'uri',
  pattern: '^https://',
  maxLength: LIMITS.remoteLink,
  description:
    'An `https:` URL of the outside meeting (Zoom, Meet, Teams). Required when `trainingType` is `link`, refused for `1-1`.',
  examples: ['https://meet.example.com/abc-defg-hij'],
});
export const Reason = annotate(t.string, { maxLength: LIMITS.reason, description: 'Why, when a reason was given.' });
export const CustomerId = annotate(Id, { description: 'User id (JWT `sub`) of the customer.' });
export const InstructorId = annotate(Id, {
  description: 'User id (JWT `sub`) of the instructor; differs from `customerId`.',
});
const MeetingId = annotate(t.string, { description: 'The meeting.' });
const OfSeries = annotate(t.string, { description: 'Set for an occurrence of a series.' });
const Start = annotate(IsoInstant, { description: `When the session starts.${INSTANT_NOTE}` });
const End = annotate(IsoInstant, {
  description: `When the session ends; after \`start\`, at most 24 hours later.${INSTANT_NOTE}`,
});

/** `remoteLink` goes with `link` and only with it (checkLink), as a JSON Schema rule across the two fields. */
export const linkRule = {
  if: { properties: { trainingType: { const: 'link' } }, required: ['trainingType'] },
  then: { required: ['remoteLink'] },
  else: { not: { required: ['remoteLink'] } },
};

export const DetailField = t.keyof({
  title: null,
  description: null,
  customerMetadata: null,
  instructorMetadata: null,
  time: null,
  trainingType: null,
});
export type DetailField = t.TypeOf<typeof DetailField>;

const stamp = { at: RecordedAt, by: Actor };
const optional = <P extends t.Props>(props: P) => t.partial(props);

// ---------- events ----------

export const MeetingScheduled = t.type({
  type: t.literal('MeetingScheduled'),
  data: annotate(
    t.intersection([
      t.type({
        meetingId: MeetingId,
        title: Title,
        customerId: CustomerId,
        instructorId: InstructorId,
        start: Start,
        end: End,
        timezone: TimeZoneName,
        trainingType: TrainingType,
        description: Description,
        customerMetadata: CustomerMetadata,
        instructorMetadata: InstructorMetadata,
        ...stamp,
      }),
      optional({ seriesId: OfSeries, remoteLink: RemoteLink }),
    ]),
    { description: 'A meeting was scheduled, on its own or as an occurrence of a series.' },
  ),
});

export const MeetingDetailsChanged = t.type({
  type: t.literal('MeetingDetailsChanged'),
  data: annotate(
    t.type({
      meetingId: MeetingId,
      changes: annotate(
        optional({
          title: Title,
          description: Description,
          customerMetadata: CustomerMetadata,
          instructorMetadata: InstructorMetadata,
        }),
        { description: 'The new values.' },
      ),
      origin: ChangeOrigin,
      ...stamp,
    }),
    { description: 'Text fields of a meeting changed; `changes` holds the new values of the changed ones.' },
  ),
});

export const MeetingRescheduled = t.type({
  type: t.literal('MeetingRescheduled'),
  data: annotate(
    t.type({
      meetingId: MeetingId,
      start: Start,
      end: End,
      timezone: TimeZoneName,
      previous: annotate(t.type({ start: Start, end: End, timezone: TimeZoneName }), {
        description: 'Where it was before.',
      }),
      origin: ChangeOrigin,
      ...stamp,
    }),
    { description: 'A meeting moved (its time or its time zone).' },
  ),
});

export const TrainingTypeChanged = t.type({
  type: t.literal('TrainingTypeChanged'),
  data: annotate(
    t.intersection([
      t.type({ meetingId: MeetingId, trainingType: TrainingType, origin: ChangeOrigin, ...stamp }),
      optional({ remoteLink: RemoteLink }),
    ]),
    { description: 'A meeting switched between a native call and an outside link, or its link changed.' },
  ),
});

export const MeetingConfirmed = t.type({
  type: t.literal('MeetingConfirmed'),
  data: annotate(t.type({ meetingId: MeetingId, ...stamp }), { description: 'planned → scheduled.' }),
});

export const SessionCancelled = t.type({
  type: t.literal('SessionCancelled'),
  data: annotate(
    t.intersection([
      t.type({ meetingId: MeetingId, origin: ChangeOrigin, ...stamp }),
      optional({
        reason: Reason,
        seriesId: OfSeries,
        seriesCancellationId: annotate(t.string, {
          description:
            'Set when a series cancellation or edit cancelled it; the series event with this `cancellationId` lists every session it cancelled.',
        }),
      }),
    ]),
    { description: 'A meeting was cancelled, on its own or with (part of) its series.' },
  ),
});

export const MeetingReinstated = t.type({
  type: t.literal('MeetingReinstated'),
  data: annotate(t.type({ meetingId: MeetingId, ...stamp }), { description: 'cancelled → planned.' }),
});

export const MeetingEvent = t.union([
  MeetingScheduled,
  MeetingDetailsChanged,
  MeetingRescheduled,
  TrainingTypeChanged,
  MeetingConfirmed,
  SessionCancelled,
  MeetingReinstated,
]);
export type MeetingEvent = t.TypeOf<typeof MeetingEvent>;
export type MeetingEventType = MeetingEvent['type'];
export const meetingEventTypes = eventTypesOf(MeetingEvent);

// ---------- commands ----------

const commandStamp = { at: IsoInstant, by: Actor };

/** What a client gives to schedule a meeting: shared by the command and the HTTP body, so they cannot drift apart. */
export const meetingRequiredFields = {
  title: Title,
  customerId: CustomerId,
  instructorId: InstructorId,
  start: Start,
  end: End,
  trainingType: TrainingType,
};
export const meetingOptionalFields = {
  remoteLink: RemoteLink,
  description: Description,
  customerMetadata: CustomerMetadata,
  instructorMetadata: InstructorMetadata,
};

export const ScheduleMeeting = t.type({
  type: t.literal('ScheduleMeeting'),
  data: t.intersection([
    t.type({ meetingId: t.string, ...meetingRequiredFields, timezone: t.string, ...commandStamp }),
    optional({ seriesId: t.string, ...meetingOptionalFields }),
  ]),
});

export const ChangeMeetingDetails = t.type({
  type: t.literal('ChangeMeetingDetails'),
  data: t.intersection([
    t.type({ origin: ChangeOrigin, ...commandStamp }),
    optional({ title: t.string, description: t.string, customerMetadata: t.string, instructorMetadata: t.string }),
  ]),
});

export const RescheduleMeeting = t.type({
  type: t.literal('RescheduleMeeting'),
  data: t.intersection([
    t.type({ origin: ChangeOrigin, ...commandStamp }),
    // What is left out stays as the meeting has it now, so two partial changes at once cannot undo each other.
    optional({ start: IsoInstant, end: IsoInstant, timezone: t.string }),
  ]),
});

export const ChangeTrainingType = t.type({
  type: t.literal('ChangeTrainingType'),
  data: t.intersection([
    t.type({ trainingType: TrainingType, origin: ChangeOrigin, ...commandStamp }),
    optional({ remoteLink: t.string }),
  ]),
});

export const ConfirmMeeting = t.type({ type: t.literal('ConfirmMeeting'), data: t.type(commandStamp) });

export const CancelMeeting = t.type({
  type: t.literal('CancelMeeting'),
  data: t.intersection([
    t.type({ origin: ChangeOrigin, ...commandStamp }),
    optional({ reason: t.string, seriesCancellationId: t.string }),
  ]),
});

export const ReinstateMeeting = t.type({ type: t.literal('ReinstateMeeting'), data: t.type(commandStamp) });

export const MeetingCommand = t.union([
  ScheduleMeeting,
  ChangeMeetingDetails,
  RescheduleMeeting,
  ChangeTrainingType,
  ConfirmMeeting,
  CancelMeeting,
  ReinstateMeeting,
]);
export type MeetingCommand = t.TypeOf<typeof MeetingCommand>;

// ---------- state ----------

export type MeetingStatus = 'planned' | 'scheduled' | 'cancelled';

export interface Meeting {
  readonly status: MeetingStatus;
  readonly id: string;
  readonly seriesId?: string;
  readonly title: string;
  readonly customerId: string;
  readonly instructorId: string;
  readonly start: string;
  readonly end: string;
  readonly timezone: string;
  readonly trainingType: TrainingType;
  readonly remoteLink?: string;
  readonly description: string;
  readonly customerMetadata: string;
  readonly instructorMetadata: string;
  /** RFC 5545 SEQUENCE: bumped by every change a calendar app must pick up (time, link, cancel, reinstate). */
  readonly sequence: number;
  /** Fields changed on this meeting itself, which series-wide edits leave alone. */
  readonly individuallyEdited: ReadonlyArray<DetailField>;
  /** Set while cancelled: a series edit may bring back what a series edit cancelled, never an individual cancel. */
  readonly cancelledBy?: ChangeOrigin;
}

export type MeetingState = { readonly status: 'none' } | Meeting;

export const initialState = (): MeetingState => ({ status: 'none' });

// ---------- errors ----------

export interface MeetingNotFound {
  readonly _tag: 'MeetingNotFound';
}
export interface MeetingAlreadyExists {
  readonly _tag: 'MeetingAlreadyExists';
}
export interface InvalidTransition {
  readonly _tag: 'InvalidTransition';
  readonly from: MeetingStatus;
  readonly message: string;
}
export type MeetingError = ValidationFailed | MeetingNotFound | MeetingAlreadyExists | InvalidTransition;

// ---------- rules ----------

// Control characters end up in emails, calendar files and pages; line breaks and tabs only where text is multi-line.
const singleLineControls = /[\u0000-\u001F\u007F]/;
const multiLineControls = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

export const checkText = (
  path: string,
  value: string | undefined,
  max: number,
  required: boolean,
  lines: 'single' | 'multi' = 'multi',
): FieldError[] => {
  if (value === undefined) return [];
  if (required && value.trim().length === 0) return [{ path, message: 'must not be empty' }];
  if (value.length > max) return [{ path, message: `must be at most ${max} characters` }];
  if ((lines === 'single' ? singleLineControls : multiLineControls).test(value)) {
    return [
      {
        path,
        message:
          lines === 'single' ? 'must be one line without control characters' : 'must not contain control characters',
      },
    ];
  }
  return [];
};

const checkTime = (start: string, end: string, timezone: string | undefined): FieldError[] => {
  const errors: FieldError[] = [];
  const minutes = (Date.parse(end) - Date.parse(start)) / 60_000;
  if (!(minutes > 0)) errors.push({ path: 'end', message: 'must be after start' });
  else if (minutes > MAX_MEETING_MINUTES) errors.push({ path: 'end', message: 'a meeting lasts at most 24 hours' });
  if (timezone !== undefined && !isValidTimeZone(timezone)) {
    errors.push({ path: 'timezone', message: `unknown IANA time zone '${timezone}'` });
  }
  return errors;
};

export const checkLink = (trainingType: TrainingType, remoteLink: string | undefined): FieldError[] => {
  switch (trainingType) {
    case 'link':
      if (remoteLink === undefined || remoteLink.length === 0) {
        return [{ path: 'remoteLink', message: "is required when trainingType is 'link'" }];
      }
      if (remoteLink.length > LIMITS.remoteLink) {
        return [{ path: 'remoteLink', message: `must be at most ${LIMITS.remoteLink} characters` }];
      }
      return isHttpsUrl(remoteLink) ? [] : [{ path: 'remoteLink', message: 'must be an https: URL' }];
    case '1-1':
      return remoteLink === undefined
        ? []
        : [{ path: 'remoteLink', message: "is not allowed when trainingType is '1-1'" }];
    default:
      return assertNever(trainingType);
  }
};

export { checkId } from './shared.ts';

const orFail = <A>(errors: ReadonlyArray<FieldError>, value: () => A): E.Either<MeetingError, A> =>
  errors.length > 0 ? E.left(validationFailed(errors)) : E.right(value());

const notCancelled = (state: Meeting, what: string): E.Either<MeetingError, Meeting> =>
  state.status === 'cancelled'
    ? E.left({ _tag: 'InvalidTransition', from: state.status, message: `a cancelled meeting cannot ${what}` })
    : E.right(state);

// ---------- decide ----------

export const decide = (command: MeetingCommand, state: MeetingState): E.Either<MeetingError, MeetingEvent[]> => {
  if (command.type === 'ScheduleMeeting') {
    if (state.status !== 'none') return E.left({ _tag: 'MeetingAlreadyExists' });
    return schedule(command.data);
  }
  if (state.status === 'none') return E.left({ _tag: 'MeetingNotFound' });
  switch (command.type) {
    case 'ChangeMeetingDetails':
      return changeDetails(command.data, state);
    case 'RescheduleMeeting':
      return reschedule(command.data, state);
    case 'ChangeTrainingType':
      return changeTrainingType(command.data, state);
    case 'ConfirmMeeting':
      return transition(state, 'planned', 'confirmed', 'MeetingConfirmed', command.data);
    case 'CancelMeeting': {
      if (state.status === 'cancelled') {
        return E.left({ _tag: 'InvalidTransition', from: state.status, message: 'the meeting is already cancelled' });
      }
      const { reason, seriesCancellationId, origin, at, by } = command.data;
      return orFail(checkText('reason', reason, LIMITS.reason, false), () => [
        {
          type: 'SessionCancelled' as const,
          data: {
            meetingId: state.id,
            origin,
            at,
            by,
            ...(reason !== undefined && reason.trim() !== '' ? { reason: reason.trim() } : {}),
            ...(state.seriesId !== undefined ? { seriesId: state.seriesId } : {}),
            ...(seriesCancellationId !== undefined ? { seriesCancellationId } : {}),
          },
        },
      ]);
    }
    case 'ReinstateMeeting':
      return transition(state, 'cancelled', 'reinstated', 'MeetingReinstated', command.data);
    default:
      return assertNever(command);
  }
};

/** A change of status allowed only from `from`, recorded as `type` with who did it and when. */
const transition = (
  state: Exclude<MeetingState, { status: 'none' }>,
  from: 'planned' | 'cancelled',
  done: string,
  type: 'MeetingConfirmed' | 'MeetingReinstated',
  { at, by }: { at: string; by: Actor },
): E.Either<MeetingError, MeetingEvent[]> =>
  state.status !== from
    ? E.left({
        _tag: 'InvalidTransition',
        from: state.status,
        message: `only a ${from} meeting can be ${done}; this one is ${state.status}`,
      })
    : E.right([{ type, data: { meetingId: state.id, at, by } }]);

const schedule = (c: t.TypeOf<typeof ScheduleMeeting>['data']): E.Either<MeetingError, MeetingEvent[]> => {
  const errors = [
    ...checkId('meetingId', c.meetingId),
    ...checkId('customerId', c.customerId),
    ...checkId('instructorId', c.instructorId),
    ...checkText('title', c.title, LIMITS.title, true, 'single'),
    ...checkText('description', c.description, LIMITS.description, false),
    ...checkText('customerMetadata', c.customerMetadata, LIMITS.metadata, false),
    ...checkText('instructorMetadata', c.instructorMetadata, LIMITS.metadata, false),
    ...checkTime(c.start, c.end, c.timezone),
    ...checkLink(c.trainingType, c.remoteLink),
    ...(c.customerId === c.instructorId ? [{ path: 'instructorId', message: 'must differ from customerId' }] : []),
  ];
  return orFail(errors, () => [
    {
      type: 'MeetingScheduled' as const,
      data: {
        meetingId: c.meetingId,
        ...(c.seriesId !== undefined ? { seriesId: c.seriesId } : {}),
        title: c.title.trim(),
        customerId: c.customerId,
        instructorId: c.instructorId,
        start: c.start,
        end: c.end,
        timezone: c.timezone,
        trainingType: c.trainingType,
        ...(c.remoteLink !== undefined ? { remoteLink: c.remoteLink } : {}),
        description: c.description ?? '',
        customerMetadata: c.customerMetadata ?? '',
        instructorMetadata: c.instructorMetadata ?? '',
        at: c.at,
        by: c.by,
      },
    },
  ]);
};

const textFields = ['title', 'description', 'customerMetadata', 'instructorMetadata'] as const;

const changeDetails = (
  c: t.TypeOf<typeof ChangeMeetingDetails>['data'],
  state: Meeting,
): E.Either<MeetingError, MeetingEvent[]> =>
  E.chain((meeting: Meeting) => {
    const errors = [
      ...checkText('title', c.title, LIMITS.title, true, 'single'),
      ...checkText('description', c.description, LIMITS.description, false),
      ...checkText('customerMetadata', c.customerMetadata, LIMITS.metadata, false),
      ...checkText('instructorMetadata', c.instructorMetadata, LIMITS.metadata, false),
    ];
    return orFail(errors, () => {
      const changes: { -readonly [K in (typeof textFields)[number]]?: string } = {};
      for (const field of textFields) {
        const raw = c[field];
        const value = field === 'title' && raw !== undefined ? raw.trim() : raw;
        if (value === undefined || value === meeting[field]) continue;
        if (c.origin === 'series' && meeting.individuallyEdited.includes(field)) continue;
        changes[field] = value;
      }
      if (Object.keys(changes).length === 0) return [];
      return [
        {
          type: 'MeetingDetailsChanged' as const,
          data: { meetingId: meeting.id, changes, origin: c.origin, at: c.at, by: c.by },
        },
      ];
    });
  })(notCancelled(state, 'change its details'));

const reschedule = (
  c: t.TypeOf<typeof RescheduleMeeting>['data'],
  state: Meeting,
): E.Either<MeetingError, MeetingEvent[]> =>
  E.chain((meeting: Meeting) => {
    const start = c.start ?? meeting.start;
    const end = c.end ?? meeting.end;
    return orFail(checkTime(start, end, c.timezone), (): MeetingEvent[] => {
      const timezone = c.timezone ?? meeting.timezone;
      if (start === meeting.start && end === meeting.end && timezone === meeting.timezone) return [];
      if (c.origin === 'series' && meeting.individuallyEdited.includes('time')) return [];
      return [
        {
          type: 'MeetingRescheduled',
          data: {
            meetingId: meeting.id,
            start,
            end,
            timezone,
            previous: { start: meeting.start, end: meeting.end, timezone: meeting.timezone },
            origin: c.origin,
            at: c.at,
            by: c.by,
          },
        },
      ];
    });
  })(notCancelled(state, 'be rescheduled'));

const changeTrainingType = (
  c: t.TypeOf<typeof ChangeTrainingType>['data'],
  state: Meeting,
): E.Either<MeetingError, MeetingEvent[]> =>
  E.chain((meeting: Meeting) =>
    orFail(checkLink(c.trainingType, c.remoteLink), (): MeetingEvent[] => {
      if (c.trainingType === meeting.trainingType && c.remoteLink === meeting.remoteLink) return [];
      if (c.origin === 'series' && meeting.individuallyEdited.includes('trainingType')) return [];
      return [
        {
          type: 'TrainingTypeChanged',
          data: {
            meetingId: meeting.id,
            trainingType: c.trainingType,
            ...(c.remoteLink !== undefined ? { remoteLink: c.remoteLink } : {}),
            origin: c.origin,
            at: c.at,
            by: c.by,
          },
        },
      ];
    }),
  )(notCancelled(state, 'change its training type'));

// ---------- evolve ----------

const markEdited = (
  meeting: Meeting,
  origin: ChangeOrigin,
  fields: ReadonlyArray<DetailField>,
): ReadonlyArray<DetailField> =>
  origin === 'series' ? meeting.individuallyEdited : [...new Set([...meeting.individuallyEdited, ...fields])];

export const evolve = (state: MeetingState, event: MeetingEvent): MeetingState => {
  if (event.type === 'MeetingScheduled') {
    const { at: _at, by: _by, meetingId, ...fields } = event.data;
    return { ...fields, id: meetingId, status: 'planned', sequence: 0, individuallyEdited: [] };
  }
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'MeetingDetailsChanged': {
      const fields = Object.keys(event.data.changes) as DetailField[];
      return { ...state, ...event.data.changes, individuallyEdited: markEdited(state, event.data.origin, fields) };
    }
    case 'MeetingRescheduled':
      return {
        ...state,
        start: event.data.start,
        end: event.data.end,
        timezone: event.data.timezone,
        sequence: state.sequence + 1,
        individuallyEdited: markEdited(state, event.data.origin, ['time']),
      };
    case 'TrainingTypeChanged': {
      const { remoteLink: _old, ...rest } = state;
      return {
        ...rest,
        trainingType: event.data.trainingType,
        ...(event.data.remoteLink !== undefined ? { remoteLink: event.data.remoteLink } : {}),
        sequence: state.sequence + 1,
        individuallyEdited: markEdited(state, event.data.origin, ['trainingType']),
      };
    }
    case 'MeetingConfirmed':
      return { ...state, status: 'scheduled' };
    case 'SessionCancelled':
      return { ...state, status: 'cancelled', sequence: state.sequence + 1, cancelledBy: event.data.origin };
    case 'MeetingReinstated': {
      const { cancelledBy: _cancelledBy, ...rest } = state;
      return { ...rest, status: 'planned', sequence: state.sequence + 1 };
    }
    default:
      return assertNever(event);
  }
};

export const meetingStreamPrefix = 'meeting-';
export const meetingStreamName = (meetingId: string): string => `${meetingStreamPrefix}${meetingId}`;

export const meetingDecider: Decider<MeetingCommand, MeetingEvent, MeetingState, MeetingError> = {
  decide,
  evolve,
  initialState,
};
