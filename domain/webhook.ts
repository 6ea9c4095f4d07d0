import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { annotate } from './annotate.ts';
import { eventTypesOf } from './decider.ts';
import type { Decider } from './decider.ts';
import { Actor, IsoInstant, assertNever, validationFailed } from './shared.ts';
import type { FieldError, ValidationFailed } from './shared.ts';

/**
 * A webhook endpoint: an address an admin registered for CRMs and site integrations, the event types it takes, and
 * the secret its deliveries are signed with (Standard Webhooks). A rotated secret stays valid for an overlap, during
 * which deliveries carry a signature by each. The secret lives only in this stream's events (named `secret`, so the
 * audit log redacts it) and in the sender's memory while it signs; no read model and no answer but the one that
 * makes it holds it.
 */

export const MAX_WEBHOOK_URL_LENGTH = 2048;
export const MAX_WEBHOOK_DESCRIPTION_LENGTH = 500;
export const MAX_WEBHOOK_EVENT_TYPES = 50;
/** How long the secret a rotation replaced still signs deliveries (and so still verifies at the receiver), by default. */
export const SECRET_OVERLAP_MS = 24 * 3600_000;
/**
 * The most replaced secrets still signing at once: each keeps signing until the end of the overlap it was promised,
 * so a rotation while this many are still in their overlap is refused.
 */
export const MAX_PREVIOUS_SECRETS = 5;

/** Every event type a webhook can deliver: `<resource>.<what happened>`. */
export const webhookEventTypes = [
  'meeting.scheduled',
  'meeting.rescheduled',
  'meeting.updated',
  'meeting.cancelled',
  'meeting.reinstated',
  'meeting.confirmed',
  'series.scheduled',
  'series.updated',
  'series.cancelled',
  'attendance.joined',
  'attendance.left',
  'attendance.marked',
  'person.registered',
  'person.updated',
  'person.roles_changed',
  'person.deactivated',
  'person.reactivated',
] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];

/** The groups a subscription may name as `<group>.*`. */
export const webhookEventGroups = ['meeting', 'series', 'attendance', 'person'] as const;

/** Subscriptions: exact types, or every type of a group as `meeting.*`. */
export const subscriptionNames: ReadonlyArray<string> = [
  ...webhookEventTypes,
  ...webhookEventGroups.map((group) => `${group}.*`),
];

/** Whether an endpoint subscribed to `events` takes `type`. */
export const subscribes = (events: ReadonlyArray<string>, type: string): boolean =>
  events.some((name) => name === type || (name.endsWith('.*') && type.startsWith(name.slice(0, -1))));

export const WebhookUrl = annotate(t.string, {
  format: 'uri',
  maxLength: MAX_WEBHOOK_URL_LENGTH,
  description:
    'Where deliveries are POSTed: an `https:` URL without user name or password. Literal private, loopback, ' +
    'link-local and other non-public addresses, and `localhost`, are refused, and so is a host that resolves to one ' +
    'when a delivery is made (unless WEBHOOKS_ALLOW_INSECURE_TARGETS, for development and tests only).',
  examples: ['https://crm.example.com/hooks/1on1'],
});

const subscriptionKeys = Object.fromEntries(subscriptionNames.map((n) => [n, null])) as Record<string, null>;
const anySubscription = t.keyof(subscriptionKeys);
/** A keyof whose refusal names the value that is not a known event type. */
const knownSubscription = new t.KeyofType(
  'WebhookSubscription',
  anySubscription.is,
  (u, c) =>
    anySubscription.is(u)
      ? t.success(u)
      : t.failure(
          u,
          c,
          typeof u === 'string' ? `'${u.slice(0, 64)}' is not a known event type` : 'must be an event type name',
        ),
  t.identity,
  subscriptionKeys,
);

export const SubscriptionName = annotate(knownSubscription, {
  name: 'WebhookSubscription',
  description: 'An event type, or every type of a group (`meeting.*`, `series.*`, `attendance.*`, `person.*`).',
});

export const WebhookEvents = annotate(t.array(SubscriptionName), {
  minItems: 1,
  maxItems: MAX_WEBHOOK_EVENT_TYPES,
  description: 'The event types it takes; at least one.',
});

export const WebhookDescription = annotate(t.string, {
  maxLength: MAX_WEBHOOK_DESCRIPTION_LENGTH,
  description: 'What it is for (shown to admins).',
});

export const DisabledReason = annotate(t.keyof({ admin: null, failing: null }), {
  name: 'WebhookDisabledReason',
  description: '`admin`: an admin disabled it; `failing`: its deliveries failed without a break for too long.',
});
export type DisabledReason = t.TypeOf<typeof DisabledReason>;

const stamp = { at: IsoInstant, by: Actor };

// ---------- events ----------

export const WebhookRegistered = t.type({
  type: t.literal('WebhookRegistered'),
  data: t.intersection([
    t.type({ webhookId: t.string, url: t.string, events: t.array(t.string), secret: t.string, ...stamp }),
    t.partial({ description: t.string }),
  ]),
});

export const WebhookUpdated = t.type({
  type: t.literal('WebhookUpdated'),
  data: t.type({
    webhookId: t.string,
    changes: t.partial({ url: t.string, events: t.array(t.string), description: t.string }),
    ...stamp,
  }),
});

/** A new secret; the one it replaces still signs until `previousValidUntil`. */
export const WebhookSecretRotated = t.type({
  type: t.literal('WebhookSecretRotated'),
  data: t.type({ webhookId: t.string, secret: t.string, previousValidUntil: IsoInstant, ...stamp }),
});

export const WebhookDisabled = t.type({
  type: t.literal('WebhookDisabled'),
  data: t.intersection([
    t.type({ webhookId: t.string, reason: DisabledReason, ...stamp }),
    t.partial({ detail: t.string, failingSince: IsoInstant }),
  ]),
});

export const WebhookEnabled = t.type({
  type: t.literal('WebhookEnabled'),
  data: t.type({ webhookId: t.string, ...stamp }),
});

export const WebhookDeleted = t.type({
  type: t.literal('WebhookDeleted'),
  data: t.type({ webhookId: t.string, ...stamp }),
});

export const WebhookEvent = t.union([
  WebhookRegistered,
  WebhookUpdated,
  WebhookSecretRotated,
  WebhookDisabled,
  WebhookEnabled,
  WebhookDeleted,
]);
export type WebhookEvent = t.TypeOf<typeof WebhookEvent>;
export const webhookEventTypesStored = eventTypesOf(WebhookEvent);

// ---------- commands ----------

type Stamp = { readonly at: string; readonly by: Actor };

export interface WebhookFields {
  readonly url: string;
  readonly events: ReadonlyArray<string>;
  readonly description?: string;
}

export type WebhookCommand =
  | {
      readonly type: 'RegisterWebhook';
      readonly data: WebhookFields & Stamp & { readonly webhookId: string; readonly secret: string };
    }
  | {
      readonly type: 'UpdateWebhook';
      readonly data: Partial<WebhookFields> & Stamp & { readonly enabled?: boolean };
    }
  | {
      readonly type: 'RotateWebhookSecret';
      /** The replaced secret goes on signing for `overlapMs`. */
      readonly data: Stamp & { readonly secret: string; readonly overlapMs: number };
    }
  /** The sender's: deliveries have failed since `failingSince` without a success, for longer than allowed. */
  | {
      readonly type: 'DisableFailingWebhook';
      readonly data: Stamp & { readonly failingSince: string; readonly detail: string };
    }
  | { readonly type: 'DeleteWebhook'; readonly data: Stamp };

// ---------- state ----------

export interface PreviousSecret {
  readonly secret: string;
  readonly validUntil: string;
}

export interface Webhook {
  readonly status: 'enabled' | 'disabled' | 'deleted';
  readonly id: string;
  readonly url: string;
  readonly events: ReadonlyArray<string>;
  readonly description?: string;
  readonly secret: string;
  /** The secrets rotations replaced that are still in their overlap, newest first. */
  readonly previous: ReadonlyArray<PreviousSecret>;
  readonly disabledReason?: DisabledReason;
  /** When an admin last enabled it again: a failure streak from before then is no longer current. */
  readonly enabledAt?: string;
}

export type WebhookState = { readonly status: 'none' } | Webhook;

export const initialState = (): WebhookState => ({ status: 'none' });

export type WebhookError =
  | ValidationFailed
  | { readonly _tag: 'WebhookAlreadyExists' }
  | { readonly _tag: 'WebhookNotFound' }
  | { readonly _tag: 'WebhookNotEnabled' }
  | { readonly _tag: 'TooManyRotations'; readonly until: string }
  | { readonly _tag: 'FailureStreakStale' };

// ---------- rules ----------

/** Shape rules of an address (the target policy, which needs the network's view of addresses, is the application's). */
export const urlProblem = (url: string): string | undefined => {
  if (url.length > MAX_WEBHOOK_URL_LENGTH) return `must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an absolute URL';
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return 'must be an https: URL';
  if (parsed.hostname.length === 0) return 'must name a host';
  if (parsed.username !== '' || parsed.password !== '') return 'must not hold a user name or password';
  if (parsed.hash !== '') return 'must not have a #fragment';
  return undefined;
};

const checkFields = (fields: Partial<WebhookFields>): FieldError[] => {
  const errors: FieldError[] = [];
  if (fields.url !== undefined) {
    const problem = urlProblem(fields.url);
    if (problem !== undefined) errors.push({ path: 'url', message: problem });
  }
  if (fields.events !== undefined) {
    if (fields.events.length === 0) errors.push({ path: 'events', message: 'must name at least one event type' });
    if (fields.events.length > MAX_WEBHOOK_EVENT_TYPES)
      errors.push({ path: 'events', message: `must name at most ${MAX_WEBHOOK_EVENT_TYPES} event types` });
    const unknown = fields.events.find((name) => !subscriptionNames.includes(name));
    if (unknown !== undefined)
      errors.push({ path: 'events', message: `'${unknown.slice(0, 64)}' is not a known event type` });
  }
  if (fields.description !== undefined && fields.description.length > MAX_WEBHOOK_DESCRIPTION_LENGTH)
    errors.push({ path: 'description', message: `must be at most ${MAX_WEBHOOK_DESCRIPTION_LENGTH} characters` });
  return errors;
};

/** The replaced secrets whose overlap has not ended at `at`. */
const stillSigning = (previous: ReadonlyArray<PreviousSecret>, at: string): ReadonlyArray<PreviousSecret> =>
  previous.filter((p) => Date.parse(p.validUntil) > Date.parse(at));

const unique = (events: ReadonlyArray<string>): string[] => [...new Set(events)];

const sameList = (a: ReadonlyArray<string>, b: ReadonlyArray<string>) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

const decideUpdate = (
  state: Webhook,
  data: Extract<WebhookCommand, { type: 'UpdateWebhook' }>['data'],
): E.Either<WebhookError, WebhookEvent[]> => {
  const errors = checkFields(data);
  if (errors.length > 0) return E.left(validationFailed(errors));
  const { at, by } = data;
  const changes: { url?: string; events?: string[]; description?: string } = {};
  if (data.url !== undefined && data.url !== state.url) changes.url = data.url;
  if (data.events !== undefined && !sameList(unique(data.events), state.events)) changes.events = unique(data.events);
  if (data.description !== undefined && data.description !== (state.description ?? ''))
    changes.description = data.description;
  const events: WebhookEvent[] = [];
  if (Object.keys(changes).length > 0)
    events.push({ type: 'WebhookUpdated', data: { webhookId: state.id, changes, at, by } });
  if (data.enabled === true && state.status === 'disabled')
    events.push({ type: 'WebhookEnabled', data: { webhookId: state.id, at, by } });
  if (data.enabled === false && state.status === 'enabled')
    events.push({ type: 'WebhookDisabled', data: { webhookId: state.id, reason: 'admin', at, by } });
  return E.right(events);
};

// ---------- decide ----------

export const decide = (command: WebhookCommand, state: WebhookState): E.Either<WebhookError, WebhookEvent[]> => {
  if (command.type === 'RegisterWebhook') {
    if (state.status !== 'none') return E.left({ _tag: 'WebhookAlreadyExists' });
    const d = command.data;
    const errors = checkFields(d);
    if (d.url === '') errors.push({ path: 'url', message: 'is required' });
    if (errors.length > 0) return E.left(validationFailed(errors));
    return E.right([
      {
        type: 'WebhookRegistered',
        data: {
          webhookId: d.webhookId,
          url: d.url,
          events: unique(d.events),
          ...(d.description !== undefined && d.description !== '' ? { description: d.description } : {}),
          secret: d.secret,
          at: d.at,
          by: d.by,
        },
      },
    ]);
  }
  if (state.status === 'none' || state.status === 'deleted') return E.left({ _tag: 'WebhookNotFound' });
  switch (command.type) {
    case 'UpdateWebhook':
      return decideUpdate(state, command.data);
    case 'RotateWebhookSecret': {
      const { at, by, secret, overlapMs } = command.data;
      const signing = stillSigning(state.previous, at);
      if (signing.length >= MAX_PREVIOUS_SECRETS)
        return E.left({ _tag: 'TooManyRotations', until: signing[signing.length - 1]!.validUntil });
      const previousValidUntil = new Date(Date.parse(at) + Math.max(0, overlapMs)).toISOString();
      return E.right([
        { type: 'WebhookSecretRotated', data: { webhookId: state.id, secret, previousValidUntil, at, by } },
      ]);
    }
    case 'DisableFailingWebhook': {
      if (state.status !== 'enabled') return E.left({ _tag: 'WebhookNotEnabled' });
      const { at, by, failingSince, detail } = command.data;
      // Enabled again after the streak began (the streak the sender saw ended there): not this command's to disable.
      if (state.enabledAt !== undefined && Date.parse(failingSince) < Date.parse(state.enabledAt))
        return E.left({ _tag: 'FailureStreakStale' });
      return E.right([
        { type: 'WebhookDisabled', data: { webhookId: state.id, reason: 'failing', detail, failingSince, at, by } },
      ]);
    }
    case 'DeleteWebhook':
      return E.right([{ type: 'WebhookDeleted', data: { webhookId: state.id, ...command.data } }]);
    default:
      return assertNever(command);
  }
};

// ---------- evolve ----------

export const evolve = (state: WebhookState, event: WebhookEvent): WebhookState => {
  if (event.type === 'WebhookRegistered') {
    const d = event.data;
    return {
      status: 'enabled',
      id: d.webhookId,
      url: d.url,
      events: d.events,
      ...(d.description !== undefined ? { description: d.description } : {}),
      secret: d.secret,
      previous: [],
    };
  }
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'WebhookUpdated':
      return { ...state, ...event.data.changes };
    case 'WebhookSecretRotated':
      return {
        ...state,
        secret: event.data.secret,
        previous: [
          { secret: state.secret, validUntil: event.data.previousValidUntil },
          ...stillSigning(state.previous, event.data.at),
        ],
      };
    case 'WebhookDisabled':
      return { ...state, status: 'disabled', disabledReason: event.data.reason };
    case 'WebhookEnabled': {
      const { disabledReason: _reason, ...rest } = state;
      return { ...rest, status: 'enabled', enabledAt: event.data.at };
    }
    case 'WebhookDeleted':
      return { ...state, status: 'deleted' };
    default:
      return assertNever(event);
  }
};

/** The secrets a delivery made at `at` is signed with: the current one, and each replaced one during its overlap. */
export const signingSecrets = (webhook: Webhook, at: Date): ReadonlyArray<string> => [
  webhook.secret,
  ...stillSigning(webhook.previous, at.toISOString()).map((p) => p.secret),
];

export const webhookStreamPrefix = 'webhook-endpoint-';
export const webhookStreamName = (webhookId: string): string => `${webhookStreamPrefix}${webhookId}`;

export const webhookDecider: Decider<WebhookCommand, WebhookEvent, WebhookState, WebhookError> = {
  decide,
  evolve,
  initialState,
};
