/** The operations of `/calendar` and `/calendar/feed` in the OpenAPI document (`/calendar.ics` is in ../openapi.ts). */

import { body, header, json, operation, param, reply, response } from '../openapi/builder.ts';
import type { Json, PathsOf, SchemaOf } from '../openapi/builder.ts';
import { Id } from '../../../domain/shared.ts';
import { CalendarAnswer, FeedBody, FeedSubscription } from './shapes.ts';
import { exampleMeeting } from '../meetings/openapi.ts';

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

const calendarPath = (schema: SchemaOf): Json => ({
  get: operation({
    operationId: 'getCalendar',
    summary: "A user's meetings in a time range",
    description:
      'Every meeting of the user, as customer or as instructor, overlapping `[from, to)`, sorted by start; cancelled ' +
      "meetings are included with their state. Users read their own calendar; admins and auditors anyone's.",
    tags: ['calendar'],
    parameters: [param('From'), param('To'), param('UserId'), param('IfNoneMatch')],
    responses: {
      '200': reply('The calendar.', json(schema(CalendarAnswer), exampleCalendar), { ETag: header('ReadVersion') }),
      '304': reply('Not modified: nothing has changed since the ETag in `If-None-Match`.', undefined, {
        ETag: header('ReadVersion'),
      }),
      '400': response('BadRequest'),
      '403': response('Forbidden'),
    },
  }),
});

const calendarFeedPath = (schema: SchemaOf): Json => ({
  post: operation({
    operationId: 'enableCalendarFeed',
    idempotent: 'secret',
    summary: 'Subscribe to a calendar: issue a secret ICS feed URL',
    description:
      'Issues a new secret URL for `GET /calendar.ics` and revokes the previous one (rotation): calendar apps (Google, ' +
      'Apple, Outlook) cannot send bearer tokens, so the URL carries the credential. The token is shown only in this ' +
      "answer; the event log records only its SHA-256. Users manage their own feed; admins anyone's (as `GET /calendar`).",
    tags: ['calendar'],
    requestBody: body(schema(FeedBody), 'Optional; whose feed.', { userId: 'cust-42' }, false),
    responses: {
      '201': reply(
        'The new feed URL; earlier URLs of this user no longer work.',
        json(schema(FeedSubscription), {
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
        schema: schema(Id),
      },
    ],
    responses: { '204': reply('Revoked.'), '400': response('BadRequest'), '403': response('Forbidden') },
  }),
});

export const calendarPaths: PathsOf = (schema) => ({
  '/calendar': calendarPath(schema),
  '/calendar/feed': calendarFeedPath(schema),
});
