/** The operations of `/webhooks` in the OpenAPI document (admins; auditors read). */

import { body, header, json, operation, param, reply, response } from '../openapi/builder.ts';
import type { Json, PathsOf, SchemaOf } from '../openapi/builder.ts';
import { MAX_PREVIOUS_SECRETS, webhookEventTypes } from '../../../domain/webhook.ts';
import {
  DELIVERY_PAGE,
  DeliveryList,
  DeliveryResource,
  DeliveryStatusParam,
  RotatedSecret,
  WebhookCreateBody,
  WebhookCreated,
  WebhookList,
  WebhookPatchBody,
  WebhookResource,
} from './shapes.ts';

const exampleWebhook = {
  id: '0190f1e2-7a6b-7c3d-8e9f-0a1b2c3d4e5f',
  url: 'https://crm.example.com/hooks/1on1',
  events: ['meeting.*', 'person.updated'],
  description: 'The CRM',
  status: 'enabled',
  createdAt: '2026-02-25T08:12:40.019Z',
  updatedAt: '2026-02-25T08:12:40.019Z',
  revision: 0,
};

const exampleSecret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

const exampleDelivery = {
  id: '3f2a9c0d1e4b5a6978c0d1e2f3a4b5c6',
  webhookId: exampleWebhook.id,
  eventId: '0190f1e3-1111-7c3d-8e9f-0a1b2c3d4e5f',
  type: 'meeting.cancelled',
  messageId: 'msg_3f2a9c0d1e4b5a6978c0d1e2f3a4b5c6',
  status: 'delivered',
  payload: {
    type: 'meeting.cancelled',
    timestamp: '2026-02-25T09:00:00.000Z',
    data: { meetingId: 'm-1', customerId: 'cust-42', instructorId: 'coach-7', reason: 'ill' },
  },
  attempts: [
    { attempt: 1, at: '2026-02-25T09:00:01.120Z', ok: false, status: 503, error: 'answered 503', durationMs: 80 },
    { attempt: 2, at: '2026-02-25T09:00:06.300Z', ok: true, status: 200, response: 'ok', durationMs: 41 },
  ],
  attemptCount: 2,
  round: 0,
  createdAt: '2026-02-25T09:00:01.010Z',
  updatedAt: '2026-02-25T09:00:06.300Z',
  deliveredAt: '2026-02-25T09:00:06.300Z',
  position: 4812,
};

const ADMINS = 'Admins only (others, auditors included: 403).';
const READERS = 'Admins and auditors (others: 403); read-only, never a secret.';
const notFound = (what: string): Json => ({ ...response('NotFound'), description: `No such ${what}.` });

const DELIVERY_RULES =
  'Deliveries are POSTed as JSON `{type, timestamp, data}` and signed by the Standard Webhooks specification: ' +
  '`webhook-id` (the same on every attempt, so receivers drop repeats), `webhook-timestamp` (the attempt, in seconds) ' +
  'and `webhook-signature` (`v1,<base64 HMAC-SHA256>`, one per valid secret, space-separated). A 2xx answer is ' +
  'success; anything else, a timeout or a refused address is retried after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and ' +
  '10 h (more than a day). An endpoint whose deliveries fail without a break for 5 days is disabled and every active ' +
  `admin is emailed. Event types: ${webhookEventTypes.map((type) => `\`${type}\``).join(', ')}.`;

const webhooksPath = (schema: SchemaOf): Json => ({
  get: operation({
    operationId: 'listWebhooks',
    summary: 'Webhook endpoints',
    description: `${READERS} Oldest first; never with their secrets.`,
    tags: ['webhooks'],
    responses: {
      '200': reply('The endpoints.', json(schema(WebhookList), { items: [exampleWebhook] })),
      '403': response('Forbidden'),
    },
  }),
  post: operation({
    operationId: 'registerWebhook',
    idempotent: 'secret',
    summary: 'Register a webhook endpoint',
    description:
      `${ADMINS} The answer holds the signing secret, shown this once. \`url\` must be \`https:\` and must not be a ` +
      'private, loopback, link-local or other non-public address (400 naming `url`); a host that resolves to one is ' +
      `refused again at every delivery. ${DELIVERY_RULES}`,
    tags: ['webhooks'],
    requestBody: body(schema(WebhookCreateBody), 'The endpoint.', {
      url: exampleWebhook.url,
      events: exampleWebhook.events,
      description: exampleWebhook.description,
    }),
    responses: {
      '201': reply('Registered.', json(schema(WebhookCreated), { ...exampleWebhook, secret: exampleSecret }), {
        ETag: header('ETag'),
        Location: header('Location'),
      }),
      '403': response('Forbidden'),
      '409': { ...response('Conflict'), description: 'There are as many endpoints as allowed (50).' },
    },
  }),
});

const webhookPath = (schema: SchemaOf): Json => ({
  get: operation({
    operationId: 'getWebhook',
    summary: 'One webhook endpoint',
    description: `${READERS} Never with its secret.`,
    tags: ['webhooks'],
    parameters: [param('WebhookId')],
    responses: {
      '200': reply('The endpoint.', json(schema(WebhookResource), exampleWebhook), { ETag: header('ETag') }),
      '403': response('Forbidden'),
      '404': notFound('webhook'),
    },
  }),
  patch: operation({
    operationId: 'updateWebhook',
    summary: 'Change a webhook endpoint, or disable or enable it',
    description:
      `${ADMINS} Only the fields given change. \`enabled: false\` stops deliveries (pending ones fail at their next attempt); ` +
      '`enabled: true` enables a disabled endpoint again, also one disabled for failing.',
    tags: ['webhooks'],
    parameters: [param('WebhookId'), param('IfMatch')],
    requestBody: body(schema(WebhookPatchBody), 'What changes.', { events: ['meeting.*'], enabled: true }),
    responses: {
      '200': reply('The endpoint as it is now.', json(schema(WebhookResource), exampleWebhook), {
        ETag: header('ETag'),
      }),
      '403': response('Forbidden'),
      '404': notFound('webhook'),
      '409': { ...response('Conflict'), description: 'Too many concurrent changes to it; try again.' },
      '412': response('PreconditionFailed'),
    },
  }),
  delete: operation({
    operationId: 'deleteWebhook',
    summary: 'Delete a webhook endpoint',
    description: `${ADMINS} Nothing more is sent to it; its pending deliveries fail at their next attempt.`,
    tags: ['webhooks'],
    parameters: [param('WebhookId')],
    responses: {
      '204': reply('Deleted.'),
      '403': response('Forbidden'),
      '404': notFound('webhook'),
    },
  }),
});

const rotatePath = (schema: SchemaOf): Json => ({
  post: operation({
    operationId: 'rotateWebhookSecret',
    idempotent: 'secret',
    summary: 'Give a webhook endpoint a new signing secret',
    description:
      `${ADMINS} The new secret is shown this once. Until \`previousSecretValidUntil\` (24 hours) deliveries carry ` +
      'a signature by the old secret beside the new one, so a receiver switches without losing a delivery. Every ' +
      'replaced secret keeps signing until the end of its own overlap, even when another rotation follows; a ' +
      `rotation while ${MAX_PREVIOUS_SECRETS} replaced secrets still sign is refused (409, saying until when).`,
    tags: ['webhooks'],
    parameters: [param('WebhookId')],
    responses: {
      '200': reply(
        'The new secret.',
        json(schema(RotatedSecret), { secret: exampleSecret, previousSecretValidUntil: '2026-02-26T08:12:40.019Z' }),
      ),
      '403': response('Forbidden'),
      '404': notFound('webhook'),
      '409': { ...response('Conflict'), description: 'Too many replaced secrets still signing.' },
    },
  }),
});

const deliveriesPath = (schema: SchemaOf): Json => ({
  get: operation({
    operationId: 'listWebhookDeliveries',
    summary: 'The delivery log of a webhook endpoint',
    description: `${READERS} Newest first, a page at a time (\`next\` → \`before\`). Unknown query parameters: 400.`,
    tags: ['webhooks'],
    parameters: [
      param('WebhookId'),
      {
        name: 'status',
        in: 'query',
        required: false,
        description: 'Only deliveries in this status.',
        schema: schema(DeliveryStatusParam),
      },
      {
        name: 'before',
        in: 'query',
        required: false,
        description: 'Only deliveries made before this one (the `next` of the previous page).',
        schema: { type: 'integer', minimum: 1 },
      },
      {
        name: 'limit',
        in: 'query',
        required: false,
        description: `At most this many (default ${DELIVERY_PAGE.default}, at most ${DELIVERY_PAGE.max}).`,
        schema: { type: 'integer', minimum: 1, maximum: DELIVERY_PAGE.max, default: DELIVERY_PAGE.default },
      },
    ],
    responses: {
      '200': reply('The deliveries.', json(schema(DeliveryList), { items: [exampleDelivery] })),
      '400': response('BadRequest'),
      '403': response('Forbidden'),
      '404': notFound('webhook'),
    },
  }),
});

const redeliverPath = (schema: SchemaOf): Json => ({
  post: operation({
    operationId: 'redeliverWebhook',
    idempotent: 'replay',
    summary: 'Send a delivery again',
    description:
      `${ADMINS} A delivered or failed delivery starts a new round of attempts with the same \`webhook-id\` and ` +
      'body, in the background; the answer shows it pending.',
    tags: ['webhooks'],
    parameters: [param('WebhookId'), param('WebhookDeliveryId')],
    responses: {
      '202': reply(
        'Accepted for delivery.',
        json(schema(DeliveryResource), { ...exampleDelivery, status: 'pending', round: 1 }),
      ),
      '403': response('Forbidden'),
      '404': notFound('webhook or delivery'),
      '409': {
        ...response('Conflict'),
        description: 'The delivery is still pending, the endpoint is disabled, or the delivery changed meanwhile.',
      },
    },
  }),
});

export const webhookPaths: PathsOf = (schema) => ({
  '/webhooks': webhooksPath(schema),
  '/webhooks/{id}': webhookPath(schema),
  '/webhooks/{id}/rotate-secret': rotatePath(schema),
  '/webhooks/{id}/deliveries': deliveriesPath(schema),
  '/webhooks/{id}/deliveries/{deliveryId}/redeliver': redeliverPath(schema),
});
