import * as t from 'io-ts';
import { annotate } from '../../../domain/annotate.ts';
import { IsoInstant } from '../../../domain/shared.ts';
import { DisabledReason, WebhookDescription, WebhookEvents, WebhookUrl } from '../../../domain/webhook.ts';
import { DeliveryStatus, MAX_RESPONSE_EXCERPT } from '../../../domain/webhook-delivery.ts';
import { MAX_ATTEMPTS_SHOWN } from '../../read-models/webhooks.ts';
import { DEFAULT_DELIVERY_PAGE, MAX_DELIVERY_PAGE } from '../../../application/webhooks/service.ts';
import type { DeliveryView, WebhookView } from '../../../application/ports/webhooks.ts';
import { Revision } from '../meetings/shapes.ts';

// ---------- requests ----------

export const WebhookCreateBody = annotate(
  t.intersection([t.type({ url: WebhookUrl, events: WebhookEvents }), t.partial({ description: WebhookDescription })]),
  { name: 'WebhookCreateBody' },
);

export const WebhookPatchBody = annotate(
  t.partial({
    url: WebhookUrl,
    events: WebhookEvents,
    description: annotate(WebhookDescription, { description: 'What it is for; `""` removes it.' }),
    enabled: annotate(t.boolean, {
      description: '`false` disables it (nothing more is sent); `true` enables a disabled one again.',
    }),
  }),
  { name: 'WebhookPatchBody' },
);

export const DeliveryStatusParam = annotate(DeliveryStatus, {
  name: 'WebhookDeliveryStatus',
  description:
    '`pending`: to be sent (attempts may be under way or scheduled). `delivered`: the receiver answered 2xx. ' +
    '`failed`: every attempt of the retry schedule failed, or the endpoint was disabled or deleted meanwhile.',
});

const integerParam = (name: string, min: number, max: number) =>
  new t.Type<number, string, unknown>(
    name,
    (u): u is number => typeof u === 'number',
    (u, c) => {
      const message = `must be an integer from ${min} to ${max}`;
      if (typeof u !== 'string' || !/^\d{1,16}$/.test(u)) return t.failure(u, c, message);
      const n = Number(u);
      return n >= min && n <= max ? t.success(n) : t.failure(u, c, message);
    },
    String,
  );

export const DeliveryLimitParam = integerParam(`integer from 1 to ${MAX_DELIVERY_PAGE}`, 1, MAX_DELIVERY_PAGE);
export const DeliveryCursorParam = integerParam('a log position', 1, Number.MAX_SAFE_INTEGER);

export const DeliveriesQuery = t.partial({
  status: DeliveryStatusParam,
  limit: DeliveryLimitParam,
  before: DeliveryCursorParam,
});
export const DELIVERY_PAGE = { default: DEFAULT_DELIVERY_PAGE, max: MAX_DELIVERY_PAGE };

// ---------- answers ----------

const When = (description: string) => annotate(IsoInstant, { description });
const Count = (description: string) => annotate(t.number, { type: 'integer', minimum: 0, description });

export const WebhookResource = annotate(
  t.intersection([
    t.type({
      id: t.string,
      url: WebhookUrl,
      events: WebhookEvents,
      status: annotate(t.keyof({ enabled: null, disabled: null }), {
        description: '`disabled`: nothing is sent to it (see `disabledReason`).',
      }),
      createdAt: When('When it was registered.'),
      updatedAt: When('When it last changed.'),
      revision: Revision,
    }),
    t.partial({
      description: WebhookDescription,
      disabledReason: annotate(DisabledReason, {}),
      disabledDetail: annotate(t.string, { description: 'Why it was disabled, for `failing`.' }),
      disabledAt: When('When it was disabled.'),
      failingSince: When('Since when every attempt failed, while no delivery has succeeded since.'),
      secretRotatedAt: When('When the secret was last rotated.'),
      previousSecretValidUntil: When('Until when the secret the last rotation replaced still signs deliveries.'),
    }),
  ]),
  {
    name: 'Webhook',
    description: 'A webhook endpoint. Its secret is never shown again after the answer that made it.',
  },
);

const Secret = annotate(t.string, {
  pattern: '^whsec_[A-Za-z0-9+/=]+$',
  description:
    'The signing secret (Standard Webhooks, `whsec_` and base64): shown in this answer only, and kept nowhere a ' +
    'client can read it again. Verify deliveries with it (for example `new Webhook(secret).verify(body, headers)` ' +
    'of the `standardwebhooks` package).',
});

export const WebhookCreated = annotate(t.intersection([WebhookResource, t.type({ secret: Secret })]), {
  name: 'WebhookCreated',
});

export const WebhookList = annotate(t.type({ items: t.readonlyArray(WebhookResource) }), { name: 'WebhookList' });

export const RotatedSecret = annotate(
  t.type({
    secret: Secret,
    previousSecretValidUntil: When(
      'Until then deliveries carry a signature by the old secret too, so receivers can switch without losing any.',
    ),
  }),
  { name: 'WebhookSecretRotation' },
);

const Attempt = annotate(
  t.intersection([
    t.type({
      attempt: Count('1 for the first attempt; counts on across redeliveries.'),
      at: When('When it ended.'),
      ok: t.boolean,
    }),
    t.partial({
      status: annotate(t.number, { type: 'integer', description: "The receiver's HTTP status." }),
      error: annotate(t.string, { description: 'Why it failed (a status, a timeout, a refused address).' }),
      response: annotate(t.string, {
        maxLength: MAX_RESPONSE_EXCERPT,
        description: `The start of the receiver's answer (at most ${MAX_RESPONSE_EXCERPT} bytes).`,
      }),
      durationMs: Count('How long it took.'),
    }),
  ]),
  { name: 'WebhookAttempt' },
);

export const DeliveryResource = annotate(
  t.intersection([
    t.type({
      id: annotate(t.string, { pattern: '^[0-9a-f]{32}$', description: 'Derived from the event and the endpoint.' }),
      webhookId: t.string,
      eventId: annotate(t.string, { description: 'The event of the log it tells about.' }),
      type: annotate(t.string, { description: 'The webhook event type (`meeting.cancelled`).' }),
      messageId: annotate(t.string, {
        description: 'The `webhook-id` header: the same on every attempt and redelivery, so receivers drop repeats.',
      }),
      status: DeliveryStatusParam,
      payload: annotate(
        t.type({
          type: t.string,
          timestamp: When('When it happened.'),
          data: annotate(t.record(t.string, annotate(t.unknown, { description: 'A JSON value.' })), {
            description: 'The ids and public fields of what changed; never private metadata.',
          }),
        }),
        { name: 'WebhookPayload', description: 'The body every attempt sends.' },
      ),
      attempts: annotate(t.readonlyArray(Attempt), {
        maxItems: MAX_ATTEMPTS_SHOWN,
        description: `The last ${MAX_ATTEMPTS_SHOWN} attempts, oldest first.`,
      }),
      attemptCount: Count('Attempts over all rounds.'),
      round: Count('0, plus one per redelivery.'),
      createdAt: When('When it was made.'),
      updatedAt: When('When it last changed.'),
      position: Count('Its place in the log; the delivery log is newest first by it.'),
    }),
    t.partial({
      nextAttemptAt: When('When the next attempt is due, after a failed one.'),
      lastError: annotate(t.string, { description: 'Why the last attempt failed.' }),
      deliveredAt: When('When the receiver took it.'),
    }),
  ]),
  { name: 'WebhookDelivery', description: 'One event sent to one endpoint, with its attempts.' },
);

export const DeliveryList = annotate(
  t.intersection([
    t.type({ items: annotate(t.readonlyArray(DeliveryResource), { description: 'Newest first.' }) }),
    t.partial({
      next: annotate(t.number, {
        type: 'integer',
        description: 'There may be more: pass it as `before` for the next page.',
      }),
    }),
  ]),
  { name: 'WebhookDeliveryList' },
);

// The views are answered as they are: the compiler holds them to the documented shapes.
const _webhookFits = (view: WebhookView): t.TypeOf<typeof WebhookResource> => ({ ...view, events: [...view.events] });
const _deliveryFits = (view: DeliveryView): Omit<t.TypeOf<typeof DeliveryResource>, 'payload'> => view;
