/**
 * The OpenAPI 3.1 description of the HTTP API (served at `/openapi.json`, browsable at `/docs`). It is written by
 * hand from the contract (shared/api.md) and the adapters; tests/adapters/http/openapi.test.ts checks that it is
 * self-consistent, that it covers every route of the contract and of the app, and that its examples fit its schemas;
 * tests/adapters/http/openapi-responses.test.ts checks real answers of the running system against it.
 */

import { MAX_NOTIFICATION_LIST } from '../../application/notifications/service.ts';
import { MAX_MEETING_MINUTES } from '../../domain/meeting.ts';
import type { MeetingEventType } from '../../domain/meeting.ts';
import { SkipReason, notificationStatuses } from '../../domain/notification.ts';
import {
  MAX_DURATION_MINUTES,
  MAX_EXCLUSIONS,
  MAX_OCCURRENCES,
  MAX_RRULE_LENGTH,
  MAX_SPAN_DAYS,
  MIN_DURATION_MINUTES,
} from '../../domain/recurrence.ts';
import type { SeriesEvent } from '../../domain/series.ts';
import type { SettingsEvent } from '../../domain/settings.ts';
import { ID_PATTERN, MAX_ID_LENGTH } from '../../domain/shared.ts';
import { EMAIL_PATTERN, MAX_EMAIL_LENGTH } from '../../domain/email.ts';

type Json = Record<string, unknown>;

const ref = (kind: 'schemas' | 'parameters' | 'responses' | 'headers', name: string): Json => ({
  $ref: `#/components/${kind}/${name}`,
});
const schema = (name: string): Json => ref('schemas', name);
const param = (name: string): Json => ref('parameters', name);
const response = (name: string): Json => ref('responses', name);
const header = (name: string): Json => ref('headers', name);

const json = (body: Json, example?: unknown): Json => ({
  'application/json': { schema: body, ...(example !== undefined ? { example } : {}) },
});
const problemJson = (example?: unknown): Json => ({
  'application/problem+json': { schema: schema('Problem'), ...(example !== undefined ? { example } : {}) },
});

/** Every response carries the request id, inline ones included. */
const reply = (description: string, content?: Json, headers: Json = {}): Json => ({
  description,
  headers: { 'X-Request-Id': header('XRequestId'), ...headers },
  ...(content !== undefined ? { content } : {}),
});

// ---------- limits, shared with the domain's rules ----------

const LIMITS = {
  id: MAX_ID_LENGTH,
  title: 200,
  description: 5000,
  metadata: 10_000,
  reason: 1000,
  remoteLink: 2048,
  rrule: MAX_RRULE_LENGTH,
  personName: 200,
  email: MAX_EMAIL_LENGTH,
  subject: 300,
  bodyTemplate: 50_000,
  maxMeetingMinutes: MAX_MEETING_MINUTES,
  minDurationMinutes: MIN_DURATION_MINUTES,
  maxDurationMinutes: MAX_DURATION_MINUTES,
  maxOccurrences: MAX_OCCURRENCES,
  maxExclusions: MAX_EXCLUSIONS,
  maxSpanDays: MAX_SPAN_DAYS,
} as const;

/** Ids of people, meetings and series: no control, bidirectional or invisible formatting characters (400 otherwise). */
const idSchema = { type: 'string', minLength: 1, maxLength: LIMITS.id, pattern: ID_PATTERN } as const;

const TIME_PATTERN = '^([01][0-9]|2[0-3]):[0-5][0-9]$';
const INSTANT_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:\\d{2})$';

// ---------- examples ----------

const exampleMeeting = {
  id: '0b9f7a52-3c1e-4b7e-9a53-6f1d2c4e8a10',
  title: 'Strength basics',
  customerId: 'cust-42',
  instructorId: 'inst-7',
  start: '2026-03-02T09:00:00.000Z',
  end: '2026-03-02T10:00:00.000Z',
  timezone: 'Europe/Amsterdam',
  trainingType: '1-1',
  description: 'Bring a towel.',
  customerMetadata: 'crm:8812',
  instructorMetadata: 'payroll:77',
  state: 'planned',
  createdAt: '2026-02-20T14:03:11.204Z',
  updatedAt: '2026-02-20T14:03:11.204Z',
  revision: 0,
};

const exampleMeetingInput = {
  title: 'Strength basics',
  customerId: 'cust-42',
  instructorId: 'inst-7',
  start: '2026-03-02T10:00:00+01:00',
  end: '2026-03-02T11:00:00+01:00',
  timezone: 'Europe/Amsterdam',
  trainingType: '1-1',
  description: 'Bring a towel.',
  customerMetadata: 'crm:8812',
  instructorMetadata: 'payroll:77',
};

const exampleLinkMeetingInput = {
  title: 'Mobility check-in',
  customerId: 'cust-42',
  instructorId: 'inst-7',
  start: '2026-03-04T17:30:00Z',
  end: '2026-03-04T18:00:00Z',
  trainingType: 'link',
  remoteLink: 'https://meet.example.com/abc-defg-hij',
};

const exampleActor = { id: 'inst-7', roles: ['instructor'] };

const exampleHistory = {
  events: [
    {
      revision: 0,
      position: 118,
      type: 'MeetingScheduled',
      at: '2026-02-20T14:03:11.204Z',
      actor: exampleActor,
      data: {
        meetingId: exampleMeeting.id,
        title: 'Strength basics',
        customerId: 'cust-42',
        instructorId: 'inst-7',
        start: '2026-03-02T09:00:00.000Z',
        end: '2026-03-02T10:00:00.000Z',
        timezone: 'Europe/Amsterdam',
        trainingType: '1-1',
        description: 'Bring a towel.',
        customerMetadata: 'crm:8812',
        instructorMetadata: 'payroll:77',
        at: '2026-02-20T14:03:11.204Z',
        by: exampleActor,
      },
    },
    {
      revision: 1,
      position: 131,
      type: 'SessionCancelled',
      at: '2026-02-25T08:12:40.019Z',
      actor: exampleActor,
      data: {
        meetingId: exampleMeeting.id,
        origin: 'meeting',
        reason: 'Instructor is ill',
        at: '2026-02-25T08:12:40.019Z',
        by: exampleActor,
      },
    },
  ],
};

const exampleCalendar = {
  items: [
    {
      meetingId: exampleMeeting.id,
      title: 'Strength basics',
      start: '2026-03-02T09:00:00.000Z',
      end: '2026-03-02T10:00:00.000Z',
      timezone: 'Europe/Amsterdam',
      state: 'planned',
      trainingType: '1-1',
      role: 'customer',
      customerId: 'cust-42',
      instructorId: 'inst-7',
      counterpartName: 'Ines Instructor',
    },
    {
      meetingId: '5d2c9e0f-8b1a-4f61-a0f3-0c9e7d5b1a22',
      seriesId: '9a1e4c3b-77d2-4f0e-8c51-2b6a9d0e3f44',
      title: 'Weekly yoga',
      start: '2026-03-04T09:00:00.000Z',
      end: '2026-03-04T09:45:00.000Z',
      timezone: 'Europe/Amsterdam',
      state: 'cancelled',
      trainingType: 'link',
      role: 'customer',
      customerId: 'cust-42',
      instructorId: 'inst-9',
    },
  ],
};

const exampleSeriesInput = {
  title: 'Weekly yoga',
  customerId: 'cust-42',
  instructorId: 'inst-9',
  trainingType: 'link',
  remoteLink: 'https://meet.example.com/yoga-42',
  description: 'Mat required.',
  timezone: 'Europe/Amsterdam',
  startDate: '2026-03-02',
  startTime: '10:00',
  durationMinutes: 45,
  rrule: 'FREQ=WEEKLY;BYDAY=MO,WE;COUNT=4',
  exclusions: ['2026-03-04'],
};

const exampleSeriesId = '9a1e4c3b-77d2-4f0e-8c51-2b6a9d0e3f44';
const exampleOccurrence = (localDate: string, state = 'planned') => ({
  meetingId: `${exampleSeriesId}_${localDate}`,
  localDate,
  start: `${localDate}T09:00:00.000Z`,
  end: `${localDate}T09:45:00.000Z`,
  state,
});

const exampleSeries = {
  ...exampleSeriesInput,
  id: exampleSeriesId,
  state: 'active',
  occurrences: ['2026-03-02', '2026-03-09', '2026-03-11', '2026-03-16'].map((date) => exampleOccurrence(date)),
  createdAt: '2026-02-20T14:05:00.000Z',
  updatedAt: '2026-02-20T14:05:00.000Z',
  revision: 0,
};

const TEMPLATE_TOKENS =
  'Tokens: siteName, meetingTitle, startDate, endDate, instructorName, customerName, recipientName (the reader), ' +
  'counterpartName (the other participant), reason, and for series sessionCount, sessionList. Unknown tokens or unbalanced braces are refused.';

const subjectTemplate = (who: string): Json => ({
  type: 'string',
  minLength: 1,
  maxLength: LIMITS.subject,
  pattern: '^[^\\r\\n]*$',
  description: `Subject of the ${who} email: one line; may use \`{{token}}\` placeholders. ${TEMPLATE_TOKENS}`,
});

const bodyTemplate = (who: string): Json => ({
  type: 'string',
  maxLength: LIMITS.bodyTemplate,
  description: `Body of the ${who} email: HTML with \`{{token}}\` placeholders, which are HTML-escaped when filled. ${TEMPLATE_TOKENS}`,
});

const cancellationSettingsProperties: Json = {
  enabled: { type: 'boolean', description: 'Whether cancellations are mailed at all.' },
  subject: subjectTemplate("member's (customer's)"),
  bodyTemplate: bodyTemplate("member's (customer's)"),
  notifyInstructor: { type: 'boolean', description: 'Also mail the instructor (with the instructor templates).' },
  instructorSubject: subjectTemplate("instructor's"),
  instructorBodyTemplate: bodyTemplate("instructor's"),
};

const settingsSchema = (cancellation: string, description: string): Json =>
  closed(
    ['notifications', 'debugLevel'],
    {
      notifications: closed(['cancellation'], { cancellation: schema(cancellation) }),
      debugLevel: {
        type: 'integer',
        minimum: 0,
        maximum: 9,
        description: 'Above 0, call clients log connection details to the browser console.',
      },
    },
    {
      description:
        description +
        'Later capabilities add sections here; the running server refuses top-level keys it does not know. ' +
        'Secret values are write-only: they are accepted by `PUT` and never returned.',
    },
  );

const exampleSettings = {
  notifications: {
    cancellation: {
      enabled: true,
      subject: '{{siteName}}: your session "{{meetingTitle}}" was cancelled',
      bodyTemplate:
        '<p>Hello {{customerName}},</p><p>Your session <strong>{{meetingTitle}}</strong> on {{startDate}} was cancelled.</p><p>{{reason}}</p>',
      notifyInstructor: true,
      instructorSubject: '{{siteName}}: your session "{{meetingTitle}}" with {{customerName}} was cancelled',
      instructorBodyTemplate:
        '<p>Hello {{instructorName}},</p><p>Your session with {{customerName}} on {{startDate}} was cancelled.</p><p>{{reason}}</p>',
    },
  },
  debugLevel: 0,
};

const exampleNotification = {
  id: '3f2a9c0d1e4b5a6978c0d1e2f3a4b5c6',
  kind: 'meeting',
  status: 'failed',
  meetingIds: [exampleMeeting.id],
  cancellationEventId: 'e0c1d2b3-a4f5-4e6d-8c7b-9a0f1e2d3c4b',
  recipient: { personId: 'cust-42', role: 'customer', email: 'casey@example.com' },
  subject: 'Virtual Y: your session "Strength basics" was cancelled',
  announcedMeetingIds: [exampleMeeting.id],
  attempts: 3,
  round: 0,
  lastError: 'gave up after 3 attempts: the mail provider answered 503',
  createdAt: '2026-02-25T08:12:40.019Z',
  updatedAt: '2026-02-25T08:20:02.551Z',
  revision: 5,
};

const exampleValidationProblem = {
  type: 'about:blank',
  title: 'Validation failed',
  status: 400,
  detail: 'end must be after start; remoteLink must be an https: URL',
  errors: [
    { path: 'end', message: 'must be after start' },
    { path: 'remoteLink', message: 'must be an https: URL' },
  ],
};

const exampleConflictProblem = {
  type: 'about:blank',
  title: 'Conflict',
  status: 409,
  detail: '1 existing meeting of the same customer or instructor overlaps this time',
  conflicts: [
    {
      meetingId: '7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918',
      start: '2026-03-09T09:30:00.000Z',
      end: '2026-03-09T10:30:00.000Z',
      participant: 'instructor',
      userId: 'inst-7',
      slot: { start: '2026-03-09T10:00:00.000Z', end: '2026-03-09T11:00:00.000Z' },
    },
  ],
};

// ---------- schemas ----------

const id = (description: string): Json => ({ ...idSchema, description });
const instant = (description: string): Json => ({
  type: 'string',
  format: 'date-time',
  pattern: INSTANT_PATTERN,
  description: `${description} An ISO 8601 instant with \`Z\` or an offset; answers use UTC with \`Z\`.`,
});
const text = (max: number, description: string, minLength?: number): Json => ({
  type: 'string',
  ...(minLength !== undefined ? { minLength } : {}),
  maxLength: max,
  description,
});

const remoteLink: Json = {
  type: 'string',
  format: 'uri',
  pattern: '^https://',
  maxLength: LIMITS.remoteLink,
  description:
    'An `https:` URL of the outside meeting (Zoom, Meet, Teams). Required when `trainingType` is `link`, refused for `1-1`.',
  examples: ['https://meet.example.com/abc-defg-hij'],
};

/** `remoteLink` goes with `link` and only with it. */
const linkRule: Json = {
  if: { properties: { trainingType: { const: 'link' } }, required: ['trainingType'] },
  then: { required: ['remoteLink'] },
  else: { not: { required: ['remoteLink'] } },
};

const meetingFields = {
  title: text(LIMITS.title, 'Shown to both participants; not blank.', 1),
  customerId: id('User id (JWT `sub`) of the customer.'),
  instructorId: id('User id (JWT `sub`) of the instructor; differs from `customerId`.'),
  start: instant('When the session starts.'),
  end: instant('When the session ends; after `start`, at most 24 hours later.'),
  timezone: schema('TimeZone'),
  trainingType: schema('TrainingType'),
  remoteLink,
  description: text(LIMITS.description, 'Free text shown to both participants.'),
  customerMetadata: text(
    LIMITS.metadata,
    'Free text about the customer (for example from a CRM); shown to admins and the instructor only.',
  ),
  instructorMetadata: text(LIMITS.metadata, 'Free text about the instructor; shown to admins only.'),
};

const seriesFields = {
  title: meetingFields.title,
  customerId: meetingFields.customerId,
  instructorId: meetingFields.instructorId,
  trainingType: schema('TrainingType'),
  remoteLink,
  description: meetingFields.description,
  timezone: {
    ...schema('TimeZone'),
    description: 'IANA time zone in which the occurrences keep their local wall time, across daylight-saving changes.',
  },
  startDate: {
    type: 'string',
    format: 'date',
    description: 'Local date of the first occurrence.',
    examples: ['2026-03-02'],
  },
  startTime: {
    type: 'string',
    pattern: TIME_PATTERN,
    description: 'Local start time of every occurrence, `HH:MM`.',
    examples: ['10:00'],
  },
  durationMinutes: {
    type: 'integer',
    minimum: LIMITS.minDurationMinutes,
    maximum: LIMITS.maxDurationMinutes,
    description: 'Length of every occurrence; occurrences of one series must not overlap each other.',
  },
  rrule: {
    type: 'string',
    minLength: 1,
    maxLength: LIMITS.rrule,
    description:
      'RFC 5545 RRULE value without DTSTART (an `RRULE:` prefix is tolerated, case is not significant), ending by ' +
      `COUNT (at most ${LIMITS.maxOccurrences}) or UNTIL (a date or a UTC date-time), not both: no endless series. ` +
      'A `startDate` that does not match the rule is not itself an occurrence; the series starts on the first ' +
      `matching date on or after it. A series spans at most ${LIMITS.maxSpanDays} days. BYSETPOS picks by position ` +
      'from the days of each FREQ period (a position beyond them picks nothing, a repeated one counts once); BYDAY ' +
      'values with and without a number (`MO,1TU`) add up: every Monday and the first Tuesday.',
    examples: ['FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10', 'FREQ=DAILY;UNTIL=20260331T235959Z'],
  },
  exclusions: {
    type: 'array',
    uniqueItems: true,
    maxItems: LIMITS.maxExclusions,
    items: { type: 'string', format: 'date' },
    description: 'Local dates on which no occurrence takes place.',
  },
};

const seriesFieldsWithMetadata = {
  ...seriesFields,
  customerMetadata: meetingFields.customerMetadata,
  instructorMetadata: meetingFields.instructorMetadata,
};

/** An object with exactly these properties: answers never carry fields this document does not name. */
const closed = (required: ReadonlyArray<string>, properties: Json, extra: Json = {}): Json => ({
  type: 'object',
  ...extra,
  required: [...required],
  properties,
  additionalProperties: false,
});

const timestamp = (description: string): Json => ({ type: 'string', format: 'date-time', description });
const revision: Json = {
  type: 'integer',
  minimum: 0,
  description: 'Stream revision, from 0; changes with every change. The `ETag` carries it.',
};
const origin: Json = {
  type: 'string',
  enum: ['meeting', 'series'],
  description:
    'Whether the change was made on the meeting itself or came from its series (series edits leave fields edited on the meeting alone).',
};

const problemSchema: Json = closed(
  ['type', 'title', 'status', 'detail'],
  {
    type: {
      type: 'string',
      format: 'uri-reference',
      description: '`about:blank`: `status` and `title` say what kind of problem it is.',
    },
    title: {
      type: 'string',
      description: 'Short summary of the kind of problem (`Validation failed`, `Not found`, `Conflict`, …).',
    },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    detail: { type: 'string', description: 'What went wrong with this request.' },
    errors: {
      type: 'array',
      description: 'Per-field problems of a 400 validation failure (not of malformed JSON or a malformed `If-Match`).',
      items: schema('FieldError'),
    },
    conflicts: {
      type: 'array',
      minItems: 1,
      description: 'The existing meetings that a booking would overlap (409 double booking), sorted by start.',
      items: schema('BookingConflict'),
    },
    currentRevision: { type: 'integer', description: 'The revision the resource is at (412).' },
    opensAt: {
      type: 'string',
      format: 'date-time',
      description:
        "409 on a join that is too early: when joining opens. `detail` tells it in the meeting's zone; a client can show this instant in its viewer's zone.",
    },
  },
  {
    description: 'RFC 9457 problem details.',
    allOf: [
      { if: { properties: { status: { const: 412 } }, required: ['status'] }, then: { required: ['currentRevision'] } },
    ],
  },
);

// ---------- event payloads, as the history endpoints return them ----------

const stampFields: Json = { at: timestamp('When it happened (the server clock).'), by: schema('Actor') };
const payload = (description: string, required: ReadonlyArray<string>, properties: Json): Json =>
  closed([...required, 'at', 'by'], { ...properties, ...stampFields }, { description });
const meetingIdField: Json = { type: 'string', description: 'The meeting.' };
const seriesIdField: Json = { type: 'string', description: 'The series.' };
const detailChanges = (fields: Json, description: string): Json => ({
  type: 'object',
  description,
  properties: fields,
  additionalProperties: false,
});

/** Every event type a history can show; typed so that a new event type cannot go undocumented. */
const eventPayloads: Record<MeetingEventType | SeriesEvent['type'] | SettingsEvent['type'], Json> = {
  MeetingScheduled: payload(
    'A meeting was scheduled, on its own or as an occurrence of a series.',
    ['meetingId', 'title', 'customerId', 'instructorId', 'start', 'end', 'timezone', 'trainingType', 'description'],
    {
      meetingId: meetingIdField,
      seriesId: { type: 'string', description: 'Set for an occurrence of a series.' },
      ...meetingFields,
    },
  ),
  MeetingDetailsChanged: payload(
    'Text fields of a meeting changed; `changes` holds the new values of the changed ones.',
    ['meetingId', 'changes', 'origin'],
    {
      meetingId: meetingIdField,
      changes: detailChanges(
        {
          title: meetingFields.title,
          description: meetingFields.description,
          customerMetadata: meetingFields.customerMetadata,
          instructorMetadata: meetingFields.instructorMetadata,
        },
        'The new values.',
      ),
      origin,
    },
  ),
  MeetingRescheduled: payload(
    'A meeting moved (its time or its time zone).',
    ['meetingId', 'start', 'end', 'timezone', 'previous', 'origin'],
    {
      meetingId: meetingIdField,
      start: meetingFields.start,
      end: meetingFields.end,
      timezone: schema('TimeZone'),
      previous: closed(
        ['start', 'end', 'timezone'],
        { start: meetingFields.start, end: meetingFields.end, timezone: schema('TimeZone') },
        { description: 'Where it was before.' },
      ),
      origin,
    },
  ),
  TrainingTypeChanged: payload(
    'A meeting switched between a native call and an outside link, or its link changed.',
    ['meetingId', 'trainingType', 'origin'],
    {
      meetingId: meetingIdField,
      trainingType: schema('TrainingType'),
      remoteLink,
      origin,
    },
  ),
  MeetingConfirmed: payload('planned → scheduled.', ['meetingId'], { meetingId: meetingIdField }),
  SessionCancelled: payload(
    'A meeting was cancelled, on its own or with (part of) its series.',
    ['meetingId', 'origin'],
    {
      meetingId: meetingIdField,
      origin,
      reason: text(LIMITS.reason, 'Why, when a reason was given.'),
      seriesId: { type: 'string', description: 'Set for an occurrence of a series.' },
      seriesCancellationId: {
        type: 'string',
        description:
          'Set when a series cancellation or edit cancelled it; the series event with this `cancellationId` lists every session it cancelled.',
      },
    },
  ),
  MeetingReinstated: payload('cancelled → planned.', ['meetingId'], { meetingId: meetingIdField }),
  SeriesScheduled: payload(
    'A series was scheduled; its future occurrences became meetings (each has its own `MeetingScheduled`).',
    ['seriesId', 'title', 'customerId', 'instructorId', 'trainingType', 'description', 'recurrence', 'occurrences'],
    {
      seriesId: seriesIdField,
      title: meetingFields.title,
      customerId: meetingFields.customerId,
      instructorId: meetingFields.instructorId,
      trainingType: schema('TrainingType'),
      remoteLink,
      description: meetingFields.description,
      customerMetadata: meetingFields.customerMetadata,
      instructorMetadata: meetingFields.instructorMetadata,
      recurrence: schema('RecurrenceSpec'),
      occurrences: {
        type: 'array',
        items: schema('OccurrenceSlot'),
        description: 'The planned occurrences, sorted by start.',
      },
    },
  ),
  SeriesRecurrenceChanged: payload(
    'The pattern of a series changed: which future slots were added, moved (same meeting, new time) or removed (their meetings cancelled).',
    ['seriesId', 'recurrence', 'previous', 'added', 'moved', 'removed'],
    {
      seriesId: seriesIdField,
      recurrence: schema('RecurrenceSpec'),
      previous: schema('RecurrenceSpec'),
      added: { type: 'array', items: schema('OccurrenceSlot') },
      moved: { type: 'array', items: schema('OccurrenceSlot') },
      removed: { type: 'array', items: schema('OccurrenceSlot') },
      cancellationId: {
        type: 'string',
        description:
          'The `seriesCancellationId` the removed sessions are cancelled under; their one notice (`SeriesOccurrencesCancelled`) carries it too. Absent on changes recorded before it existed.',
      },
    },
  ),
  SeriesDetailsChanged: payload(
    'Fields of a series other than its pattern changed; `changes` holds the new values.',
    ['seriesId', 'changes'],
    {
      seriesId: seriesIdField,
      changes: detailChanges(
        {
          title: meetingFields.title,
          description: meetingFields.description,
          customerMetadata: meetingFields.customerMetadata,
          instructorMetadata: meetingFields.instructorMetadata,
          trainingType: schema('TrainingType'),
          remoteLink,
        },
        'The new values.',
      ),
    },
  ),
  SeriesCancelled: payload(
    'A series was cancelled from `from` on; `cancelled` lists the sessions this cancelled (one email announces them).',
    ['seriesId', 'cancellationId', 'from', 'cancelled'],
    {
      seriesId: seriesIdField,
      cancellationId: { type: 'string', description: 'The `seriesCancellationId` of the sessions this cancelled.' },
      from: timestamp('Sessions starting at or after this instant were cancelled.'),
      cancelled: { type: 'array', items: schema('CancelledOccurrence') },
      reason: text(LIMITS.reason, 'Why, when a reason was given.'),
    },
  ),
  SeriesOccurrencesCancelled: payload(
    'A series edit cancelled the sessions that left its pattern; `cancelled` lists them (one email announces them). The series goes on.',
    ['seriesId', 'cancellationId', 'cancelled'],
    {
      seriesId: seriesIdField,
      cancellationId: { type: 'string', description: 'The `seriesCancellationId` of the sessions this cancelled.' },
      cancelled: { type: 'array', items: schema('CancelledOccurrence'), minItems: 1 },
      reason: { type: 'string', description: 'Why (`The series schedule changed`).' },
    },
  ),
  SettingsChanged: payload('The settings were replaced.', ['settings'], { settings: schema('SettingsInput') }),
};

const eventTypes = Object.keys(eventPayloads);

const schemas: Json = {
  Problem: problemSchema,
  FieldError: closed(['path', 'message'], {
    path: {
      type: 'string',
      description: 'Dotted path of the field (`notifications.cancellation.subject`), or `(body)`.',
    },
    message: { type: 'string' },
  }),
  BookingConflict: closed(
    ['participant', 'userId', 'slot'],
    {
      meetingId: { type: 'string', description: 'The existing meeting; only when the caller may see it.' },
      start: timestamp('When it starts; only when the caller may see it.'),
      end: timestamp('When it ends; only when the caller may see it.'),
      slot: closed(['start', 'end'], {
        start: timestamp('Start of the requested time that collides.'),
        end: timestamp('Its end.'),
      }),
      participant: {
        type: 'string',
        enum: ['customer', 'instructor'],
        description:
          "Whose meeting it is: the requested customer's or the requested instructor's (in either role there).",
      },
      userId: { type: 'string', description: "That participant's user id." },
    },
    { description: 'A non-cancelled meeting of the same customer or instructor that overlaps the requested time.' },
  ),
  Role: { type: 'string', enum: ['admin', 'instructor', 'customer'] },
  Actor: closed(
    ['id', 'roles'],
    { id: { type: 'string' }, roles: { type: 'array', items: schema('Role') } },
    {
      description: 'Who did something, as their token said at the time (`unknown` with no roles when not recorded).',
    },
  ),
  TimeZone: {
    type: 'string',
    minLength: 1,
    maxLength: 64,
    description: 'IANA time zone name, used for display and emails.',
    examples: ['UTC', 'Europe/Amsterdam', 'America/New_York'],
  },
  TrainingType: {
    type: 'string',
    enum: ['1-1', 'link'],
    description: '`1-1`: a native WebRTC call through this server; `link`: an outside meeting at `remoteLink`.',
  },
  MeetingState: {
    type: 'string',
    enum: ['planned', 'scheduled', 'cancelled'],
    description:
      'planned → scheduled (confirm); planned|scheduled → cancelled (cancel); cancelled → planned (reinstate).',
  },
  MeetingInput: {
    type: 'object',
    description: 'A new meeting. Unknown fields are refused.',
    required: ['title', 'customerId', 'instructorId', 'start', 'end', 'trainingType'],
    properties: { ...meetingFields, timezone: { ...schema('TimeZone'), default: 'UTC' } },
    additionalProperties: false,
    ...linkRule,
  },
  MeetingPatch: {
    type: 'object',
    description:
      'Any subset of the meeting fields; absent fields keep their value. `customerId` and `instructorId` may only repeat ' +
      'the current ones (participants cannot change: cancel and schedule a new meeting). Switching to `link` needs a ' +
      '`remoteLink` unless the meeting already has one; switching to `1-1` drops it. Unknown fields are refused.',
    properties: meetingFields,
    additionalProperties: false,
  },
  MeetingView: closed(
    [
      'id',
      'title',
      'customerId',
      'instructorId',
      'start',
      'end',
      'timezone',
      'trainingType',
      'description',
      'state',
      'createdAt',
      'updatedAt',
      'revision',
    ],
    {
      id: { type: 'string', description: 'A UUID, or `<seriesId>_<localDate>` for an occurrence of a series.' },
      seriesId: { type: 'string', description: 'Set when the meeting is an occurrence of a series.' },
      ...meetingFields,
      state: schema('MeetingState'),
      cancellationReason: text(LIMITS.reason, 'The reason given when it was cancelled; only while cancelled.'),
      createdAt: timestamp('When it was scheduled.'),
      updatedAt: timestamp('When it last changed.'),
      revision,
    },
    {
      description:
        'A meeting as a reader sees it. `customerMetadata` is present for admins and the instructor only, ' +
        '`instructorMetadata` for admins only. The `ETag` header carries `revision`.',
      ...linkRule,
    },
  ),
  CancelInput: {
    type: 'object',
    additionalProperties: false,
    properties: { reason: text(LIMITS.reason, 'Why; included in the cancellation email.') },
  },
  HistoryEntry: closed(
    ['revision', 'position', 'type', 'at', 'actor', 'data'],
    {
      revision: { type: 'integer', minimum: 0, description: 'Position within the stream, from 0.' },
      position: { type: 'integer', minimum: 0, description: 'Position in the global log.' },
      type: {
        type: 'string',
        description:
          `Event type. Meetings: ${eventTypes.filter((t) => !t.startsWith('Series') && t !== 'SettingsChanged').join(', ')}. ` +
          `Series: ${eventTypes.filter((t) => t.startsWith('Series')).join(', ')}. Settings: SettingsChanged. ` +
          'Clients should skip types they do not know: later capabilities may add some.',
      },
      at: timestamp('When it happened.'),
      actor: schema('Actor'),
      data: {
        type: 'object',
        description:
          'The event payload as recorded; the `<type>Event` schemas describe the payload of each known type.',
      },
    },
    {
      description: 'One recorded event of a stream.',
      allOf: eventTypes.map((type) => ({
        if: { properties: { type: { const: type } }, required: ['type'] },
        then: { properties: { data: schema(`${type}Event`) } },
      })),
    },
  ),
  History: closed(['events'], {
    events: { type: 'array', description: 'Oldest first.', items: schema('HistoryEntry') },
    next: { type: 'integer', description: 'Present when the page is full: pass it as `after` for the next page.' },
  }),
  ...Object.fromEntries(Object.entries(eventPayloads).map(([type, s]) => [`${type}Event`, s])),
  CalendarItem: closed(
    ['meetingId', 'title', 'start', 'end', 'timezone', 'state', 'trainingType', 'role', 'customerId', 'instructorId'],
    {
      meetingId: { type: 'string' },
      seriesId: { type: 'string' },
      title: { type: 'string' },
      start: timestamp('When it starts.'),
      end: timestamp('When it ends.'),
      timezone: schema('TimeZone'),
      state: schema('MeetingState'),
      trainingType: schema('TrainingType'),
      role: {
        type: 'string',
        enum: ['customer', 'instructor'],
        description: "The calendar owner's part in this meeting.",
      },
      customerId: { type: 'string' },
      instructorId: { type: 'string' },
      counterpartName: {
        type: 'string',
        description: 'Name of the other participant, when the people directory knows it.',
      },
    },
  ),
  Calendar: closed(['items'], {
    items: {
      type: 'array',
      description: 'Sorted by start; cancelled meetings included.',
      items: schema('CalendarItem'),
    },
  }),
  CalendarFeedInput: {
    type: 'object',
    additionalProperties: false,
    properties: {
      userId: { ...idSchema, description: 'Whose feed; default the caller. Only admins may name someone else.' },
    },
  },
  CalendarFeedSubscription: closed(['url', 'token'], {
    url: {
      type: 'string',
      format: 'uri',
      description: 'The secret feed URL to paste into a calendar app (`<PUBLIC_BASE_URL>/calendar.ics?token=…`).',
    },
    token: {
      type: 'string',
      pattern: '^[A-Za-z0-9_-]{43}$',
      description: 'The secret in the URL (256 random bits, base64url). Shown once: the server keeps only its SHA-256.',
    },
  }),
  PersonInput: {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'email'],
    properties: {
      name: text(LIMITS.personName, 'Display name; not blank.', 1),
      email: {
        type: 'string',
        format: 'email',
        maxLength: LIMITS.email,
        pattern: EMAIL_PATTERN,
        description:
          'An address the mail and calendar path can deliver to, checked once here: ASCII only (an internationalised ' +
          'domain in its `xn--` form), a dot-atom of at most 64 characters before the `@` (no leading, trailing or ' +
          'doubled dot, no quotes, no display name), two or more hostname labels after it ending in a top-level domain ' +
          '(no IP address), 254 characters in all; surrounding whitespace is trimmed. `ü@exämple.com` and `a@b..com` ' +
          'answer 400 naming `email`.',
      },
      timezone: schema('TimeZone'),
    },
  },
  Person: closed(['id', 'name', 'email', 'updatedAt'], {
    id: { type: 'string' },
    name: text(LIMITS.personName, 'Display name, trimmed.', 1),
    email: { type: 'string', format: 'email', maxLength: LIMITS.email },
    timezone: schema('TimeZone'),
    updatedAt: timestamp('When it last changed.'),
  }),
  CancellationNotificationSettings: closed(
    ['enabled', 'subject', 'bodyTemplate', 'notifyInstructor', 'instructorSubject', 'instructorBodyTemplate'],
    cancellationSettingsProperties,
    {
      description:
        "The cancellation email as it applies: the member's templates and the instructor's (defaults until first set).",
    },
  ),
  CancellationNotificationSettingsInput: closed(
    ['enabled', 'subject', 'bodyTemplate', 'notifyInstructor'],
    cancellationSettingsProperties,
    {
      description:
        'As sent to `PUT /settings` and recorded in `SettingsChanged`: `instructorSubject` and `instructorBodyTemplate` may be left out (clients that ' +
        'predate them), and then keep their current values.',
    },
  ),
  Settings: settingsSchema('CancellationNotificationSettings', 'Site settings as they apply. '),
  SettingsInput: settingsSchema(
    'CancellationNotificationSettingsInput',
    'Site settings as a `PUT` sends them and the settings history records them. Fields left out keep their values only where said (the instructor templates). ',
  ),
  SeriesInput: {
    type: 'object',
    description: 'A recurring meeting. Every occurrence becomes a meeting with its own id. Unknown fields are refused.',
    required: [
      'title',
      'customerId',
      'instructorId',
      'trainingType',
      'timezone',
      'startDate',
      'startTime',
      'durationMinutes',
      'rrule',
    ],
    properties: seriesFieldsWithMetadata,
    additionalProperties: false,
    ...linkRule,
  },
  SeriesPatch: {
    type: 'object',
    description:
      'Any subset of the series fields. `customerId` and `instructorId` may only repeat the current ones. A recurrence ' +
      'change (timezone, startDate, startTime, durationMinutes, rrule, exclusions) keeps the occurrences that still fall ' +
      'on the new pattern (same meeting ids), cancels future ones that no longer do (one email lists them), creates the ' +
      'new ones and never touches occurrences that have started. Other field changes reach every future occurrence ' +
      'except fields that were edited on the occurrence itself. Occurrences cancelled individually stay cancelled.',
    properties: seriesFieldsWithMetadata,
    additionalProperties: false,
  },
  SeriesCancelInput: {
    type: 'object',
    additionalProperties: false,
    properties: {
      reason: text(LIMITS.reason, 'Why; included in the single cancellation email.'),
      from: { ...instant('Cancel every occurrence starting at or after this instant; default now.') },
    },
  },
  RecurrenceSpec: closed(
    ['rrule', 'startDate', 'startTime', 'durationMinutes', 'timezone', 'exclusions'],
    {
      rrule: seriesFields.rrule,
      startDate: seriesFields.startDate,
      startTime: seriesFields.startTime,
      durationMinutes: seriesFields.durationMinutes,
      timezone: seriesFields.timezone,
      exclusions: seriesFields.exclusions,
    },
    { description: 'The pattern of a series, normalised (rrule upper case without `RRULE:`, exclusions sorted).' },
  ),
  OccurrenceSlot: closed(
    ['meetingId', 'localDate', 'start', 'end'],
    {
      meetingId: { type: 'string', description: '`<seriesId>_<localDate>`.' },
      localDate: { type: 'string', format: 'date', description: 'The date in the series time zone.' },
      start: timestamp('When it starts.'),
      end: timestamp('When it ends.'),
    },
    { description: 'A slot of the pattern of a series.' },
  ),
  CancelledOccurrence: closed(['meetingId', 'start', 'end'], {
    meetingId: { type: 'string' },
    start: timestamp('When it was to start.'),
    end: timestamp('When it was to end.'),
  }),
  SeriesOccurrence: closed(['meetingId', 'localDate', 'start', 'end', 'state'], {
    meetingId: { type: 'string', description: 'Takes every meeting endpoint.' },
    localDate: { type: 'string', format: 'date', description: 'The date in the series time zone.' },
    start: timestamp('When it starts (its own time when it was moved individually).'),
    end: timestamp('When it ends.'),
    state: schema('MeetingState'),
  }),
  Series: closed(
    [
      'id',
      'title',
      'customerId',
      'instructorId',
      'trainingType',
      'description',
      'timezone',
      'startDate',
      'startTime',
      'durationMinutes',
      'rrule',
      'exclusions',
      'state',
      'occurrences',
      'createdAt',
      'updatedAt',
      'revision',
    ],
    {
      id: { type: 'string' },
      ...seriesFieldsWithMetadata,
      rrule: { ...seriesFields.rrule, description: 'The RRULE value, normalised: upper case, without `RRULE:`.' },
      exclusions: {
        ...seriesFields.exclusions,
        description: 'Local dates on which no occurrence takes place, sorted.',
      },
      state: {
        type: 'string',
        enum: ['active', 'cancelled'],
        description: '`cancelled` once it was cancelled from an instant that is not in the future.',
      },
      cancelledFrom: timestamp(
        'Set once the series was cancelled: occurrences from this instant on are cancelled and none are added there again.',
      ),
      occurrences: {
        type: 'array',
        description: 'Every occurrence still in the pattern, past and cancelled ones included, sorted by start.',
        items: schema('SeriesOccurrence'),
      },
      createdAt: timestamp('When it was scheduled.'),
      updatedAt: timestamp('When it last changed.'),
      revision,
    },
    {
      description:
        'A series as a reader sees it. `customerMetadata` is present for admins and the instructor only, ' +
        '`instructorMetadata` for admins only. The `ETag` header carries `revision`.',
      ...linkRule,
    },
  ),
  IceServer: closed(
    ['urls'],
    {
      urls: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1 }] },
      username: { type: 'string' },
      credential: { type: 'string' },
    },
    { description: 'An RTCIceServer entry. TURN credentials are ephemeral (coturn `use-auth-secret`).' },
  ),
  CallRole: { type: 'string', enum: ['customer', 'instructor'] },
  JoinLink: closed(['mode', 'url', 'role'], {
    mode: { const: 'link' },
    url: { type: 'string', format: 'uri', pattern: '^https://', description: 'The remote link to open.' },
    role: schema('CallRole'),
  }),
  JoinNative: closed(['mode', 'signalingUrl', 'ticket', 'expiresAt', 'iceServers', 'role', 'debugLevel'], {
    mode: { const: 'native' },
    signalingUrl: {
      type: 'string',
      format: 'uri',
      pattern: '^wss?://',
      description: 'Where to open the WebSocket, without the ticket.',
    },
    ticket: {
      type: 'string',
      minLength: 1,
      maxLength: 128,
      description: 'Single use, valid for 60 s, binds this user to this meeting.',
    },
    expiresAt: timestamp('When the ticket expires.'),
    iceServers: { type: 'array', items: schema('IceServer') },
    role: schema('CallRole'),
    debugLevel: {
      type: 'integer',
      minimum: 0,
      maximum: 9,
      description: 'From the settings; above 0 the client logs connection details.',
    },
  }),
  JoinResponse: {
    oneOf: [schema('JoinLink'), schema('JoinNative')],
    discriminator: {
      propertyName: 'mode',
      mapping: { link: '#/components/schemas/JoinLink', native: '#/components/schemas/JoinNative' },
    },
  },
  NotificationStatus: {
    type: 'string',
    enum: [...notificationStatuses],
    description:
      '`pending`: to be sent (attempts may be under way). `sent`: the provider took it. `failed`: every attempt of the ' +
      'round failed, or it could not be rendered. `skipped`: nothing to send (see `reason`). `undeliverable`: no address.',
  },
  SkipReason: {
    type: 'string',
    enum: Object.keys(SkipReason.keys),
    description:
      '`disabled`: cancellation emails are switched off; `ended`: every announced session had ended; `reinstated`: the sessions were reinstated.',
  },
  NotificationRecipient: closed(['personId', 'role'], {
    personId: { type: 'string' },
    role: schema('CallRole'),
    email: {
      type: 'string',
      format: 'email',
      description: 'From the people directory; absent when it has no address (then `undeliverable`).',
    },
  }),
  Notification: closed(
    [
      'id',
      'kind',
      'status',
      'meetingIds',
      'cancellationEventId',
      'recipient',
      'announcedMeetingIds',
      'attempts',
      'round',
      'createdAt',
      'updatedAt',
      'revision',
    ],
    {
      id: {
        type: 'string',
        pattern: '^[0-9a-f]{32}$',
        description: 'Derived from the cancellation and the recipient: one cause never mails one person twice.',
      },
      kind: {
        type: 'string',
        enum: ['meeting', 'series'],
        description: '`series`: one email covering the sessions a series cancellation or edit cancelled.',
      },
      status: schema('NotificationStatus'),
      meetingIds: {
        type: 'array',
        items: { type: 'string' },
        minItems: 1,
        description: 'The cancelled sessions, sorted by start.',
      },
      seriesId: { type: 'string', description: 'Set for `series` notifications.' },
      cancellationEventId: {
        type: 'string',
        description:
          'The event that caused it (`SessionCancelled`, `SeriesCancelled` or `SeriesOccurrencesCancelled`).',
      },
      recipient: schema('NotificationRecipient'),
      subject: {
        type: 'string',
        description: 'The rendered subject, once the email of the current round is rendered.',
      },
      announcedMeetingIds: {
        type: 'array',
        items: { type: 'string' },
        description: 'The sessions the email announces: those still cancelled that had not ended when it was rendered.',
      },
      attempts: { type: 'integer', minimum: 0, description: 'Send attempts over all rounds.' },
      round: { type: 'integer', minimum: 0, description: '0, plus one per admin retry.' },
      nextAttemptAt: timestamp('When the next attempt is due, while one is scheduled after a failed attempt.'),
      lastError: { type: 'string', description: 'Why the last attempt failed.' },
      reason: { type: 'string', description: 'Why it was skipped (a SkipReason) or is undeliverable (free text).' },
      providerMessageId: {
        type: 'string',
        description: "The mail provider's id (`outbox:<id>` for the dev outbox), once sent.",
      },
      createdAt: timestamp('When it was requested.'),
      updatedAt: timestamp('When it last changed.'),
      sentAt: timestamp('When it was sent.'),
      revision,
    },
    {
      description: 'One email owed to one recipient for one cancellation, with its delivery record.',
      allOf: [
        {
          if: { properties: { status: { const: 'sent' } }, required: ['status'] },
          then: { required: ['providerMessageId', 'sentAt'] },
        },
        {
          if: { properties: { status: { const: 'failed' } }, required: ['status'] },
          then: { required: ['lastError'] },
        },
        {
          if: { properties: { status: { const: 'skipped' } }, required: ['status'] },
          then: { required: ['reason'], properties: { reason: schema('SkipReason') } },
        },
        {
          if: { properties: { status: { const: 'undeliverable' } }, required: ['status'] },
          then: { required: ['reason'] },
        },
      ],
    },
  ),
  NotificationList: closed(['items'], {
    items: { type: 'array', description: 'Newest first.', items: schema('Notification') },
  }),
  Health: closed(
    ['status', 'ready', 'catchingUp', 'store', 'projections', 'http'],
    {
      status: { type: 'string', enum: ['ok', 'degraded'] },
      ready: {
        type: 'boolean',
        description:
          'Writes are taken: every read model has caught up with the log head as of the start (or the last projection ' +
          'error). Until then writes answer 503 with `Retry-After` and append nothing; reads are answered.',
      },
      catchingUp: {
        type: 'boolean',
        description:
          'The read models are still behind the log head as of the start (a new node, a deleted or old read-model file).',
      },
      http: closed(['clientAborts'], {
        clientAborts: {
          type: 'integer',
          minimum: 0,
          description:
            'Requests whose client closed the connection before its body had arrived (a dropped upload), since this ' +
            'process started. They are no server errors: logged at debug with status 499, never as a 500.',
        },
      }),
      store: closed(['name', 'status'], {
        name: { type: 'string', description: 'Which event store is in use (`sqlite`, `kurrentdb`).' },
        status: {
          type: 'string',
          enum: ['ok', 'unreachable', 'reconnecting', 'down'],
          description:
            "`ok`; `unreachable` when the store did not answer in time; KurrentDB's connection state otherwise.",
        },
      }),
      projections: {
        type: 'object',
        description:
          'Per read model, and for the cancellation-notice reaction (`cancellation-notices`): its checkpoint in the ' +
          'global log, how far behind the head it is, and why it stopped if it did.',
        additionalProperties: closed(['position', 'lag'], {
          position: { type: 'integer', minimum: 0 },
          lag: { type: 'integer', minimum: 0 },
          error: { type: 'string', description: 'Why it stopped.' },
          parked: {
            type: 'integer',
            minimum: 1,
            description:
              'Reactions only: cancellations left behind since start because their notices can never be stored ' +
              '(each is logged as an error); later ones go on.',
          },
        }),
      },
    },
    {
      description: '`ok` needs a reachable store and running projections that have caught up (`ready`).',
      allOf: [
        {
          if: { properties: { status: { const: 'ok' } }, required: ['status'] },
          then: { properties: { store: { properties: { status: { const: 'ok' } } } } },
        },
      ],
    },
  ),
  SignalingServerMessage: {
    description: 'Frames the signaling server sends (JSON text).',
    oneOf: [
      {
        type: 'object',
        required: ['type', 'peerId', 'meetingId', 'role', 'iceServers'],
        properties: {
          type: { const: 'welcome' },
          peerId: { type: 'string' },
          meetingId: { type: 'string' },
          role: schema('CallRole'),
          iceServers: { type: 'array', items: schema('IceServer') },
        },
      },
      {
        type: 'object',
        required: ['type', 'peer', 'connectionId', 'initiator'],
        properties: {
          type: { const: 'peer-joined' },
          peer: {
            type: 'object',
            required: ['peerId', 'role'],
            properties: { peerId: { type: 'string' }, role: schema('CallRole') },
          },
          connectionId: { type: 'string' },
          initiator: { type: 'boolean', description: 'True for the instructor.' },
        },
      },
      {
        type: 'object',
        required: ['type', 'from', 'connectionId', 'data'],
        properties: {
          type: { const: 'signal' },
          from: { type: 'string' },
          connectionId: { type: 'string' },
          data: { type: 'object' },
        },
      },
      {
        type: 'object',
        required: ['type', 'peerId'],
        properties: { type: { const: 'peer-left' }, peerId: { type: 'string' } },
      },
      {
        type: 'object',
        required: ['type', 'code', 'message'],
        properties: { type: { const: 'error' }, code: { type: 'string' }, message: { type: 'string' } },
      },
    ],
  },
  SignalingClientMessage: {
    description: 'Frames a client sends (JSON text, at most 64 KiB).',
    oneOf: [
      {
        type: 'object',
        required: ['type', 'connectionId', 'data'],
        properties: {
          type: { const: 'signal' },
          connectionId: { type: 'string', maxLength: 128 },
          data: { type: 'object', description: "simple-peer's signal object, relayed unchanged." },
        },
      },
      { type: 'object', required: ['type'], properties: { type: { const: 'leave' } } },
    ],
  },
};

// ---------- parameters, headers, responses ----------

const pathId = (description: string): Json => ({
  in: 'path',
  required: true,
  description,
  schema: idSchema,
});

const parameters: Json = {
  HistoryAfter: {
    name: 'after',
    in: 'query',
    required: false,
    description: 'Only events after this revision (the `next` of the previous page); -1 or absent for the start.',
    schema: { type: 'string', pattern: '^-?\\d{1,15}$' },
  },
  HistoryLimit: {
    name: 'limit',
    in: 'query',
    required: false,
    description: 'At most this many events (1 to 1000, the default).',
    schema: { type: 'string', pattern: '^\\d{1,4}$' },
  },
  MeetingId: { name: 'id', ...pathId('Meeting id.') },
  SeriesId: { name: 'id', ...pathId('Series id.') },
  PersonId: { name: 'id', ...pathId('Person id: the user id (JWT `sub`).') },
  NotificationId: { name: 'id', ...pathId('Notification id (32 hexadecimal digits).') },
  IfMatch: {
    name: 'If-Match',
    in: 'header',
    required: false,
    // No example: Swagger UI would pre-fill it and every edit from the docs page would be refused with 412.
    description:
      'The `ETag` of the last answer you got for this resource, quotes included (like `"3"`). When given and the resource has moved on, the answer is 412 and nothing changes. `*` or no header: apply to whatever is current.',
    schema: { type: 'string', pattern: '^\\s*(\\*|(W/)?"-?\\d{1,15}")\\s*$' },
  },
  IfNoneMatch: {
    name: 'If-None-Match',
    in: 'header',
    required: false,
    description: 'The `ETag` the client holds (from an earlier answer); 304 when it is still current.',
    schema: { type: 'string' },
  },
  IdempotencyKey: {
    name: 'Idempotency-Key',
    in: 'header',
    required: false,
    description:
      "Makes a retry safe (IETF httpapi idempotency-key draft; Stripe's semantics). 1 to 255 printable ASCII " +
      'characters, bare or as a quoted Structured Field string; a random UUID per request is a good key; scoped per ' +
      'user. The same key with the same request (method, path, `If-Match`, body compared as JSON) within 24 hours gets ' +
      'the first answer again (status, body, `Location`, `ETag`) with `Idempotent-Replayed: true`, and nothing is written ' +
      'again, even when the first attempt was cut short after it wrote (a crash, a lost connection). Answers below 500 ' +
      'are final; after a 5xx the key runs the request again. Another request with the key: 422; while the first is ' +
      'still running: 409 with `Retry-After`. Keys are kept in the event log, so they hold across restarts and nodes.',
    schema: { type: 'string', minLength: 1, maxLength: 257, pattern: '^[\\x20-\\x7e]+$' },
  },
  XRequestId: {
    name: 'X-Request-Id',
    in: 'header',
    required: false,
    description:
      'Correlation id (`[A-Za-z0-9_.-]`, up to 64); echoed back and recorded in event metadata. A new one is made when absent or malformed.',
    schema: { type: 'string', pattern: '^[\\w.-]{1,64}$' },
  },
  From: {
    name: 'from',
    in: 'query',
    required: true,
    description: 'Start of the range (inclusive).',
    schema: { type: 'string', format: 'date-time' },
    example: '2026-03-01T00:00:00Z',
  },
  To: {
    name: 'to',
    in: 'query',
    required: true,
    description: 'End of the range (exclusive); after `from`, at most 366 days later.',
    schema: { type: 'string', format: 'date-time' },
    example: '2026-04-01T00:00:00Z',
  },
  UserId: {
    name: 'userId',
    in: 'query',
    required: false,
    description: 'Whose calendar; default the caller. Only admins may name someone else.',
    schema: idSchema,
  },
};

// Each of these is sent whenever a response names it.
const headers: Json = {
  XRequestId: {
    description: 'The request id (sent by the client or made by the server); quote it when reporting a problem.',
    required: true,
    schema: { type: 'string', pattern: '^[\\w.-]{1,64}$' },
  },
  ETag: {
    description: 'Strong ETag carrying the revision, like `"3"`; send it back in `If-Match`.',
    required: true,
    schema: { type: 'string', pattern: '^"\\d+"$' },
  },
  Location: {
    description: 'Path of the created resource.',
    required: true,
    schema: { type: 'string', format: 'uri-reference', pattern: '^/' },
  },
  RetryAfter: {
    description: 'Seconds to wait before trying again.',
    required: true,
    schema: { type: 'integer', minimum: 1 },
  },
  IdempotentReplayed: {
    description: '`true` when this is the recorded answer to an earlier request with the same `Idempotency-Key`.',
    required: false,
    schema: { const: 'true' },
  },
  WWWAuthenticate: {
    description: '`Bearer error="invalid_token", error_description="…"`',
    required: true,
    schema: { type: 'string', pattern: '^Bearer ' },
  },
  NoStore: {
    description: 'The answer holds a secret (a join ticket, a calendar feed token) and must not be cached.',
    required: true,
    schema: { const: 'no-store' },
  },
  ReadVersion: {
    description:
      'Weak, opaque ETag that changes whenever the read models do, like `W/"o3kQm2fX0c1q9ZbLhT7a1A"`; send it back in `If-None-Match`. ' +
      'Sent when the access provider decides from the event-sourced data alone (the default one does).',
    required: false,
    schema: { type: 'string', pattern: '^W/"[A-Za-z0-9_-]+"$' },
  },
};

const responses: Json = {
  BadRequest: reply(
    'The request is malformed or fails validation; `errors` lists every bad field (unknown fields included). ' +
      'A malformed `If-Match` or `Idempotency-Key` also answers 400.',
    problemJson(exampleValidationProblem),
  ),
  Unauthorized: reply(
    'No bearer token, or one that is expired, badly signed, lacks `sub`/`roles`, has an empty `roles`, a `sub` with ' +
      'control, bidirectional or invisible formatting characters, or a lifetime (`exp` minus `iat`, or minus now) longer ' +
      'than the server accepts (`AUTH_MAX_TOKEN_TTL_SECONDS`, 24 hours by default).',
    problemJson({
      type: 'about:blank',
      title: 'Unauthorized',
      status: 401,
      detail: 'an Authorization: Bearer <token> header is required',
    }),
    { 'WWW-Authenticate': header('WWWAuthenticate') },
  ),
  Forbidden: reply(
    'Authenticated but not allowed (for example not an admin, or an instructor acting for someone else).',
    problemJson({ type: 'about:blank', title: 'Forbidden', status: 403, detail: 'you may not change this meeting' }),
  ),
  NotFound: reply(
    'No such resource, or one the caller may not see: meetings, series and people the caller has no access to ' +
      'answer 404, exactly like missing ones, so that their existence does not leak.',
    problemJson({ type: 'about:blank', title: 'Not found', status: 404, detail: 'meeting not found' }),
  ),
  Conflict: reply(
    'The change does not fit the current state (cancelled, wrong state for the transition, double booking, or too ' +
      'many concurrent changes). On double booking `conflicts` lists the overlapping meetings.',
    problemJson(exampleConflictProblem),
  ),
  IdempotencyKeyReused: reply(
    'This `Idempotency-Key` was used for a different request (method, path, `If-Match` or body) within 24 hours; nothing was done. Use a new key for a new request.',
    problemJson({
      type: 'about:blank',
      title: 'Idempotency-Key reused',
      status: 422,
      detail:
        'this Idempotency-Key was used for a different request (method, path, If-Match or body); use a new key for a new request',
    }),
  ),
  IdempotencyInProgress: reply(
    'A request with the same `Idempotency-Key` is still in progress; try again after `Retry-After` seconds.',
    problemJson({
      type: 'about:blank',
      title: 'Request in progress',
      status: 409,
      detail: 'a request with this Idempotency-Key is still being processed; try again after Retry-After seconds',
    }),
    { 'Retry-After': header('RetryAfter') },
  ),
  PreconditionFailed: reply(
    '`If-Match` names a revision that is no longer current; `currentRevision` says which is. Nothing was changed.',
    problemJson({
      type: 'about:blank',
      title: 'Precondition failed',
      status: 412,
      detail: 'the resource is at revision 4, not 3',
      currentRevision: 4,
    }),
  ),
  PayloadTooLarge: reply(
    'The body is larger than 64 KiB.',
    problemJson({
      type: 'about:blank',
      title: 'Payload too large',
      status: 413,
      detail: 'request bodies are limited to 65536 bytes',
    }),
  ),
  UnsupportedMediaType: reply(
    'A body was sent with a content type other than `application/json` (or `application/*+json`).',
    problemJson({
      type: 'about:blank',
      title: 'Unsupported media type',
      status: 415,
      detail: 'send the body as application/json',
    }),
  ),
  TooManyRequests: reply(
    'Rate limited per user (token bucket); wait `Retry-After` seconds.',
    problemJson({ type: 'about:blank', title: 'Too many requests', status: 429, detail: 'slow down; see Retry-After' }),
    { 'Retry-After': header('RetryAfter') },
  ),
  InternalError: reply(
    'Unexpected failure; `detail` quotes the request id.',
    problemJson({
      type: 'about:blank',
      title: 'Internal error',
      status: 500,
      detail: 'something went wrong; quote request id lx2k9c-1f',
    }),
  ),
  Unavailable: reply(
    'The read models are catching up with the log (a node just started with a new, deleted or old read-model file) or ' +
      'stopped on an error and are restarting; nothing was written. Try again after `Retry-After` seconds.',
    problemJson({
      type: 'about:blank',
      title: 'Service unavailable',
      status: 503,
      detail: 'the read models are recovering from an error; try again in a few seconds',
    }),
    { 'Retry-After': header('RetryAfter') },
  ),
};

// ---------- operations ----------

type Security = 'bearer' | 'none' | 'calendarToken' | 'ticket';

interface OperationSpec {
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tags: ReadonlyArray<string>;
  readonly security?: Security;
  readonly parameters?: ReadonlyArray<Json>;
  readonly requestBody?: Json;
  readonly responses: Json;
  /**
   * Takes `Idempotency-Key` (adapters/http/app.ts IDEMPOTENT_POSTS): `secret` when the answer holds a secret that is
   * not kept, so a repeat says so instead of repeating it.
   */
  readonly idempotent?: 'replay' | 'secret';
}

const IN_PROGRESS =
  ' Also when a request with the same `Idempotency-Key` is still in progress (then with `Retry-After`).';
const NOT_REPEATED =
  ' Also when the request was repeated with its `Idempotency-Key`: the secret it answered is shown only once and kept nowhere (title `Answer not repeated`, `originalStatus`); send it with a new key to get a new one.';

/** The `Idempotency-Key` parameter, its 400/409/422 answers, and `Idempotent-Replayed` on its successes. */
const withIdempotency = (spec: OperationSpec): OperationSpec => {
  if (spec.idempotent === undefined) return spec;
  const responses = spec.responses as Record<string, Json>;
  const marked: Record<string, Json> = {};
  for (const [code, r] of Object.entries(responses)) {
    const inline = r as { headers?: Record<string, Json>; $ref?: string };
    marked[code] =
      code.startsWith('2') && inline.$ref === undefined
        ? { ...inline, headers: { ...(inline.headers ?? {}), 'Idempotent-Replayed': header('IdempotentReplayed') } }
        : r;
  }
  const conflict = responses['409'] as { description?: string } | undefined;
  const also = `${IN_PROGRESS}${spec.idempotent === 'secret' ? NOT_REPEATED : ''}`;
  marked['409'] =
    conflict === undefined
      ? spec.idempotent === 'secret'
        ? {
            ...(response('IdempotencyInProgress') as object),
            description: `A request with the same \`Idempotency-Key\` is still in progress (with \`Retry-After\`).${NOT_REPEATED}`,
          }
        : response('IdempotencyInProgress')
      : { ...conflict, description: `${conflict.description ?? 'The change does not fit the current state.'}${also}` };
  marked['422'] = response('IdempotencyKeyReused');
  marked['400'] = responses['400'] ?? response('BadRequest');
  // Claiming a key is a write: refused like one while the read models catch up.
  marked['503'] = responses['503'] ?? response('Unavailable');
  return { ...spec, parameters: [...(spec.parameters ?? []), param('IdempotencyKey')], responses: marked };
};

const securityOf = (security: Security): ReadonlyArray<Json> => {
  switch (security) {
    case 'bearer':
      return [{ bearerAuth: [] }];
    case 'none':
      return [];
    case 'calendarToken':
      return [{ calendarToken: [] }];
    case 'ticket':
      return [{ signalingTicket: [] }];
    default: {
      const never: never = security;
      return never;
    }
  }
};

/** Adds what every operation of its kind can answer: auth and rate limits for bearer routes, body problems for bodies. */
const operation = (given: OperationSpec): Json => {
  const spec = withIdempotency(given);
  const security = spec.security ?? 'bearer';
  const ifMatch = (spec.parameters ?? []).some((p) => p.$ref === (param('IfMatch') as { $ref: string }).$ref);
  const common: Json = {
    ...(security === 'bearer' ? { '401': response('Unauthorized'), '429': response('TooManyRequests') } : {}),
    ...(ifMatch ? { '400': response('BadRequest') } : {}),
    ...(spec.requestBody !== undefined
      ? { '400': response('BadRequest'), '413': response('PayloadTooLarge'), '415': response('UnsupportedMediaType') }
      : {}),
    ...(security === 'bearer' && (spec.requestBody !== undefined || ifMatch) ? { '503': response('Unavailable') } : {}),
    '500': response('InternalError'),
  };
  return {
    operationId: spec.operationId,
    summary: spec.summary,
    ...(spec.description !== undefined ? { description: spec.description } : {}),
    tags: spec.tags,
    security: securityOf(security),
    parameters: [...(spec.parameters ?? []), param('XRequestId')],
    ...(spec.requestBody !== undefined ? { requestBody: spec.requestBody } : {}),
    responses: { ...common, ...spec.responses },
  };
};

const body = (target: Json, description: string, example?: unknown, required = true): Json => ({
  required,
  description,
  content: json(target, example),
});

const meetingResponse = (description: string, example: unknown = exampleMeeting): Json =>
  reply(description, json(schema('MeetingView'), example), { ETag: header('ETag') });
const seriesResponse = (description: string, example: unknown = exampleSeries): Json =>
  reply(description, json(schema('Series'), example), { ETag: header('ETag') });

const meetingTransition = (
  operationId: string,
  summary: string,
  description: string,
  conflict: string,
  requestBody?: Json,
): Json =>
  operation({
    operationId,
    summary,
    description: `${description} Admins and the meeting's instructor only.`,
    tags: ['meetings'],
    parameters: [param('MeetingId'), param('IfMatch')],
    idempotent: 'replay',
    ...(requestBody !== undefined ? { requestBody } : {}),
    responses: {
      '200': meetingResponse('The meeting after the change.'),
      '403': response('Forbidden'),
      '404': response('NotFound'),
      '409': { ...(response('Conflict') as object), description: conflict },
      '412': response('PreconditionFailed'),
    },
  });

const paths: Json = {
  '/health': {
    get: operation({
      operationId: 'getHealth',
      summary: 'Liveness and readiness',
      description: 'The event store status and, per projection, its position and lag behind the log.',
      tags: ['system'],
      security: 'none',
      responses: {
        '200': reply(
          'Healthy.',
          json(schema('Health'), {
            status: 'ok',
            ready: true,
            catchingUp: false,
            store: { name: 'sqlite', status: 'ok' },
            projections: { meetings: { position: 131, lag: 0 } },
            http: { clientAborts: 0 },
          }),
        ),
        '503': reply(
          'Degraded: the store is unreachable, a projection stopped, or the read models are still catching up (`ready: false`).',
          json(schema('Health')),
        ),
      },
    }),
  },
  '/openapi.json': {
    get: operation({
      operationId: 'getOpenApiDocument',
      summary: 'This OpenAPI 3.1 document',
      tags: ['system'],
      security: 'none',
      responses: { '200': reply('The document.', json({ type: 'object' })) },
    }),
  },
  '/docs': {
    get: operation({
      operationId: 'getApiDocs',
      summary: 'Browsable API documentation (Swagger UI, served locally)',
      tags: ['system'],
      security: 'none',
      responses: { '200': reply('An HTML page.', { 'text/html': { schema: { type: 'string' } } }) },
    }),
  },
  '/docs/assets/{file}': {
    get: operation({
      operationId: 'getApiDocsAsset',
      summary: "A file of the docs page (Swagger UI's script and style sheet, served from the installed package)",
      tags: ['system'],
      security: 'none',
      parameters: [
        {
          name: 'file',
          in: 'path',
          required: true,
          description: 'One of a fixed list; nothing in the request becomes a file path.',
          schema: {
            type: 'string',
            enum: ['swagger-ui.css', 'swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js', 'init.js'],
          },
        },
      ],
      responses: {
        '200': reply('The file.', {
          'text/css': { schema: { type: 'string' } },
          'text/javascript': { schema: { type: 'string' } },
        }),
        '404': { ...(response('NotFound') as object), description: 'No such file.' },
      },
    }),
  },
  '/static/{file}': {
    get: operation({
      operationId: 'getStaticFile',
      summary: 'A file of the call page: its page, script and style sheet, the call client and simple-peer',
      description:
        '`call-client.js` is the browser module behind the call page (see `/call`); it can drive a call from any page of this origin.',
      tags: ['calls'],
      security: 'none',
      parameters: [
        {
          name: 'file',
          in: 'path',
          required: true,
          description: 'One of a fixed list; nothing in the request becomes a file path.',
          schema: {
            type: 'string',
            enum: ['call-client.js', 'simplepeer.min.js', 'call.html', 'call-page.js', 'call.css'],
          },
        },
      ],
      responses: {
        '200': reply('The file (an HTML page with a strict Content-Security-Policy).', {
          'text/javascript': { schema: { type: 'string' } },
          'text/html': { schema: { type: 'string' } },
          'text/css': { schema: { type: 'string' } },
        }),
        '404': { ...(response('NotFound') as object), description: 'No such file.' },
      },
    }),
  },
  '/call': {
    get: operation({
      operationId: 'getCallPage',
      summary: 'The browser call page',
      description:
        'Open as `/call?meeting=<id>#token=<bearer token>`; the token stays in the URL fragment, so it never reaches the server (without one the page asks for it). The page joins the meeting, then runs the native call or links out. Served with a strict Content-Security-Policy; also at `/static/call.html`.',
      tags: ['calls'],
      security: 'none',
      parameters: [
        {
          name: 'meeting',
          in: 'query',
          required: false,
          description: 'The meeting to join.',
          schema: { type: 'string', minLength: 1 },
        },
      ],
      responses: { '200': reply('An HTML page.', { 'text/html': { schema: { type: 'string' } } }) },
    }),
  },
  '/people/{id}': {
    put: operation({
      operationId: 'putPerson',
      summary: 'Create or update a person in the directory',
      description: 'The directory gives names for calendars and addresses for notifications. Admins only.',
      tags: ['people'],
      parameters: [param('PersonId')],
      requestBody: body(schema('PersonInput'), 'The person.', {
        name: 'Casey Customer',
        email: 'casey@example.com',
        timezone: 'Europe/Amsterdam',
      }),
      responses: {
        '200': reply(
          'The person as stored.',
          json(schema('Person'), {
            id: 'cust-42',
            name: 'Casey Customer',
            email: 'casey@example.com',
            timezone: 'Europe/Amsterdam',
            updatedAt: '2026-02-20T14:00:00.000Z',
          }),
        ),
        '403': response('Forbidden'),
        '409': {
          ...(response('Conflict') as object),
          description: 'Too many concurrent changes to this person; try again.',
        },
      },
    }),
    get: operation({
      operationId: 'getPerson',
      summary: 'Read a person',
      description:
        'Admins read anyone; others only themselves (anyone else answers 403, whether or not the person exists).',
      tags: ['people'],
      parameters: [param('PersonId')],
      responses: {
        '200': reply(
          'The person.',
          json(schema('Person'), {
            id: 'cust-42',
            name: 'Casey Customer',
            email: 'casey@example.com',
            updatedAt: '2026-02-20T14:00:00.000Z',
          }),
        ),
        '403': response('Forbidden'),
        '404': response('NotFound'),
      },
    }),
  },
  '/meetings': {
    post: operation({
      operationId: 'createMeeting',
      idempotent: 'replay',
      summary: 'Schedule a meeting',
      description:
        'Admins for anyone; instructors for their own sessions (`instructorId` = their `sub`). The meeting starts `planned`. ' +
        'Both people must be known (by default: in the people directory); an unknown `customerId` or `instructorId` answers 400 naming it.',
      tags: ['meetings'],
      requestBody: {
        required: true,
        description: 'The meeting.',
        content: {
          'application/json': {
            schema: schema('MeetingInput'),
            examples: {
              native: { summary: 'A native 1-1 call', value: exampleMeetingInput },
              link: { summary: 'An outside meeting link', value: exampleLinkMeetingInput },
            },
          },
        },
      },
      responses: {
        '201': reply('Created.', json(schema('MeetingView'), exampleMeeting), {
          ETag: header('ETag'),
          Location: header('Location'),
        }),
        '403': response('Forbidden'),
        '409': response('Conflict'),
      },
    }),
  },
  '/meetings/{id}': {
    get: operation({
      operationId: 'getMeeting',
      summary: 'Read a meeting',
      description: 'Admins, its customer and its instructor.',
      tags: ['meetings'],
      parameters: [param('MeetingId'), param('IfNoneMatch')],
      responses: {
        '200': meetingResponse('The meeting.'),
        '304': reply('Not modified: the ETag in `If-None-Match` is current.', undefined, { ETag: header('ETag') }),
        '404': response('NotFound'),
      },
    }),
    patch: operation({
      operationId: 'updateMeeting',
      summary: 'Change a meeting',
      description:
        'Change any editable field. Admins and its instructor. A cancelled meeting cannot be changed (409): reinstate it first.',
      tags: ['meetings'],
      parameters: [param('MeetingId'), param('IfMatch')],
      requestBody: body(schema('MeetingPatch'), 'The fields to change.', {
        start: '2026-03-02T11:00:00+01:00',
        end: '2026-03-02T12:00:00+01:00',
      }),
      responses: {
        '200': meetingResponse('The meeting after the change.', {
          ...exampleMeeting,
          start: '2026-03-02T10:00:00.000Z',
          end: '2026-03-02T11:00:00.000Z',
          revision: 1,
        }),
        '403': response('Forbidden'),
        '404': response('NotFound'),
        '409': response('Conflict'),
        '412': response('PreconditionFailed'),
      },
    }),
  },
  '/meetings/{id}/cancel': {
    post: meetingTransition(
      'cancelMeeting',
      'Cancel a meeting',
      'planned or scheduled → cancelled. The customer is notified by email (see settings).',
      'The meeting is already cancelled.',
      body(schema('CancelInput'), 'Optional; an empty body is fine.', { reason: 'Instructor is ill' }, false),
    ),
  },
  '/meetings/{id}/confirm': {
    post: meetingTransition(
      'confirmMeeting',
      'Confirm a meeting',
      'planned → scheduled.',
      'The meeting is not planned.',
    ),
  },
  '/meetings/{id}/reinstate': {
    post: meetingTransition(
      'reinstateMeeting',
      'Reinstate a cancelled meeting',
      'cancelled → planned.',
      'The meeting is not cancelled.',
    ),
  },
  '/meetings/{id}/history': {
    get: operation({
      operationId: 'getMeetingHistory',
      summary: 'Audit history of a meeting',
      description: 'Every recorded event, oldest first, with who and when. Admins, its customer and its instructor.',
      tags: ['meetings'],
      parameters: [param('MeetingId'), param('HistoryAfter'), param('HistoryLimit')],
      responses: {
        '200': reply('The history.', json(schema('History'), exampleHistory)),
        '400': response('BadRequest'),
        '404': response('NotFound'),
      },
    }),
  },
  '/meetings/{id}/join': {
    post: operation({
      operationId: 'joinMeeting',
      summary: 'Join the call of a meeting',
      description:
        'For its customer and its instructor only: admins manage meetings but do not join them, so for anyone else ' +
        'the meeting answers 404. A `link` meeting answers the remote link; a `1-1` meeting answers a single-use ' +
        'signaling ticket (60 s) with ICE servers and ephemeral TURN credentials. The call may be joined from 15 ' +
        'minutes before the start until the end. Answers are `Cache-Control: no-store`.',
      tags: ['calls'],
      parameters: [param('MeetingId')],
      responses: {
        '200': {
          description: 'How to join.',
          headers: { 'X-Request-Id': header('XRequestId'), 'Cache-Control': header('NoStore') },
          content: {
            'application/json': {
              schema: schema('JoinResponse'),
              examples: {
                link: {
                  summary: 'A link meeting',
                  value: { mode: 'link', url: 'https://meet.example.com/abc-defg-hij', role: 'customer' },
                },
                native: {
                  summary: 'A native call',
                  value: {
                    mode: 'native',
                    signalingUrl: 'wss://coaching.example.com/signaling',
                    ticket: 'Qm9vdHN0cmFwVGlja2V0RXhhbXBsZTEyMzQ1Njc4OTA',
                    iceServers: [
                      { urls: ['stun:stun.l.google.com:19302'] },
                      {
                        urls: ['turn:turn.example.com:3478'],
                        username: '1772442000:cust-42',
                        credential: 'q3mY0m3b2d7Jx5y4K0bYJmX0m2E=',
                      },
                    ],
                    role: 'customer',
                    debugLevel: 0,
                    expiresAt: '2026-03-02T08:51:00.000Z',
                  },
                },
              },
            },
          },
        },
        '403': {
          ...(response('Forbidden') as object),
          description: 'An admin: admins see the meeting, but only its two participants join the call.',
        },
        '404': {
          ...(response('NotFound') as object),
          description: 'No such meeting, the caller may not see it, or calls are not enabled on this server.',
        },
        '409': {
          ...(response('Conflict') as object),
          description:
            'The meeting is cancelled, or it is outside the join window (more than 15 minutes before the start, or ended).',
        },
      },
    }),
  },
  '/series': {
    post: operation({
      operationId: 'createSeries',
      idempotent: 'replay',
      summary: 'Schedule a recurring series',
      description:
        'Admins for anyone; instructors for their own. Every occurrence becomes a meeting. When an occurrence would ' +
        'overlap an existing meeting of the customer or the instructor, nothing is created and 409 lists the `conflicts`. ' +
        'Both people must be known (by default: in the people directory); an unknown `customerId` or `instructorId` answers 400 naming it.',
      tags: ['series'],
      requestBody: body(schema('SeriesInput'), 'The series.', exampleSeriesInput),
      responses: {
        '201': reply('Created, with its occurrences.', json(schema('Series'), exampleSeries), {
          ETag: header('ETag'),
          Location: header('Location'),
        }),
        '403': response('Forbidden'),
        '409': response('Conflict'),
      },
    }),
  },
  '/series/{id}': {
    get: operation({
      operationId: 'getSeries',
      summary: 'Read a series with its occurrences',
      description: 'Admins, its customer and its instructor.',
      tags: ['series'],
      parameters: [param('SeriesId')],
      responses: { '200': seriesResponse('The series.'), '404': response('NotFound') },
    }),
    patch: operation({
      operationId: 'updateSeries',
      summary: 'Change a series',
      description:
        'Change the recurrence or other fields (see SeriesPatch for what happens to occurrences). Admins and its instructor. A cancelled series cannot be changed (409).',
      tags: ['series'],
      parameters: [param('SeriesId'), param('IfMatch')],
      requestBody: body(schema('SeriesPatch'), 'The fields to change.', {
        startTime: '11:00',
        rrule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=6',
      }),
      responses: {
        '200': seriesResponse('The series after the change.'),
        '403': response('Forbidden'),
        '404': response('NotFound'),
        '409': response('Conflict'),
        '412': response('PreconditionFailed'),
      },
    }),
  },
  '/series/{id}/cancel': {
    post: operation({
      operationId: 'cancelSeries',
      idempotent: 'replay',
      summary: 'Cancel a series from a point in time',
      description:
        'Cancels every occurrence starting at or after `from` (default now); earlier ones are kept. The customer gets one ' +
        'email listing the cancelled sessions. Admins and its instructor.',
      tags: ['series'],
      parameters: [param('SeriesId'), param('IfMatch')],
      requestBody: body(
        schema('SeriesCancelInput'),
        'Optional; an empty body is fine.',
        { reason: 'Studio closed for renovation', from: '2026-03-09T00:00:00Z' },
        false,
      ),
      responses: {
        '200': seriesResponse('The series after the cancellation.', {
          ...exampleSeries,
          state: 'cancelled',
          revision: 1,
        }),
        '403': response('Forbidden'),
        '404': response('NotFound'),
        '409': { ...(response('Conflict') as object), description: 'The series is already cancelled.' },
        '412': response('PreconditionFailed'),
      },
    }),
  },
  '/series/{id}/history': {
    get: operation({
      operationId: 'getSeriesHistory',
      summary: 'Audit history of a series',
      description: 'As the meeting history, for the series stream. Who may read it: as `GET /series/{id}`.',
      tags: ['series'],
      parameters: [param('SeriesId'), param('HistoryAfter'), param('HistoryLimit')],
      responses: {
        '200': reply('The history.', json(schema('History'))),
        '400': response('BadRequest'),
        '404': response('NotFound'),
      },
    }),
  },
  '/calendar': {
    get: operation({
      operationId: 'getCalendar',
      summary: "A user's meetings in a time range",
      description:
        'Every meeting of the user, as customer or as instructor, overlapping `[from, to)`, sorted by start; cancelled ' +
        "meetings are included with their state. Users read their own calendar; admins anyone's.",
      tags: ['calendar'],
      parameters: [param('From'), param('To'), param('UserId'), param('IfNoneMatch')],
      responses: {
        '200': reply('The calendar.', json(schema('Calendar'), exampleCalendar), { ETag: header('ReadVersion') }),
        '304': reply('Not modified: nothing has changed since the ETag in `If-None-Match`.', undefined, {
          ETag: header('ReadVersion'),
        }),
        '400': response('BadRequest'),
        '403': response('Forbidden'),
      },
    }),
  },
  '/calendar/feed': {
    post: operation({
      operationId: 'enableCalendarFeed',
      idempotent: 'secret',
      summary: 'Subscribe to a calendar: issue a secret ICS feed URL',
      description:
        'Issues a new secret URL for `GET /calendar.ics` and revokes the previous one (rotation): calendar apps (Google, ' +
        'Apple, Outlook) cannot send bearer tokens, so the URL carries the credential. The token is shown only in this ' +
        "answer; the event log records only its SHA-256. Users manage their own feed; admins anyone's (as `GET /calendar`).",
      tags: ['calendar'],
      requestBody: body(schema('CalendarFeedInput'), 'Optional; whose feed.', { userId: 'cust-42' }, false),
      responses: {
        '201': reply(
          'The new feed URL; earlier URLs of this user no longer work.',
          json(schema('CalendarFeedSubscription'), {
            url: 'https://coaching.example.com/calendar.ics?token=q3YhT0c9d1W2x8Zk4n6b7M5p0R1s2T3u4V5w6X7y8Z9',
            token: 'q3YhT0c9d1W2x8Zk4n6b7M5p0R1s2T3u4V5w6X7y8Z9',
          }),
          { 'Cache-Control': header('NoStore') },
        ),
        '403': response('Forbidden'),
      },
    }),
    delete: operation({
      operationId: 'disableCalendarFeed',
      summary: 'Unsubscribe: revoke the ICS feed URL',
      description:
        'The feed URL stops working at once (401). Revoking a feed that is not enabled is fine too. Self; admins for anyone.',
      tags: ['calendar'],
      parameters: [
        {
          name: 'userId',
          in: 'query',
          required: false,
          description: 'Whose feed; default the caller. Only admins may name someone else.',
          schema: idSchema,
        },
      ],
      responses: { '204': reply('Revoked.'), '400': response('BadRequest'), '403': response('Forbidden') },
    }),
  },
  '/calendar.ics': {
    get: operation({
      operationId: 'getCalendarFeed',
      summary: "A user's calendar as an ICS feed",
      description:
        'For calendar subscriptions; the secret `token` from `POST /calendar/feed` is the credential (no bearer token). ' +
        "The user's sessions as customer and as instructor, from 30 days ago to 400 days ahead. Each is a VEVENT with " +
        'UID `<meetingId>@<host of PUBLIC_BASE_URL>` and SEQUENCE as in the cancellation emails, STATUS TENTATIVE ' +
        '(planned), CONFIRMED (scheduled) or CANCELLED (kept, so calendar apps remove it), UTC times, the other participant ' +
        'and the call link, and the instructor as ORGANIZER (`CN` quoted, RFC 6868 carets for `"`, `^` and line breaks; ' +
        "the site's `MAIL_FROM` when the instructor has no address). `X-WR-CALNAME` is escaped as TEXT. Refresh hints: `REFRESH-INTERVAL` and `X-PUBLISHED-TTL` of one hour. A missing, malformed, " +
        'unknown or revoked token gets the same 401. Rate-limited per token.',
      tags: ['calendar'],
      security: 'calendarToken',
      parameters: [
        {
          name: 'token',
          in: 'query',
          required: true,
          description: 'The feed token.',
          schema: { type: 'string', minLength: 1 },
        },
      ],
      responses: {
        '200': reply(
          'The feed (RFC 5545, lines folded at 75 octets).',
          {
            'text/calendar': {
              schema: { type: 'string' },
              example: [
                'BEGIN:VCALENDAR',
                'VERSION:2.0',
                'CALSCALE:GREGORIAN',
                'PRODID:-//Virtual Y//1on1 Meetings//EN',
                'METHOD:PUBLISH',
                'X-WR-CALNAME:Virtual Y: Cora Customer',
                'X-PUBLISHED-TTL:PT1H',
                'REFRESH-INTERVAL;VALUE=DURATION:PT1H',
                'BEGIN:VEVENT',
                'UID:0b9f7a52-3c1e-4b7e-9a53-6f1d2c4e8a10@coaching.example.com',
                'SUMMARY:Strength basics',
                'DTSTAMP:20260301T120000Z',
                'DTSTART:20260302T090000Z',
                'DTEND:20260302T100000Z',
                'SEQUENCE:0',
                'DESCRIPTION:Instructor: Ivan Instructor\\nJoin: https://coaching.example.com',
                ' /call?meeting=0b9f7a52-3c1e-4b7e-9a53-6f1d2c4e8a10',
                'URL:https://coaching.example.com/call?meeting=0b9f7a52-3c1e-4b7e-9a53-6f1d2',
                ' c4e8a10',
                'STATUS:TENTATIVE',
                'TRANSP:OPAQUE',
                'LAST-MODIFIED:20260220T140311Z',
                'ORGANIZER;CN="Ivan Instructor":mailto:ivan@example.com',
                'END:VEVENT',
                'END:VCALENDAR',
                '',
              ].join('\r\n'),
            },
          },
          { 'Cache-Control': { description: 'Per-user content.', schema: { type: 'string' } } },
        ),
        '401': reply(
          'The token is missing, malformed, unknown or revoked (one answer for all).',
          problemJson({
            type: 'about:blank',
            title: 'Unauthorized',
            status: 401,
            detail: 'unknown or revoked calendar feed token',
          }),
        ),
        '429': reply(
          'Too many requests for this feed; wait `Retry-After` seconds.',
          problemJson({
            type: 'about:blank',
            title: 'Too many requests',
            status: 429,
            detail: 'slow down; see Retry-After',
          }),
          { 'Retry-After': header('RetryAfter') },
        ),
      },
    }),
  },
  '/signaling': {
    get: operation({
      operationId: 'openSignaling',
      summary: 'WebSocket signaling for native calls',
      description: [
        'Upgrades to a WebSocket (`Connection: Upgrade`, `Upgrade: websocket`) on the same port. The `ticket` comes from',
        '`POST /meetings/{id}/join`; it is single use, expires after 60 s, and binds one user to one meeting. Browsers from',
        'origins the server does not allow are refused with 403 before the upgrade.',
        '',
        'Frames are JSON text, at most 64 KiB (see the SignalingServerMessage and SignalingClientMessage schemas).',
        '',
        'Server to client: `{type: "welcome", peerId, meetingId, role, iceServers}`; `{type: "peer-joined", peer: {peerId, role},',
        'connectionId, initiator}` to both when the room has two (the instructor is the initiator); `{type: "signal", from,',
        'connectionId, data}`; `{type: "peer-left", peerId}`; `{type: "error", code, message}`.',
        '',
        'Client to server: `{type: "signal", connectionId, data}` where `data` is simple-peer\'s signal object, relayed',
        'unchanged to the other peer; `{type: "leave"}`. A signal with a stale `connectionId` is dropped.',
        '',
        'Close codes: **4001** bad or expired ticket; **4003** not allowed (not a participant, meeting cancelled, outside',
        'the join window, room full; an `error` frame says which first); **4008** policy (frame too large, too fast,',
        'malformed); **4009** replaced by a newer connection of the same user. 1000 after `leave`, 1001 on server shutdown.',
      ].join('\n'),
      tags: ['calls'],
      security: 'ticket',
      parameters: [
        {
          name: 'ticket',
          in: 'query',
          required: true,
          description: 'The ticket from the join call.',
          schema: { type: 'string', minLength: 1, maxLength: 128 },
        },
      ],
      responses: {
        '101': {
          description: 'Switching Protocols: the WebSocket is open; the server sends `welcome` first.',
          'x-server-messages': schema('SignalingServerMessage'),
          'x-client-messages': schema('SignalingClientMessage'),
        },
        '400': {
          description: 'An upgrade to something other than a WebSocket.',
          content: { 'text/plain': { schema: { type: 'string' } } },
        },
        '401': {
          description: 'The ticket is missing, unknown, expired or already used.',
          content: { 'text/plain': { schema: { type: 'string' } } },
        },
        '403': { description: 'The Origin is not allowed.', content: { 'text/plain': { schema: { type: 'string' } } } },
        '500': {
          description: 'The access check failed unexpectedly.',
          content: { 'text/plain': { schema: { type: 'string' } } },
        },
        '426': reply(
          'A plain request, not an upgrade (with or without a bearer token): `Upgrade: websocket` says what to do.',
          problemJson({
            type: 'about:blank',
            title: 'Upgrade required',
            status: 426,
            detail:
              'this is the WebSocket endpoint for calls: open it with a WebSocket and the ticket from POST /meetings/{id}/join',
          }),
          {
            Upgrade: {
              description: 'Always `websocket`.',
              required: true,
              schema: { type: 'string', const: 'websocket' },
            },
          },
        ),
        '503': {
          description: 'The server is shutting down.',
          content: { 'text/plain': { schema: { type: 'string' } } },
        },
      },
    }),
  },
  '/signaling/origin-check': {
    get: operation({
      operationId: 'checkSignalingOrigin',
      summary: 'May a page on this origin open the signaling socket?',
      description: [
        'Browsers do not tell a page why its WebSocket failed: a 403 for a foreign `Origin` looks like any lost',
        'connection. The call client asks here after a socket that never opened, so the page can say why and stop',
        'instead of reconnecting forever. In dev mode (and with `ALLOWED_ORIGINS` unset) every loopback spelling of the',
        'port (`localhost`, `127.0.0.1`, `[::1]`) is allowed besides the origin of `PUBLIC_BASE_URL`.',
      ].join(' '),
      tags: ['calls'],
      security: 'none',
      parameters: [
        {
          name: 'origin',
          in: 'query',
          required: true,
          description: 'The origin of the page (`location.origin`), http or https.',
          schema: { type: 'string', minLength: 1, maxLength: 2048 },
          example: 'http://127.0.0.1:8080',
        },
      ],
      responses: {
        '200': reply(
          'The verdict; `suggestedOrigin` (when refused) is an origin that is allowed, preferably the public one.',
          json(
            closed(['origin', 'allowed'], {
              origin: { type: 'string', description: 'The origin asked about, normalized.' },
              allowed: { type: 'boolean' },
              suggestedOrigin: { type: 'string', description: 'Only when refused: where to open the page instead.' },
            }),
            { origin: 'http://127.0.0.1:8080', allowed: false, suggestedOrigin: 'http://localhost:8080' },
          ),
          {
            'Cache-Control': {
              description: 'Always `no-store`.',
              required: true,
              schema: { type: 'string', const: 'no-store' },
            },
          },
        ),
        '400': response('BadRequest'),
      },
    }),
  },
  '/settings': {
    get: operation({
      operationId: 'getSettings',
      summary: 'Read the settings',
      description: 'Admins only. Secrets are never returned.',
      tags: ['settings'],
      responses: {
        '200': reply('The settings.', json(schema('Settings'), exampleSettings)),
        '403': response('Forbidden'),
      },
    }),
    put: operation({
      operationId: 'putSettings',
      summary: 'Replace the settings',
      description:
        'Admins only. The whole document is replaced, except that `instructorSubject` and `instructorBodyTemplate`, when left out (a body ' +
        "valid before they existed), keep their current values: `subject` and `bodyTemplate` are the member's email, as they always were. " +
        'Templates are checked for unknown tokens. Every change is recorded in the settings history.',
      tags: ['settings'],
      requestBody: body(schema('SettingsInput'), 'The new settings.', exampleSettings),
      responses: {
        '200': reply('The settings as stored.', json(schema('Settings'), exampleSettings)),
        '403': response('Forbidden'),
        '409': {
          ...(response('Conflict') as object),
          description: 'Too many concurrent changes to the settings; try again.',
        },
      },
    }),
  },
  '/settings/history': {
    get: operation({
      operationId: 'getSettingsHistory',
      summary: 'Audit history of the settings',
      description: 'Every settings change, oldest first, with who and when. Admins only.',
      tags: ['settings'],
      parameters: [param('HistoryAfter'), param('HistoryLimit')],
      responses: {
        '200': reply('The history.', json(schema('History'))),
        '400': response('BadRequest'),
        '403': response('Forbidden'),
      },
    }),
  },
  '/notifications': {
    get: operation({
      operationId: 'listNotifications',
      summary: 'Emails owed and their delivery records',
      description:
        'Admins only. Newest first; filter by meeting and/or status. Unknown query parameters are refused (400).',
      tags: ['notifications'],
      parameters: [
        {
          name: 'meetingId',
          in: 'query',
          required: false,
          description: 'Only notifications about this meeting.',
          schema: { type: 'string', minLength: 1, maxLength: LIMITS.id },
        },
        {
          name: 'status',
          in: 'query',
          required: false,
          description: 'Only notifications in this status.',
          schema: schema('NotificationStatus'),
        },
        {
          name: 'limit',
          in: 'query',
          required: false,
          description: `At most this many (default and maximum ${MAX_NOTIFICATION_LIST}).`,
          schema: { type: 'integer', minimum: 1, maximum: MAX_NOTIFICATION_LIST, default: MAX_NOTIFICATION_LIST },
          example: 50,
        },
      ],
      responses: {
        '200': reply('The notifications.', json(schema('NotificationList'), { items: [exampleNotification] })),
        '400': response('BadRequest'),
        '403': response('Forbidden'),
      },
    }),
  },
  '/notifications/{id}': {
    get: operation({
      operationId: 'getNotification',
      summary: 'One notification and its delivery record',
      description: 'Admins only.',
      tags: ['notifications'],
      parameters: [param('NotificationId')],
      responses: {
        '200': reply('The notification.', json(schema('Notification'), exampleNotification)),
        '403': response('Forbidden'),
        '404': { ...(response('NotFound') as object), description: 'No such notification.' },
      },
    }),
  },
  '/notifications/{id}/retry': {
    post: operation({
      operationId: 'retryNotification',
      idempotent: 'replay',
      summary: 'Send a failed or undeliverable notification again',
      description:
        'Admins only. Starts a new round for a `failed` or `undeliverable` notification: the address is looked up in ' +
        'the people directory again and the email rendered again, then sent in the background with the same idempotency ' +
        'key. The answer shows the notification as the new round starts: usually `pending`; at once `skipped`, ' +
        '`undeliverable` or `failed` again when there is nothing to send, still no address, or the email cannot be rendered.',
      tags: ['notifications'],
      parameters: [param('NotificationId')],
      responses: {
        '202': reply(
          'Accepted for delivery.',
          json(schema('Notification'), { ...exampleNotification, status: 'pending', round: 1, revision: 7 }),
        ),
        '403': response('Forbidden'),
        '404': { ...(response('NotFound') as object), description: 'No such notification.' },
        '409': {
          ...(response('Conflict') as object),
          description: 'The notification is neither failed nor undeliverable, or it changed meanwhile.',
        },
      },
    }),
  },
};

const description = `
Scheduling and calling for 1-on-1 coaching sessions.

**JSON** in and out. Times are ISO 8601 instants with \`Z\` or an offset, except where a *local* date or time is named
(series \`startDate\`, \`startTime\`, \`exclusions\`). Unknown fields in a body are refused (inherited names such as
\`__proto__\` or \`constructor\` included). Bodies are limited to 64 KiB.

**Ids** (in paths, \`customerId\`, \`instructorId\`, people) are 1 to 128 characters without control, bidirectional or
invisible formatting characters (NUL, line breaks, U+202A–U+202E, U+2066–U+2069, U+200E/F, ...); others answer 400.

**People**: meetings and series are booked only for people the access provider knows (by default, those in the people
directory: \`PUT /people/{id}\` first); anyone else answers 400 naming \`customerId\` or \`instructorId\`.

**Errors** are RFC 9457 \`application/problem+json\`: \`{type, title, status, detail, errors?: [{path, message}]}\`.

**Auth**: \`Authorization: Bearer <JWT>\` with claims \`sub\` (user id), \`roles\` (\`admin\`, \`instructor\`,
\`customer\`, at least one), \`exp\` (at most \`AUTH_MAX_TOKEN_TTL_SECONDS\`, 24 hours by default, after \`iat\`),
optional \`name\` and \`email\`. No or bad token: 401. Authenticated but not allowed: 403, except that a
meeting or series the caller may not see answers 404 (no existence leak).

**Concurrency**: meetings and series carry an \`ETag\` (their revision). Send it in \`If-Match\` to change only what you
saw; a stale one answers 412. \`GET /meetings/{id}\` honours \`If-None-Match\` (304).

**Read your writes**: after a 2xx from a write, reads (the resource, calendars, history) see that write.

**Rate limits** apply per user to authenticated routes; 429 carries \`Retry-After\`.

**Request ids**: every answer carries \`X-Request-Id\` (the client's, when well-formed); it is recorded with the events.
`.trim();

export const openApiDocument = (serverUrl: string): Record<string, unknown> => ({
  openapi: '3.1.0',
  jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
  info: {
    title: '1on1 Meetings API',
    version: '1.0.0',
    summary: 'Event-sourced scheduling and calling for 1-on-1 coaching sessions.',
    description,
  },
  servers: [{ url: serverUrl }],
  security: [{ bearerAuth: [] }],
  tags: [
    { name: 'system', description: 'Health and documentation.' },
    { name: 'people', description: 'The people directory (names and email addresses).' },
    { name: 'meetings', description: 'Single sessions and their life cycle.' },
    { name: 'series', description: 'Recurring sessions; every occurrence is a meeting.' },
    { name: 'calls', description: 'Joining a session: outside links or native WebRTC calls.' },
    { name: 'calendar', description: "A user's sessions over time." },
    { name: 'settings', description: 'Site settings (admins).' },
    { name: 'notifications', description: 'Emails and their delivery (admins).' },
  ],
  paths,
  components: {
    schemas,
    parameters,
    headers,
    responses,
    securitySchemes: {
      bearerAuth: {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description:
          'HS256 (shared secret) or RS256/ES256 (JWKS) JWT with claims `sub` (user id, 1 to 128 characters, no control, ' +
          'bidirectional or invisible formatting characters), `roles` (a non-empty array of `admin`, `instructor`, ' +
          '`customer`), `exp` at most `AUTH_MAX_TOKEN_TTL_SECONDS` (default 86400) after `iat` (or after now), optional ' +
          '`name` and `email` (an `email` that is not a deliverable address is ignored).',
      },
      calendarToken: {
        type: 'apiKey',
        in: 'query',
        name: 'token',
        description: 'Per-user secret for the ICS feed (calendar apps cannot send bearer tokens).',
      },
      signalingTicket: {
        type: 'apiKey',
        in: 'query',
        name: 'ticket',
        description:
          'Single-use, 60-second ticket from `POST /meetings/{id}/join` (browsers cannot set headers on a WebSocket upgrade).',
      },
    },
  },
});
