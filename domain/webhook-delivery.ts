import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { eventTypesOf } from './decider.ts';
import type { Decider } from './decider.ts';
import { Actor, IsoInstant, assertNever } from './shared.ts';

/**
 * One event of the log delivered to one webhook endpoint. The stream is claimed with its first append (`no_stream`),
 * so a replay, a rebuild or a second node never makes a second delivery of one event to one endpoint. Each attempt
 * is announced with a lease before the request goes out, so two nodes never send the same delivery at once; every
 * attempt carries the same `webhook-id` (`messageId`) and body, so a receiver drops a repeat it already took.
 */

/** The most of a receiver's answer kept in the delivery log. */
export const MAX_RESPONSE_EXCERPT = 2048;
export const MAX_DELIVERY_ERROR = 500;

/**
 * Delays before each retry after a failed attempt, as Standard Webhooks' reference (Svix) retries: 5 s, 5 min,
 * 30 min, 2 h, 5 h, 10 h, 10 h — the last attempt more than a day after the first.
 */
export const DEFAULT_RETRY_DELAYS_MS: ReadonlyArray<number> = [
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3600_000,
  5 * 3600_000,
  10 * 3600_000,
  10 * 3600_000,
];

export const DeliveryStatus = t.keyof({ pending: null, delivered: null, failed: null });
export type DeliveryStatus = t.TypeOf<typeof DeliveryStatus>;

// ---------- events ----------

export const DeliveryRequested = t.type({
  type: t.literal('DeliveryRequested'),
  data: t.type({
    deliveryId: t.string,
    webhookId: t.string,
    eventId: t.string,
    /** The webhook event type (`meeting.cancelled`). */
    type: t.string,
    /** `webhook-id`: the same on every attempt. */
    messageId: t.string,
    /** The exact body every attempt sends. */
    payload: t.string,
    at: IsoInstant,
  }),
});

export const DeliveryAttemptStarted = t.type({
  type: t.literal('DeliveryAttemptStarted'),
  data: t.type({ attempt: t.number, leaseUntil: IsoInstant, at: IsoInstant }),
});

export const DeliverySucceeded = t.type({
  type: t.literal('DeliverySucceeded'),
  data: t.intersection([
    t.type({ attempt: t.number, status: t.number, durationMs: t.number, at: IsoInstant }),
    t.partial({ response: t.string }),
  ]),
});

export const DeliveryAttemptFailed = t.type({
  type: t.literal('DeliveryAttemptFailed'),
  data: t.intersection([
    t.type({ attempt: t.number, error: t.string, at: IsoInstant }),
    t.partial({ status: t.number, response: t.string, durationMs: t.number, nextAttemptAt: IsoInstant }),
  ]),
});

export const DeliveryFailed = t.type({
  type: t.literal('DeliveryFailed'),
  data: t.type({ error: t.string, attempts: t.number, at: IsoInstant }),
});

export const DeliveryRedeliveryRequested = t.type({
  type: t.literal('DeliveryRedeliveryRequested'),
  data: t.type({ round: t.number, by: Actor, at: IsoInstant }),
});

export const WebhookDeliveryEvent = t.union([
  DeliveryRequested,
  DeliveryAttemptStarted,
  DeliverySucceeded,
  DeliveryAttemptFailed,
  DeliveryFailed,
  DeliveryRedeliveryRequested,
]);
export type WebhookDeliveryEvent = t.TypeOf<typeof WebhookDeliveryEvent>;
export const webhookDeliveryEventTypes = eventTypesOf(WebhookDeliveryEvent);

// ---------- commands ----------

export interface AttemptOutcome {
  readonly attempt: number;
  readonly status?: number;
  readonly response?: string;
  readonly durationMs?: number;
  readonly at: string;
}

export type WebhookDeliveryCommand =
  | {
      readonly type: 'RequestDelivery';
      readonly data: t.TypeOf<typeof DeliveryRequested>['data'];
    }
  | { readonly type: 'StartAttempt'; readonly data: { readonly leaseUntil: string; readonly at: string } }
  | { readonly type: 'RecordDelivered'; readonly data: AttemptOutcome & { readonly status: number } }
  | {
      readonly type: 'RecordAttemptFailed';
      readonly data: AttemptOutcome & {
        readonly error: string;
        /** The retry schedule: the delay before each retry of a round. */
        readonly retryDelaysMs: ReadonlyArray<number>;
      };
    }
  /** Nothing can be sent any more (the endpoint was disabled or deleted). */
  | { readonly type: 'FailDelivery'; readonly data: { readonly error: string; readonly at: string } }
  | { readonly type: 'RequestRedelivery'; readonly data: { readonly by: Actor; readonly at: string } };

// ---------- state ----------

export interface WebhookDelivery {
  readonly status: DeliveryStatus;
  readonly id: string;
  readonly webhookId: string;
  readonly eventId: string;
  readonly type: string;
  readonly messageId: string;
  readonly payload: string;
  /** Attempts over all rounds. */
  readonly attempts: number;
  readonly roundAttempts: number;
  readonly round: number;
  readonly nextAttemptAt?: string;
  /** The attempt under way, until it is recorded or its lease runs out. */
  readonly lease?: { readonly attempt: number; readonly until: string };
  readonly lastError?: string;
}

export type WebhookDeliveryState = { readonly status: 'none' } | WebhookDelivery;

export const initialState = (): WebhookDeliveryState => ({ status: 'none' });

export type WebhookDeliveryError =
  | { readonly _tag: 'DeliveryAlreadyRequested' }
  | { readonly _tag: 'DeliveryNotFound' }
  | { readonly _tag: 'DeliveryNotPending'; readonly status: DeliveryStatus }
  | { readonly _tag: 'AttemptInProgress'; readonly until: string }
  | { readonly _tag: 'AttemptNotDue'; readonly at: string }
  | { readonly _tag: 'NotCurrentAttempt' }
  | { readonly _tag: 'DeliveryPending' };

const cut = (text: string | undefined, max: number) => (text === undefined ? undefined : text.slice(0, max));

const outcome = (d: AttemptOutcome) => ({
  attempt: d.attempt,
  ...(d.status !== undefined ? { status: d.status } : {}),
  ...(d.response !== undefined ? { response: cut(d.response, MAX_RESPONSE_EXCERPT) } : {}),
  ...(d.durationMs !== undefined ? { durationMs: Math.max(0, Math.round(d.durationMs)) } : {}),
  at: d.at,
});

const recordFailure = (
  state: WebhookDelivery,
  d: Extract<WebhookDeliveryCommand, { type: 'RecordAttemptFailed' }>['data'],
): WebhookDeliveryEvent[] => {
  const error = cut(d.error, MAX_DELIVERY_ERROR) ?? '';
  const delay = d.retryDelaysMs[state.roundAttempts];
  if (delay !== undefined) {
    const nextAttemptAt = new Date(Date.parse(d.at) + delay).toISOString();
    return [{ type: 'DeliveryAttemptFailed', data: { ...outcome(d), error, nextAttemptAt } }];
  }
  return [
    { type: 'DeliveryAttemptFailed', data: { ...outcome(d), error } },
    {
      type: 'DeliveryFailed',
      data: { error: `gave up after ${state.roundAttempts + 1} attempts: ${error}`, attempts: d.attempt, at: d.at },
    },
  ];
};

// ---------- decide ----------

export const decide = (
  command: WebhookDeliveryCommand,
  state: WebhookDeliveryState,
): E.Either<WebhookDeliveryError, WebhookDeliveryEvent[]> => {
  if (command.type === 'RequestDelivery') {
    if (state.status !== 'none') return E.left({ _tag: 'DeliveryAlreadyRequested' });
    return E.right([{ type: 'DeliveryRequested', data: command.data }]);
  }
  if (state.status === 'none') return E.left({ _tag: 'DeliveryNotFound' });
  if (command.type === 'RequestRedelivery') {
    if (state.status === 'pending') return E.left({ _tag: 'DeliveryPending' });
    return E.right([{ type: 'DeliveryRedeliveryRequested', data: { round: state.round + 1, ...command.data } }]);
  }
  if (state.status !== 'pending') return E.left({ _tag: 'DeliveryNotPending', status: state.status });
  switch (command.type) {
    case 'StartAttempt': {
      const now = Date.parse(command.data.at);
      if (state.lease !== undefined && Date.parse(state.lease.until) > now)
        return E.left({ _tag: 'AttemptInProgress', until: state.lease.until });
      if (state.nextAttemptAt !== undefined && Date.parse(state.nextAttemptAt) > now)
        return E.left({ _tag: 'AttemptNotDue', at: state.nextAttemptAt });
      return E.right([{ type: 'DeliveryAttemptStarted', data: { attempt: state.attempts + 1, ...command.data } }]);
    }
    case 'RecordDelivered':
      if (state.lease?.attempt !== command.data.attempt) return E.left({ _tag: 'NotCurrentAttempt' });
      return E.right([
        {
          type: 'DeliverySucceeded',
          data: {
            ...outcome(command.data),
            status: command.data.status,
            durationMs: outcome(command.data).durationMs ?? 0,
          },
        },
      ]);
    case 'RecordAttemptFailed':
      if (state.lease?.attempt !== command.data.attempt) return E.left({ _tag: 'NotCurrentAttempt' });
      return E.right(recordFailure(state, command.data));
    case 'FailDelivery':
      return E.right([
        {
          type: 'DeliveryFailed',
          data: {
            error: cut(command.data.error, MAX_DELIVERY_ERROR) ?? '',
            attempts: state.attempts,
            at: command.data.at,
          },
        },
      ]);
    default:
      return assertNever(command);
  }
};

// ---------- evolve ----------

export const evolve = (state: WebhookDeliveryState, event: WebhookDeliveryEvent): WebhookDeliveryState => {
  if (event.type === 'DeliveryRequested') {
    const d = event.data;
    return {
      status: 'pending',
      id: d.deliveryId,
      webhookId: d.webhookId,
      eventId: d.eventId,
      type: d.type,
      messageId: d.messageId,
      payload: d.payload,
      attempts: 0,
      roundAttempts: 0,
      round: 0,
    };
  }
  if (state.status === 'none') return state;
  const { nextAttemptAt: _next, lease: _lease, ...rest } = state;
  switch (event.type) {
    case 'DeliveryAttemptStarted':
      return {
        ...rest,
        attempts: event.data.attempt,
        lease: { attempt: event.data.attempt, until: event.data.leaseUntil },
      };
    case 'DeliverySucceeded': {
      const { lastError: _error, ...done } = rest;
      return { ...done, status: 'delivered', roundAttempts: state.roundAttempts + 1 };
    }
    case 'DeliveryAttemptFailed':
      return {
        ...rest,
        roundAttempts: state.roundAttempts + 1,
        lastError: event.data.error,
        ...(event.data.nextAttemptAt !== undefined ? { nextAttemptAt: event.data.nextAttemptAt } : {}),
      };
    case 'DeliveryFailed':
      return { ...rest, status: 'failed', lastError: event.data.error };
    case 'DeliveryRedeliveryRequested':
      return { ...rest, status: 'pending', round: event.data.round, roundAttempts: 0 };
    default:
      return assertNever(event);
  }
};

export const webhookDeliveryStreamPrefix = 'webhook-delivery-';
export const webhookDeliveryStreamName = (deliveryId: string): string => `${webhookDeliveryStreamPrefix}${deliveryId}`;

export const webhookDeliveryDecider: Decider<
  WebhookDeliveryCommand,
  WebhookDeliveryEvent,
  WebhookDeliveryState,
  WebhookDeliveryError
> = { decide, evolve, initialState };
