/**
 * The OpenAPI 3.1 description of the HTTP API (served at `/openapi.json`, browsable at `/docs`). Its schemas are
 * derived from the codecs that check requests and type answers (openapi/derive.ts), its operations are specified
 * next to their routes (adapters/http/<resource>/openapi.ts) and completed by the shared rules of openapi/builder.ts.
 * What stays here is what only prose or the wire says: the introduction, the security schemes, the shared
 * parameters and headers, and the two paths outside the JSON API (the WebSocket signaling and the ICS feed).
 * tests/adapters/http/openapi.test.ts checks the document's consistency and coverage;
 * tests/adapters/http/openapi-responses.test.ts checks real answers of the running system against it.
 */

import { Id, MAX_ID_LENGTH } from '../../domain/shared.ts';
import { auditPaths } from './audit/openapi.ts';
import { MAX_BODY_BYTES } from './kit/body.ts';
import { callPaths } from './calls/openapi.ts';
import { IceServerShape } from './calls/shapes.ts';
import { authPaths } from './auth/openapi.ts';
import { calendarPaths } from './calendar/openapi.ts';
import { eventPayloads } from './history/shapes.ts';
import { meetingPaths } from './meetings/openapi.ts';
import { attendancePaths } from './attendance/openapi.ts';
import { notificationPaths } from './notifications/openapi.ts';
import { webhookPaths } from './webhooks/openapi.ts';
import { CallRoleShape, SkipReasonShape } from './notifications/shapes.ts';
import { createDeriver } from './openapi/derive.ts';
import { asJson, header, operation, problemJson, reply, schemaNamed } from './openapi/builder.ts';
import type { Json, PathsOf, SchemaOf } from './openapi/builder.ts';
import { oidcPaths } from './oidc/openapi.ts';
import { peoplePaths } from './people/openapi.ts';
import { problemResponses } from './problems/openapi.ts';
import { Problem } from './problems/shapes.ts';
import { seriesPaths } from './series/openapi.ts';
import { settingsPaths } from './settings/openapi.ts';
import { systemPaths } from './system/openapi.ts';
import { webPaths } from './web/openapi.ts';

// ---------- the two paths outside the JSON API ----------

const signalingPath: Json = {
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
      'malformed); **4009** replaced by a newer connection of the same user. 1000 after `leave`, 1001 on server shutdown;',
      '**1013** (try again later, after an `error` frame with code `unavailable`) while the signaling bus (Redis, with',
      'several nodes) cannot be reached.',
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
        'x-server-messages': schemaNamed('SignalingServerMessage'),
        'x-client-messages': schemaNamed('SignalingClientMessage'),
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
};

const calendarFeedPath: Json = {
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
};

/** The frames of the signaling WebSocket (adapters/signaling), described for clients. */
const signalingSchemas: Json = {
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
          role: schemaNamed('CallRole'),
          iceServers: { type: 'array', items: schemaNamed('IceServer') },
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
            properties: { peerId: { type: 'string' }, role: schemaNamed('CallRole') },
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

// ---------- parameters and headers ----------

const pathId = (description: string, idSchema: Json): Json => ({
  in: 'path',
  required: true,
  description,
  schema: idSchema,
});

const parameters = (idSchema: Json): Json => ({
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
  MeetingId: { name: 'id', ...pathId('Meeting id.', idSchema) },
  SeriesId: { name: 'id', ...pathId('Series id.', idSchema) },
  PersonId: { name: 'id', ...pathId('Person id: the user id (JWT `sub`).', idSchema) },
  NotificationId: { name: 'id', ...pathId('Notification id (32 hexadecimal digits).', idSchema) },
  WebhookId: { name: 'id', ...pathId('Webhook endpoint id.', idSchema) },
  WebhookDeliveryId: { name: 'deliveryId', ...pathId('Delivery id (32 hexadecimal digits).', idSchema) },
  IfMatch: {
    name: 'If-Match',
    in: 'header',
    required: false,
    // No example: Swagger UI would pre-fill it and every edit from the docs page would be refused with 412.
    description:
      'The `ETag` of the last answer you got for this resource, quotes included (like `"3"`). When given and the resource has moved on, the answer is 412 and nothing changes. `*` or no header: apply to whatever is current.',
    schema: { type: 'string', pattern: '^\\s*(\\*|(W/)?"-?\\d{1,15}(\\.\\d{1,15})?")\\s*$' },
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
});

// Each of these is sent whenever a response names it.
const headers: Json = {
  XRequestId: {
    description: 'The request id (sent by the client or made by the server); quote it when reporting a problem.',
    required: true,
    schema: { type: 'string', pattern: '^[\\w.-]{1,64}$' },
  },
  ETag: {
    description:
      'Strong ETag carrying the revision, like `"3"` (a meeting whose attendance has events adds their revision: `"3.1"`); send it back in `If-Match`.',
    required: true,
    schema: { type: 'string', pattern: '^"\\d+(\\.\\d+)?"$' },
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

const description = `
Scheduling and calling for 1-on-1 coaching sessions.

**JSON** in and out. Times are ISO 8601 instants with \`Z\` or an offset, except where a *local* date or time is named
(series \`startDate\`, \`startTime\`, \`exclusions\`). Unknown fields in a body are refused (inherited names such as
\`__proto__\` or \`constructor\` included). Bodies are limited to ${MAX_BODY_BYTES / 1024} KiB.

**Ids** (in paths, \`customerId\`, \`instructorId\`, people) are 1 to ${MAX_ID_LENGTH} characters without control, bidirectional or
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

const resources: ReadonlyArray<PathsOf> = [
  systemPaths,
  webPaths,
  peoplePaths,
  meetingPaths,
  attendancePaths,
  callPaths,
  seriesPaths,
  calendarPaths,
  settingsPaths,
  notificationPaths,
  webhookPaths,
  auditPaths,
  authPaths,
  oidcPaths,
];

/**
 * Schemas referred to by name rather than through a codec: by rules (`HistoryEntry` → `<type>Event`, `Notification`
 * → `SkipReason`), by every problem answer (`Problem`), and by the signaling frames (`CallRole`, `IceServer`).
 */
const namedByRules = (schema: SchemaOf): void => {
  for (const { data } of Object.values(eventPayloads).flat()) schema(data);
  for (const codec of [Problem, SkipReasonShape, CallRoleShape, IceServerShape]) schema(codec);
};

export const openApiDocument = (serverUrl: string): Record<string, unknown> => {
  const deriver = createDeriver();
  const paths: Json = Object.assign({}, ...resources.map((pathsOf) => pathsOf(deriver.schema)), {
    '/calendar.ics': calendarFeedPath,
    '/signaling': signalingPath,
  });
  namedByRules(deriver.schema);
  return asJson({
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
      { name: 'web', description: 'The web app for members, trainers, staff and auditors (HTML and its files).' },
      { name: 'people', description: 'The people directory (names and email addresses).' },
      { name: 'meetings', description: 'Single sessions and their life cycle.' },
      { name: 'series', description: 'Recurring sessions; every occurrence is a meeting.' },
      { name: 'calls', description: 'Joining a session: outside links or native WebRTC calls.' },
      { name: 'calendar', description: "A user's sessions over time." },
      { name: 'settings', description: 'Site settings (admins).' },
      { name: 'notifications', description: 'Emails and their delivery (admins).' },
      { name: 'webhooks', description: 'Signed event deliveries to CRMs and site integrations (admins).' },
      { name: 'audit', description: 'The audit log and its CSV export (admins and auditors).' },
      { name: 'sign-in', description: 'Email sign-in links, sessions and the dev sign-in.' },
      { name: 'oidc', description: 'Single sign-on through an OpenID provider (when configured).' },
    ],
    paths,
    components: {
      schemas: { ...deriver.components(), ...signalingSchemas },
      parameters: parameters(deriver.schema(Id)),
      headers,
      responses: problemResponses,
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            `HS256 (shared secret) or RS256/ES256 (JWKS) JWT with claims \`sub\` (user id, 1 to ${MAX_ID_LENGTH} characters, no control, ` +
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
        refreshCookie: {
          type: 'apiKey',
          in: 'cookie',
          name: 'session_refresh',
          description:
            'The refresh credential of a sign-in session (HttpOnly, Secure, SameSite=Strict, Path=/auth; single use, ' +
            'rotated by every refresh). Cookie endpoints take only `application/json` with the site as `Origin`.',
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
};
