/**
 * The OpenAPI 3.1 description of the HTTP API (served at `/openapi.json`, browsable at `/docs`). It is written by
 * hand from the contract (shared/api.md) and the adapters; tests/adapters/http/openapi.test.ts checks that it is
 * self-consistent, that it covers every route of the contract and of the app, and that its examples fit its schemas.
 */

import { MAX_MEETING_MINUTES } from '../../domain/meeting.ts';
import { MAX_DURATION_MINUTES, MAX_EXCLUSIONS, MAX_OCCURRENCES, MAX_RRULE_LENGTH, MAX_SPAN_DAYS, MIN_DURATION_MINUTES } from '../../domain/recurrence.ts';

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
  id: 128,
  title: 200,
  description: 5000,
  metadata: 10_000,
  reason: 1000,
  remoteLink: 2048,
  rrule: MAX_RRULE_LENGTH,
  personName: 200,
  email: 254,
  subject: 300,
  bodyTemplate: 50_000,
  maxMeetingMinutes: MAX_MEETING_MINUTES,
  minDurationMinutes: MIN_DURATION_MINUTES,
  maxDurationMinutes: MAX_DURATION_MINUTES,
  maxOccurrences: MAX_OCCURRENCES,
  maxExclusions: MAX_EXCLUSIONS,
  maxSpanDays: MAX_SPAN_DAYS,
} as const;

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

const exampleHistory = {
  events: [
    {
      revision: 0,
      position: 118,
      type: 'MeetingScheduled',
      at: '2026-02-20T14:03:11.204Z',
      actor: { id: 'inst-7', roles: ['instructor'] },
      data: { meetingId: exampleMeeting.id, title: 'Strength basics', start: '2026-03-02T09:00:00.000Z', end: '2026-03-02T10:00:00.000Z' },
    },
    {
      revision: 1,
      position: 131,
      type: 'SessionCancelled',
      at: '2026-02-25T08:12:40.019Z',
      actor: { id: 'inst-7', roles: ['instructor'] },
      data: { meetingId: exampleMeeting.id, origin: 'meeting', reason: 'Instructor is ill' },
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

const exampleSeries = {
  ...exampleSeriesInput,
  id: '9a1e4c3b-77d2-4f0e-8c51-2b6a9d0e3f44',
  state: 'active',
  occurrences: [
    { meetingId: '1f0c3a9e-2b4d-4e5f-8a6b-7c8d9e0f1a2b', localDate: '2026-03-02', start: '2026-03-02T09:00:00.000Z', end: '2026-03-02T09:45:00.000Z', state: 'planned' },
    { meetingId: '2a1b4c0d-3e5f-4a6b-9c7d-8e9f0a1b2c3d', localDate: '2026-03-09', start: '2026-03-09T09:00:00.000Z', end: '2026-03-09T09:45:00.000Z', state: 'planned' },
    { meetingId: '3b2c5d1e-4f6a-4b7c-8d8e-9f0a1b2c3d4e', localDate: '2026-03-11', start: '2026-03-11T09:00:00.000Z', end: '2026-03-11T09:45:00.000Z', state: 'planned' },
    { meetingId: '4c3d6e2f-5a7b-4c8d-9e9f-0a1b2c3d4e5f', localDate: '2026-03-16', start: '2026-03-16T09:00:00.000Z', end: '2026-03-16T09:45:00.000Z', state: 'planned' },
  ],
  createdAt: '2026-02-20T14:05:00.000Z',
  updatedAt: '2026-02-20T14:05:00.000Z',
  revision: 0,
};

const exampleSettings = {
  notifications: {
    cancellation: {
      enabled: true,
      subject: '{{siteName}}: your session "{{meetingTitle}}" was cancelled',
      bodyTemplate: '<p>Hello {{customerName}},</p><p>Your session <strong>{{meetingTitle}}</strong> on {{startDate}} was cancelled.</p><p>{{reason}}</p>',
      notifyInstructor: false,
    },
  },
  debugLevel: 0,
};

const exampleNotification = {
  id: 'c0ffee00-1234-4abc-8def-001122334455',
  key: `cancellation:${exampleMeeting.id}:cust-42`,
  kind: 'meeting',
  meetingIds: [exampleMeeting.id],
  recipient: { personId: 'cust-42', email: 'casey@example.com', role: 'customer' },
  status: 'failed',
  attempts: 3,
  lastError: 'provider answered 503',
  createdAt: '2026-02-25T08:12:40.019Z',
  updatedAt: '2026-02-25T08:20:02.551Z',
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
  detail: '2 occurrences overlap existing meetings of the customer or the instructor',
  conflicts: [
    {
      meetingId: '7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918',
      start: '2026-03-09T09:30:00.000Z',
      end: '2026-03-09T10:30:00.000Z',
      customerId: 'cust-42',
      instructorId: 'inst-3',
    },
  ],
};

// ---------- schemas ----------

const id = (description: string): Json => ({ type: 'string', minLength: 1, maxLength: LIMITS.id, description });
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
  description: "An `https:` URL of the outside meeting (Zoom, Meet, Teams). Required when `trainingType` is `link`, refused for `1-1`.",
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
  customerMetadata: text(LIMITS.metadata, 'Free text about the customer (for example from a CRM); shown to admins and the instructor only.'),
  instructorMetadata: text(LIMITS.metadata, 'Free text about the instructor; shown to admins only.'),
};

const seriesFields = {
  title: meetingFields.title,
  customerId: meetingFields.customerId,
  instructorId: meetingFields.instructorId,
  trainingType: schema('TrainingType'),
  remoteLink,
  description: meetingFields.description,
  timezone: { ...schema('TimeZone'), description: 'IANA time zone in which the occurrences keep their local wall time, across daylight-saving changes.' },
  startDate: { type: 'string', format: 'date', description: 'Local date of the first occurrence.', examples: ['2026-03-02'] },
  startTime: { type: 'string', pattern: TIME_PATTERN, description: 'Local start time of every occurrence, `HH:MM`.', examples: ['10:00'] },
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
      `matching date on or after it. A series spans at most ${LIMITS.maxSpanDays} days.`,
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

const problemSchema: Json = {
  type: 'object',
  description: 'RFC 9457 problem details.',
  required: ['type', 'title', 'status', 'detail'],
  properties: {
    type: { type: 'string', format: 'uri-reference', description: '`about:blank` unless a more specific type is given.' },
    title: { type: 'string', description: 'Short summary of the kind of problem.' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    detail: { type: 'string', description: 'What went wrong with this request.' },
    errors: {
      type: 'array',
      description: 'Per-field problems (400 validation failures).',
      items: schema('FieldError'),
    },
    conflicts: {
      type: 'array',
      description: 'Existing meetings that a booking would overlap (409 double booking).',
      items: schema('BookingConflict'),
    },
    currentRevision: { type: 'integer', description: 'The revision the resource is at (412).' },
  },
};

const schemas: Json = {
  Problem: problemSchema,
  FieldError: {
    type: 'object',
    required: ['path', 'message'],
    properties: {
      path: { type: 'string', description: 'Dotted path of the field (`notifications.cancellation.subject`), or `(body)`.' },
      message: { type: 'string' },
    },
  },
  BookingConflict: {
    type: 'object',
    description: 'A meeting of the same customer or instructor that overlaps the requested time.',
    required: ['meetingId', 'start', 'end', 'customerId', 'instructorId'],
    properties: {
      meetingId: { type: 'string' },
      start: { type: 'string', format: 'date-time' },
      end: { type: 'string', format: 'date-time' },
      customerId: { type: 'string' },
      instructorId: { type: 'string' },
    },
  },
  Role: { type: 'string', enum: ['admin', 'instructor', 'customer'] },
  Actor: {
    type: 'object',
    description: 'Who did something, as their token said at the time.',
    required: ['id', 'roles'],
    properties: { id: { type: 'string' }, roles: { type: 'array', items: schema('Role') } },
  },
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
    description: 'planned → scheduled (confirm); planned|scheduled → cancelled (cancel); cancelled → planned (reinstate).',
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
  Meeting: {
    type: 'object',
    description: 'The editable fields of a meeting as stored.',
    required: ['title', 'customerId', 'instructorId', 'start', 'end', 'timezone', 'trainingType', 'description'],
    properties: meetingFields,
  },
  MeetingView: {
    description:
      'A meeting as a reader sees it. `customerMetadata` is present for admins and the instructor only, ' +
      '`instructorMetadata` for admins only. The `ETag` header carries `revision`.',
    allOf: [
      schema('Meeting'),
      {
        type: 'object',
        required: ['id', 'state', 'createdAt', 'updatedAt', 'revision'],
        properties: {
          id: { type: 'string' },
          seriesId: { type: 'string', description: 'Set when the meeting is an occurrence of a series.' },
          state: schema('MeetingState'),
          cancellationReason: { type: 'string', description: 'The reason given when it was cancelled, while cancelled.' },
          createdAt: { type: 'string', format: 'date-time' },
          updatedAt: { type: 'string', format: 'date-time' },
          revision: { type: 'integer', minimum: 0, description: 'Stream revision; changes with every change.' },
        },
      },
    ],
  },
  CancelInput: {
    type: 'object',
    additionalProperties: false,
    properties: { reason: text(LIMITS.reason, 'Why; included in the cancellation email.') },
  },
  HistoryEntry: {
    type: 'object',
    description: 'One recorded event of a stream.',
    required: ['revision', 'position', 'type', 'at', 'actor', 'data'],
    properties: {
      revision: { type: 'integer', minimum: 0, description: 'Position within the stream, from 0.' },
      position: { type: 'integer', minimum: 0, description: 'Position in the global log.' },
      type: { type: 'string', description: 'Event type, such as `MeetingScheduled`, `MeetingRescheduled`, `SessionCancelled`, `SettingsChanged`.' },
      at: { type: 'string', format: 'date-time' },
      actor: schema('Actor'),
      data: { type: 'object', description: 'The event payload as recorded.' },
    },
  },
  History: {
    type: 'object',
    required: ['events'],
    properties: { events: { type: 'array', description: 'Oldest first.', items: schema('HistoryEntry') } },
  },
  CalendarItem: {
    type: 'object',
    required: ['meetingId', 'title', 'start', 'end', 'timezone', 'state', 'trainingType', 'role', 'customerId', 'instructorId'],
    properties: {
      meetingId: { type: 'string' },
      seriesId: { type: 'string' },
      title: { type: 'string' },
      start: { type: 'string', format: 'date-time' },
      end: { type: 'string', format: 'date-time' },
      timezone: schema('TimeZone'),
      state: schema('MeetingState'),
      trainingType: schema('TrainingType'),
      role: { type: 'string', enum: ['customer', 'instructor'], description: "The calendar owner's part in this meeting." },
      customerId: { type: 'string' },
      instructorId: { type: 'string' },
      counterpartName: { type: 'string', description: 'Name of the other participant, when the people directory knows it.' },
    },
  },
  Calendar: {
    type: 'object',
    required: ['items'],
    properties: { items: { type: 'array', description: 'Sorted by start; cancelled meetings included.', items: schema('CalendarItem') } },
  },
  PersonInput: {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'email'],
    properties: {
      name: text(LIMITS.personName, 'Display name; not blank.', 1),
      email: { type: 'string', format: 'email', maxLength: LIMITS.email },
      timezone: schema('TimeZone'),
    },
  },
  Person: {
    type: 'object',
    required: ['id', 'name', 'email', 'updatedAt'],
    properties: {
      id: { type: 'string' },
      name: { type: 'string' },
      email: { type: 'string', format: 'email' },
      timezone: schema('TimeZone'),
      updatedAt: { type: 'string', format: 'date-time' },
    },
  },
  CancellationNotificationSettings: {
    type: 'object',
    required: ['enabled', 'subject', 'bodyTemplate', 'notifyInstructor'],
    properties: {
      enabled: { type: 'boolean', description: 'Whether cancellations are mailed at all.' },
      subject: {
        type: 'string',
        minLength: 1,
        maxLength: LIMITS.subject,
        pattern: '^[^\\r\\n]*$',
        description: 'One line; may use `{{token}}` placeholders.',
      },
      bodyTemplate: {
        type: 'string',
        maxLength: LIMITS.bodyTemplate,
        description:
          'HTML with `{{token}}` placeholders, which are HTML-escaped when filled. Tokens: siteName, meetingTitle, ' +
          'startDate, endDate, instructorName, customerName, reason, and for series sessionCount, sessionList. ' +
          'Unknown tokens or unbalanced braces are refused.',
      },
      notifyInstructor: { type: 'boolean', description: 'Also mail the instructor.' },
    },
  },
  Settings: {
    type: 'object',
    description:
      'Site settings. Later capabilities add sections here; the running server refuses keys it does not know. ' +
      'Secret values are write-only: they are accepted by `PUT` and never returned.',
    required: ['notifications', 'debugLevel'],
    properties: {
      notifications: {
        type: 'object',
        required: ['cancellation'],
        properties: { cancellation: schema('CancellationNotificationSettings') },
      },
      debugLevel: {
        type: 'integer',
        minimum: 0,
        maximum: 9,
        description: 'Above 0, call clients log connection details to the browser console.',
      },
    },
  },
  SeriesInput: {
    type: 'object',
    description: 'A recurring meeting. Every occurrence becomes a meeting with its own id. Unknown fields are refused.',
    required: ['title', 'customerId', 'instructorId', 'trainingType', 'timezone', 'startDate', 'startTime', 'durationMinutes', 'rrule'],
    properties: seriesFields,
    additionalProperties: false,
    ...linkRule,
  },
  SeriesPatch: {
    type: 'object',
    description:
      'Any subset of the series fields. A recurrence change (timezone, startDate, startTime, durationMinutes, rrule, ' +
      'exclusions) keeps the occurrences that still fall on the new pattern (same meeting ids), cancels those that no ' +
      'longer do, creates the new ones and never touches past occurrences. Other field changes reach every future ' +
      'occurrence except fields that were edited on the occurrence itself. Occurrences cancelled individually stay cancelled.',
    properties: seriesFields,
    additionalProperties: false,
  },
  SeriesCancelInput: {
    type: 'object',
    additionalProperties: false,
    properties: {
      reason: text(LIMITS.reason, 'Why; included in the single cancellation email.'),
      from: { type: 'string', format: 'date-time', description: 'Cancel every occurrence starting at or after this instant; default now.' },
    },
  },
  SeriesOccurrence: {
    type: 'object',
    required: ['meetingId', 'localDate', 'start', 'end', 'state'],
    properties: {
      meetingId: { type: 'string', description: 'Takes every meeting endpoint.' },
      localDate: { type: 'string', format: 'date', description: 'The date in the series time zone.' },
      start: { type: 'string', format: 'date-time' },
      end: { type: 'string', format: 'date-time' },
      state: schema('MeetingState'),
    },
  },
  Series: {
    type: 'object',
    description: 'A series as a reader sees it. The `ETag` header carries `revision`.',
    required: [
      'id', 'title', 'customerId', 'instructorId', 'trainingType', 'timezone', 'startDate', 'startTime',
      'durationMinutes', 'rrule', 'state', 'occurrences', 'createdAt', 'updatedAt', 'revision',
    ],
    properties: {
      id: { type: 'string' },
      ...seriesFields,
      state: { type: 'string', enum: ['active', 'cancelled'] },
      occurrences: { type: 'array', description: 'Sorted by start.', items: schema('SeriesOccurrence') },
      createdAt: { type: 'string', format: 'date-time' },
      updatedAt: { type: 'string', format: 'date-time' },
      revision: { type: 'integer', minimum: 0 },
    },
  },
  IceServer: {
    type: 'object',
    description: 'An RTCIceServer entry. TURN credentials are ephemeral (coturn `use-auth-secret`).',
    required: ['urls'],
    properties: {
      urls: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1 }] },
      username: { type: 'string' },
      credential: { type: 'string' },
    },
  },
  CallRole: { type: 'string', enum: ['customer', 'instructor'] },
  JoinLink: {
    type: 'object',
    required: ['mode', 'url'],
    properties: {
      mode: { const: 'link' },
      url: { type: 'string', format: 'uri', pattern: '^https://', description: 'The remote link to open.' },
      role: schema('CallRole'),
    },
  },
  JoinNative: {
    type: 'object',
    required: ['mode', 'signalingUrl', 'ticket', 'iceServers', 'role', 'debugLevel', 'expiresAt'],
    properties: {
      mode: { const: 'native' },
      signalingUrl: { type: 'string', format: 'uri', pattern: '^wss?://', description: 'Where to open the WebSocket, without the ticket.' },
      ticket: { type: 'string', minLength: 1, maxLength: 128, description: 'Single use, valid for 60 s, binds this user to this meeting.' },
      iceServers: { type: 'array', items: schema('IceServer') },
      role: schema('CallRole'),
      debugLevel: { type: 'integer', minimum: 0, maximum: 9, description: 'From the settings; above 0 the client logs connection details.' },
      expiresAt: { type: 'string', format: 'date-time', description: 'When the ticket expires.' },
    },
  },
  JoinResponse: {
    oneOf: [schema('JoinLink'), schema('JoinNative')],
    discriminator: { propertyName: 'mode', mapping: { link: '#/components/schemas/JoinLink', native: '#/components/schemas/JoinNative' } },
  },
  NotificationStatus: { type: 'string', enum: ['pending', 'sent', 'skipped', 'failed', 'undeliverable'] },
  Notification: {
    type: 'object',
    description: 'One email owed to one recipient, with its delivery record.',
    required: ['id', 'key', 'kind', 'meetingIds', 'recipient', 'status', 'attempts', 'createdAt', 'updatedAt'],
    properties: {
      id: { type: 'string' },
      key: { type: 'string', description: 'Idempotency key: the same cause never mails the same recipient twice.' },
      kind: { type: 'string', enum: ['meeting', 'series'], description: '`series`: one email covering several occurrences.' },
      meetingIds: { type: 'array', items: { type: 'string' }, minItems: 1 },
      seriesId: { type: 'string' },
      recipient: {
        type: 'object',
        required: ['personId', 'role'],
        properties: {
          personId: { type: 'string' },
          email: { type: 'string', format: 'email', description: 'Absent when the people directory has no address (then `undeliverable`).' },
          role: schema('CallRole'),
        },
      },
      status: schema('NotificationStatus'),
      attempts: { type: 'integer', minimum: 0 },
      lastError: { type: 'string' },
      providerMessageId: { type: 'string', description: 'The mail provider\'s id, once sent.' },
      createdAt: { type: 'string', format: 'date-time' },
      updatedAt: { type: 'string', format: 'date-time' },
    },
  },
  NotificationList: {
    type: 'object',
    required: ['items'],
    properties: { items: { type: 'array', items: schema('Notification') } },
  },
  Health: {
    type: 'object',
    required: ['status', 'store', 'projections'],
    properties: {
      status: { type: 'string', enum: ['ok', 'degraded'] },
      store: {
        type: 'object',
        required: ['name', 'status'],
        properties: {
          name: { type: 'string', description: 'Which event store is in use (embedded or KurrentDB).' },
          status: { type: 'string', description: '`ok`, or the connection state of an outside store.' },
        },
      },
      projections: {
        type: 'object',
        description: 'Per read model: its checkpoint in the global log and how far behind the head it is.',
        additionalProperties: {
          type: 'object',
          required: ['position', 'lag'],
          properties: {
            position: { type: 'integer' },
            lag: { type: 'integer', minimum: 0 },
            error: { type: 'string', description: 'Why the projection stopped, if it did.' },
          },
        },
      },
    },
  },
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
          peer: { type: 'object', required: ['peerId', 'role'], properties: { peerId: { type: 'string' }, role: schema('CallRole') } },
          connectionId: { type: 'string' },
          initiator: { type: 'boolean', description: 'True for the instructor.' },
        },
      },
      {
        type: 'object',
        required: ['type', 'from', 'connectionId', 'data'],
        properties: { type: { const: 'signal' }, from: { type: 'string' }, connectionId: { type: 'string' }, data: { type: 'object' } },
      },
      { type: 'object', required: ['type', 'peerId'], properties: { type: { const: 'peer-left' }, peerId: { type: 'string' } } },
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
  schema: { type: 'string', minLength: 1, maxLength: LIMITS.id },
});

const parameters: Json = {
  MeetingId: { name: 'id', ...pathId('Meeting id.') },
  SeriesId: { name: 'id', ...pathId('Series id.') },
  PersonId: { name: 'id', ...pathId('Person id: the user id (JWT `sub`).') },
  NotificationId: { name: 'id', ...pathId('Notification id.') },
  IfMatch: {
    name: 'If-Match',
    in: 'header',
    required: false,
    description: 'An ETag this server sent (`"3"`). When given and the resource has moved on, the answer is 412 and nothing changes. `*` or no header: apply to whatever is current.',
    schema: { type: 'string', pattern: '^\\s*(\\*|(W/)?"-?\\d{1,15}")\\s*$' },
    example: '"3"',
  },
  IfNoneMatch: {
    name: 'If-None-Match',
    in: 'header',
    required: false,
    description: 'The ETag the client holds; 304 when it is still current.',
    schema: { type: 'string' },
    example: '"3"',
  },
  XRequestId: {
    name: 'X-Request-Id',
    in: 'header',
    required: false,
    description: 'Correlation id (`[A-Za-z0-9_.-]`, up to 64); echoed back and recorded in event metadata. A new one is made when absent or malformed.',
    schema: { type: 'string', pattern: '^[\\w.-]{1,64}$' },
  },
  From: { name: 'from', in: 'query', required: true, description: 'Start of the range (inclusive).', schema: { type: 'string', format: 'date-time' }, example: '2026-03-01T00:00:00Z' },
  To: { name: 'to', in: 'query', required: true, description: 'End of the range (exclusive); after `from`, at most 366 days later.', schema: { type: 'string', format: 'date-time' }, example: '2026-04-01T00:00:00Z' },
  UserId: { name: 'userId', in: 'query', required: false, description: 'Whose calendar; default the caller. Only admins may name someone else.', schema: { type: 'string', minLength: 1, maxLength: LIMITS.id } },
};

const headers: Json = {
  XRequestId: { description: 'The request id (sent by the client or made by the server); quote it when reporting a problem.', schema: { type: 'string' } },
  ETag: { description: 'Strong ETag carrying the revision, like `"3"`; send it back in `If-Match`.', schema: { type: 'string', pattern: '^"\\d+"$' } },
  Location: { description: 'Path of the created resource.', schema: { type: 'string', format: 'uri-reference' } },
  RetryAfter: { description: 'Seconds to wait before trying again.', schema: { type: 'integer', minimum: 1 } },
  WWWAuthenticate: { description: '`Bearer error="invalid_token", error_description="…"`', schema: { type: 'string' } },
};

const responses: Json = {
  BadRequest: reply(
    'The request is malformed or fails validation; `errors` lists every bad field (unknown fields included). ' +
      'A malformed `If-Match` also answers 400.',
    problemJson(exampleValidationProblem),
  ),
  Unauthorized: reply(
    'No bearer token, or one that is expired, badly signed or lacks `sub`/`roles`.',
    problemJson({ type: 'about:blank', title: 'Unauthorized', status: 401, detail: 'an Authorization: Bearer <token> header is required' }),
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
  PreconditionFailed: reply(
    '`If-Match` names a revision that is no longer current; `currentRevision` says which is. Nothing was changed.',
    problemJson({ type: 'about:blank', title: 'Precondition failed', status: 412, detail: 'the resource is at revision 4, not 3', currentRevision: 4 }),
  ),
  PayloadTooLarge: reply(
    'The body is larger than 64 KiB.',
    problemJson({ type: 'about:blank', title: 'Payload too large', status: 413, detail: 'request bodies are limited to 65536 bytes' }),
  ),
  UnsupportedMediaType: reply(
    'A body was sent with a content type other than `application/json` (or `application/*+json`).',
    problemJson({ type: 'about:blank', title: 'Unsupported media type', status: 415, detail: 'send the body as application/json' }),
  ),
  TooManyRequests: reply(
    'Rate limited per user (token bucket); wait `Retry-After` seconds.',
    problemJson({ type: 'about:blank', title: 'Too many requests', status: 429, detail: 'slow down; see Retry-After' }),
    { 'Retry-After': header('RetryAfter') },
  ),
  InternalError: reply(
    'Unexpected failure; `detail` quotes the request id.',
    problemJson({ type: 'about:blank', title: 'Internal error', status: 500, detail: 'something went wrong; quote request id lx2k9c-1f' }),
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
}

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
const operation = (spec: OperationSpec): Json => {
  const security = spec.security ?? 'bearer';
  const ifMatch = (spec.parameters ?? []).some((p) => p.$ref === (param('IfMatch') as { $ref: string }).$ref);
  const common: Json = {
    ...(security === 'bearer' ? { '401': response('Unauthorized'), '429': response('TooManyRequests') } : {}),
    ...(ifMatch ? { '400': response('BadRequest') } : {}),
    ...(spec.requestBody !== undefined ? { '400': response('BadRequest'), '413': response('PayloadTooLarge'), '415': response('UnsupportedMediaType') } : {}),
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

const meetingTransition = (operationId: string, summary: string, description: string, conflict: string, requestBody?: Json): Json =>
  operation({
    operationId,
    summary,
    description: `${description} Admins and the meeting's instructor only.`,
    tags: ['meetings'],
    parameters: [param('MeetingId'), param('IfMatch')],
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
        '200': reply('Healthy.', json(schema('Health'), { status: 'ok', store: { name: 'sqlite', status: 'ok' }, projections: { meetings: { position: 131, lag: 0 } } })),
        '503': reply('Degraded: the store is unreachable or a projection stopped.', json(schema('Health'))),
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
  '/call': {
    get: operation({
      operationId: 'getCallPage',
      summary: 'The browser call page',
      description:
        'Open as `/call?meeting=<id>#token=<bearer token>`; the token stays in the URL fragment, so it never reaches the server (without one the page asks for it). The page joins the meeting, then runs the native call or links out. Served with a strict Content-Security-Policy; also at `/static/call.html`.',
      tags: ['calls'],
      security: 'none',
      parameters: [{ name: 'meeting', in: 'query', required: false, description: 'The meeting to join.', schema: { type: 'string', minLength: 1 } }],
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
      requestBody: body(schema('PersonInput'), 'The person.', { name: 'Casey Customer', email: 'casey@example.com', timezone: 'Europe/Amsterdam' }),
      responses: {
        '200': reply('The person as stored.', json(schema('Person'), { id: 'cust-42', name: 'Casey Customer', email: 'casey@example.com', timezone: 'Europe/Amsterdam', updatedAt: '2026-02-20T14:00:00.000Z' })),
        '403': response('Forbidden'),
      },
    }),
    get: operation({
      operationId: 'getPerson',
      summary: 'Read a person',
      description: 'Admins read anyone; others only themselves (anyone else answers 404).',
      tags: ['people'],
      parameters: [param('PersonId')],
      responses: {
        '200': reply('The person.', json(schema('Person'), { id: 'cust-42', name: 'Casey Customer', email: 'casey@example.com', updatedAt: '2026-02-20T14:00:00.000Z' })),
        '404': response('NotFound'),
      },
    }),
  },
  '/meetings': {
    post: operation({
      operationId: 'createMeeting',
      summary: 'Schedule a meeting',
      description: 'Admins for anyone; instructors for their own sessions (`instructorId` = their `sub`). The meeting starts `planned`.',
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
        '201': reply('Created.', json(schema('MeetingView'), exampleMeeting), { ETag: header('ETag'), Location: header('Location') }),
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
      description: 'Change any editable field. Admins and its instructor. A cancelled meeting cannot be changed (409): reinstate it first.',
      tags: ['meetings'],
      parameters: [param('MeetingId'), param('IfMatch')],
      requestBody: body(schema('MeetingPatch'), 'The fields to change.', { start: '2026-03-02T11:00:00+01:00', end: '2026-03-02T12:00:00+01:00' }),
      responses: {
        '200': meetingResponse('The meeting after the change.', { ...exampleMeeting, start: '2026-03-02T10:00:00.000Z', end: '2026-03-02T11:00:00.000Z', revision: 1 }),
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
    post: meetingTransition('confirmMeeting', 'Confirm a meeting', 'planned → scheduled.', 'The meeting is not planned.'),
  },
  '/meetings/{id}/reinstate': {
    post: meetingTransition('reinstateMeeting', 'Reinstate a cancelled meeting', 'cancelled → planned.', 'The meeting is not cancelled.'),
  },
  '/meetings/{id}/history': {
    get: operation({
      operationId: 'getMeetingHistory',
      summary: 'Audit history of a meeting',
      description: 'Every recorded event, oldest first, with who and when. Admins, its customer and its instructor.',
      tags: ['meetings'],
      parameters: [param('MeetingId')],
      responses: { '200': reply('The history.', json(schema('History'), exampleHistory)), '404': response('NotFound') },
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
          headers: { 'X-Request-Id': header('XRequestId') },
          content: {
            'application/json': {
              schema: schema('JoinResponse'),
              examples: {
                link: { summary: 'A link meeting', value: { mode: 'link', url: 'https://meet.example.com/abc-defg-hij', role: 'customer' } },
                native: {
                  summary: 'A native call',
                  value: {
                    mode: 'native',
                    signalingUrl: 'wss://coaching.example.com/signaling',
                    ticket: 'Qm9vdHN0cmFwVGlja2V0RXhhbXBsZTEyMzQ1Njc4OTA',
                    iceServers: [
                      { urls: ['stun:stun.l.google.com:19302'] },
                      { urls: ['turn:turn.example.com:3478'], username: '1772442000:cust-42', credential: 'q3mY0m3b2d7Jx5y4K0bYJmX0m2E=' },
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
        '404': {
          ...(response('NotFound') as object),
          description: 'No such meeting, the caller is not one of its two participants, or calls are not enabled on this server.',
        },
        '409': {
          ...(response('Conflict') as object),
          description: 'The meeting is cancelled, or it is outside the join window (more than 15 minutes before the start, or ended).',
        },
      },
    }),
  },
  '/series': {
    post: operation({
      operationId: 'createSeries',
      summary: 'Schedule a recurring series',
      description:
        'Admins for anyone; instructors for their own. Every occurrence becomes a meeting. When an occurrence would ' +
        'overlap an existing meeting of the customer or the instructor, nothing is created and 409 lists the `conflicts`.',
      tags: ['series'],
      requestBody: body(schema('SeriesInput'), 'The series.', exampleSeriesInput),
      responses: {
        '201': reply('Created, with its occurrences.', json(schema('Series'), exampleSeries), { ETag: header('ETag'), Location: header('Location') }),
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
      description: 'Change the recurrence or other fields (see SeriesPatch for what happens to occurrences). Admins and its instructor. A cancelled series cannot be changed (409).',
      tags: ['series'],
      parameters: [param('SeriesId'), param('IfMatch')],
      requestBody: body(schema('SeriesPatch'), 'The fields to change.', { startTime: '11:00', rrule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=6' }),
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
      summary: 'Cancel a series from a point in time',
      description:
        'Cancels every occurrence starting at or after `from` (default now); earlier ones are kept. The customer gets one ' +
        'email listing the cancelled sessions. Admins and its instructor.',
      tags: ['series'],
      parameters: [param('SeriesId'), param('IfMatch')],
      requestBody: body(schema('SeriesCancelInput'), 'Optional; an empty body is fine.', { reason: 'Studio closed for renovation', from: '2026-03-09T00:00:00Z' }, false),
      responses: {
        '200': seriesResponse('The series after the cancellation.', { ...exampleSeries, state: 'cancelled', revision: 1 }),
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
      parameters: [param('SeriesId')],
      responses: { '200': reply('The history.', json(schema('History'))), '404': response('NotFound') },
    }),
  },
  '/calendar': {
    get: operation({
      operationId: 'getCalendar',
      summary: "A user's meetings in a time range",
      description:
        'Every meeting of the user, as customer or as instructor, overlapping `[from, to)`, sorted by start; cancelled ' +
        'meetings are included with their state. Users read their own calendar; admins anyone\'s.',
      tags: ['calendar'],
      parameters: [param('From'), param('To'), param('UserId')],
      responses: { '200': reply('The calendar.', json(schema('Calendar'), exampleCalendar)), '400': response('BadRequest'), '403': response('Forbidden') },
    }),
  },
  '/calendar.ics': {
    get: operation({
      operationId: 'getCalendarFeed',
      summary: "A user's calendar as an ICS feed (when enabled)",
      description:
        'Available when the ICS feed capability is enabled; otherwise 404. Calendar apps cannot send bearer tokens, so ' +
        'the feed is authorised by a per-user secret `token` in the query. Each meeting is a VEVENT whose UID is stable ' +
        'and whose SEQUENCE grows with every change; cancelled meetings have STATUS:CANCELLED.',
      tags: ['calendar'],
      security: 'calendarToken',
      parameters: [{ name: 'token', in: 'query', required: true, description: 'The per-user feed token.', schema: { type: 'string', minLength: 1 } }],
      responses: {
        '200': reply('The feed.', {
          'text/calendar': {
            schema: { type: 'string' },
            example: 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//1on1//EN\r\nBEGIN:VEVENT\r\nUID:0b9f7a52-3c1e-4b7e-9a53-6f1d2c4e8a10\r\nSEQUENCE:0\r\nDTSTART:20260302T090000Z\r\nDTEND:20260302T100000Z\r\nSUMMARY:Strength basics\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n',
          },
        }),
        '401': reply('The token is missing, unknown or revoked.', problemJson()),
        '404': reply('The ICS feed is not enabled on this server.', problemJson()),
        '429': response('TooManyRequests'),
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
        { name: 'ticket', in: 'query', required: true, description: 'The ticket from the join call.', schema: { type: 'string', minLength: 1, maxLength: 128 } },
      ],
      responses: {
        '101': {
          description: 'Switching Protocols: the WebSocket is open; the server sends `welcome` first.',
          'x-server-messages': schema('SignalingServerMessage'),
          'x-client-messages': schema('SignalingClientMessage'),
        },
        '400': { description: 'Not a WebSocket upgrade request.', content: { 'text/plain': { schema: { type: 'string' } } } },
        '401': { description: 'The ticket is missing, unknown, expired or already used.', content: { 'text/plain': { schema: { type: 'string' } } } },
        '403': { description: 'The Origin is not allowed.', content: { 'text/plain': { schema: { type: 'string' } } } },
        '500': { description: 'The access check failed unexpectedly.', content: { 'text/plain': { schema: { type: 'string' } } } },
        '503': { description: 'The server is shutting down.', content: { 'text/plain': { schema: { type: 'string' } } } },
      },
    }),
  },
  '/settings': {
    get: operation({
      operationId: 'getSettings',
      summary: 'Read the settings',
      description: 'Admins only. Secrets are never returned.',
      tags: ['settings'],
      responses: { '200': reply('The settings.', json(schema('Settings'), exampleSettings)), '403': response('Forbidden') },
    }),
    put: operation({
      operationId: 'putSettings',
      summary: 'Replace the settings',
      description: 'Admins only. The whole document is replaced; templates are checked for unknown tokens. Every change is recorded in the settings history.',
      tags: ['settings'],
      requestBody: body(schema('Settings'), 'The new settings.', exampleSettings),
      responses: { '200': reply('The settings as stored.', json(schema('Settings'), exampleSettings)), '403': response('Forbidden') },
    }),
  },
  '/settings/history': {
    get: operation({
      operationId: 'getSettingsHistory',
      summary: 'Audit history of the settings',
      description: 'Every settings change, oldest first, with who and when. Admins only.',
      tags: ['settings'],
      responses: { '200': reply('The history.', json(schema('History'))), '403': response('Forbidden') },
    }),
  },
  '/notifications': {
    get: operation({
      operationId: 'listNotifications',
      summary: 'Emails owed and their delivery records',
      description: 'Admins only. Filter by meeting and/or status.',
      tags: ['notifications'],
      parameters: [
        { name: 'meetingId', in: 'query', required: false, description: 'Only notifications about this meeting.', schema: { type: 'string', minLength: 1, maxLength: LIMITS.id } },
        { name: 'status', in: 'query', required: false, description: 'Only notifications in this status.', schema: schema('NotificationStatus') },
      ],
      responses: {
        '200': reply('The notifications.', json(schema('NotificationList'), { items: [exampleNotification] })),
        '400': response('BadRequest'),
        '403': response('Forbidden'),
      },
    }),
  },
  '/notifications/{id}/retry': {
    post: operation({
      operationId: 'retryNotification',
      summary: 'Send a failed notification again',
      description: 'Admins only. Puts a `failed` or `undeliverable` notification back to `pending`; delivery happens in the background.',
      tags: ['notifications'],
      parameters: [param('NotificationId')],
      responses: {
        '202': reply('Accepted for delivery.', json(schema('Notification'), { ...exampleNotification, status: 'pending' })),
        '403': response('Forbidden'),
        '404': response('NotFound'),
        '409': { ...(response('Conflict') as object), description: 'The notification is neither failed nor undeliverable.' },
      },
    }),
  },
};

const description = `
Scheduling and calling for 1-on-1 coaching sessions.

**JSON** in and out. Times are ISO 8601 instants with \`Z\` or an offset, except where a *local* date or time is named
(series \`startDate\`, \`startTime\`, \`exclusions\`). Unknown fields in a body are refused. Bodies are limited to 64 KiB.

**Errors** are RFC 9457 \`application/problem+json\`: \`{type, title, status, detail, errors?: [{path, message}]}\`.

**Auth**: \`Authorization: Bearer <JWT>\` with claims \`sub\` (user id), \`roles\` (\`admin\`, \`instructor\`,
\`customer\`), optional \`name\` and \`email\`. No or bad token: 401. Authenticated but not allowed: 403, except that a
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
          'HS256 (shared secret) or RS256/ES256 (JWKS) JWT with claims `sub` (user id, 1 to 128 characters), `roles` ' +
          '(array of `admin`, `instructor`, `customer`), optional `name` and `email`.',
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
        description: 'Single-use, 60-second ticket from `POST /meetings/{id}/join` (browsers cannot set headers on a WebSocket upgrade).',
      },
    },
  },
});
