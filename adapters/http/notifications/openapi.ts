/** The operations of `/notifications` in the OpenAPI document (admins only). */

import { json, operation, param, reply, response } from '../openapi/builder.ts';
import type { Json, PathsOf, SchemaOf } from '../openapi/builder.ts';
import { LIMITS } from '../../../domain/meeting.ts';
import { notificationTopics } from '../../../domain/notification.ts';
import { MAX_NOTIFICATION_LIST } from '../../../application/notifications/service.ts';
import { NotificationList, NotificationResource, StatusParam } from './shapes.ts';
import { exampleMeeting } from '../meetings/openapi.ts';

const exampleNotification = {
  id: '3f2a9c0d1e4b5a6978c0d1e2f3a4b5c6',
  topic: 'cancelled',
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

const notificationsPath = (schema: SchemaOf): Json => ({
  get: operation({
    operationId: 'listNotifications',
    summary: 'Emails owed and their delivery records',
    description:
      'Admins and auditors. Newest first; filter by meeting, status and/or topic. Unknown query parameters are refused (400).',
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
        schema: schema(StatusParam),
      },
      {
        name: 'topic',
        in: 'query',
        required: false,
        description: 'Only notifications of this topic (cancellations include those recorded before topics existed).',
        schema: { type: 'string', enum: [...notificationTopics] },
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
      '200': reply('The notifications.', json(schema(NotificationList), { items: [exampleNotification] })),
      '400': response('BadRequest'),
      '403': response('Forbidden'),
    },
  }),
});

const notificationsIdPath = (schema: SchemaOf): Json => ({
  get: operation({
    operationId: 'getNotification',
    summary: 'One notification and its delivery record',
    description: 'Admins and auditors.',
    tags: ['notifications'],
    parameters: [param('NotificationId')],
    responses: {
      '200': reply('The notification.', json(schema(NotificationResource), exampleNotification)),
      '403': response('Forbidden'),
      '404': { ...response('NotFound'), description: 'No such notification.' },
    },
  }),
});

const notificationsIdRetryPath = (schema: SchemaOf): Json => ({
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
        json(schema(NotificationResource), { ...exampleNotification, status: 'pending', round: 1, revision: 7 }),
      ),
      '403': response('Forbidden'),
      '404': { ...response('NotFound'), description: 'No such notification.' },
      '409': {
        ...response('Conflict'),
        description: 'The notification is neither failed nor undeliverable, or it changed meanwhile.',
      },
    },
  }),
});

export const notificationPaths: PathsOf = (schema) => ({
  '/notifications': notificationsPath(schema),
  '/notifications/{id}': notificationsIdPath(schema),
  '/notifications/{id}/retry': notificationsIdRetryPath(schema),
});
