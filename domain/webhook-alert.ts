import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { eventTypesOf } from './decider.ts';
import type { Decider } from './decider.ts';
import { IsoInstant, assertNever } from './shared.ts';

/**
 * One email to one admin saying that a webhook endpoint was disabled because it kept failing: one stream per
 * (disabling event, admin), claimed with its first append (`no_stream`), so a replay, a restart or a second node never
 * makes a second alert. Its sender retries a provider that is down for as long as it takes (the last delay repeats),
 * every attempt with the same idempotency key, so the admin gets exactly one email; only a refusal that no retry can
 * change (a bad address) ends it unsent.
 */

export const MAX_ALERT_ERROR = 500;

/**
 * Delays before each retry of an alert after a failed attempt; the last one repeats until it is sent.
 */
export const DEFAULT_ALERT_RETRY_DELAYS_MS: ReadonlyArray<number> = [
  5_000,
  30_000,
  2 * 60_000,
  10 * 60_000,
  30 * 60_000,
];

export const AlertStatus = t.keyof({ pending: null, sent: null, abandoned: null });
export type AlertStatus = t.TypeOf<typeof AlertStatus>;

// ---------- events ----------

export const WebhookAlertRequested = t.type({
  type: t.literal('WebhookAlertRequested'),
  data: t.type({
    alertId: t.string,
    webhookId: t.string,
    /** The `WebhookDisabled` event it tells about. */
    disableEventId: t.string,
    adminId: t.string,
    email: t.string,
    url: t.string,
    detail: t.string,
    at: IsoInstant,
  }),
});

export const WebhookAlertAttemptFailed = t.type({
  type: t.literal('WebhookAlertAttemptFailed'),
  data: t.intersection([
    t.type({ attempt: t.number, error: t.string, at: IsoInstant }),
    t.partial({ nextAttemptAt: IsoInstant }),
  ]),
});

export const WebhookAlertSent = t.type({
  type: t.literal('WebhookAlertSent'),
  data: t.type({ attempt: t.number, providerMessageId: t.string, at: IsoInstant }),
});

export const WebhookAlertEvent = t.union([WebhookAlertRequested, WebhookAlertAttemptFailed, WebhookAlertSent]);
export type WebhookAlertEvent = t.TypeOf<typeof WebhookAlertEvent>;
export const webhookAlertEventTypes = eventTypesOf(WebhookAlertEvent);

// ---------- commands ----------

export type WebhookAlertCommand =
  | { readonly type: 'RequestAlert'; readonly data: t.TypeOf<typeof WebhookAlertRequested>['data'] }
  | {
      readonly type: 'RecordAlertSent';
      readonly data: { readonly providerMessageId: string; readonly at: string };
    }
  | {
      readonly type: 'RecordAlertFailed';
      /** `retryable: false`: a refusal no retry changes; the alert ends unsent. */
      readonly data: {
        readonly error: string;
        readonly retryable: boolean;
        readonly retryDelaysMs: ReadonlyArray<number>;
        readonly at: string;
      };
    };

// ---------- state ----------

export interface WebhookAlert {
  readonly status: AlertStatus;
  readonly alertId: string;
  readonly webhookId: string;
  readonly disableEventId: string;
  readonly adminId: string;
  readonly email: string;
  readonly url: string;
  readonly detail: string;
  readonly attempts: number;
  readonly nextAttemptAt?: string;
}

export type WebhookAlertState = { readonly status: 'none' } | WebhookAlert;

export const initialState = (): WebhookAlertState => ({ status: 'none' });

export type WebhookAlertError =
  | { readonly _tag: 'AlertAlreadyRequested' }
  | { readonly _tag: 'AlertNotFound' }
  | { readonly _tag: 'AlertNotPending' };

/** The delay before the retry after `attempts` failed attempts: the schedule's, its last one repeating. */
export const alertRetryDelay = (delays: ReadonlyArray<number>, attempts: number): number =>
  delays.length === 0 ? 60_000 : delays[Math.min(Math.max(0, attempts - 1), delays.length - 1)]!;

// ---------- decide ----------

export const decide = (
  command: WebhookAlertCommand,
  state: WebhookAlertState,
): E.Either<WebhookAlertError, WebhookAlertEvent[]> => {
  if (command.type === 'RequestAlert')
    return state.status === 'none'
      ? E.right([{ type: 'WebhookAlertRequested', data: command.data }])
      : E.left({ _tag: 'AlertAlreadyRequested' });
  if (state.status === 'none') return E.left({ _tag: 'AlertNotFound' });
  if (state.status !== 'pending') return E.left({ _tag: 'AlertNotPending' });
  const attempt = state.attempts + 1;
  switch (command.type) {
    case 'RecordAlertSent':
      return E.right([{ type: 'WebhookAlertSent', data: { attempt, ...command.data } }]);
    case 'RecordAlertFailed': {
      const { error, retryable, retryDelaysMs, at } = command.data;
      const next = retryable
        ? { nextAttemptAt: new Date(Date.parse(at) + alertRetryDelay(retryDelaysMs, attempt)).toISOString() }
        : {};
      return E.right([
        { type: 'WebhookAlertAttemptFailed', data: { attempt, error: error.slice(0, MAX_ALERT_ERROR), at, ...next } },
      ]);
    }
    default:
      return assertNever(command);
  }
};

// ---------- evolve ----------

export const evolve = (state: WebhookAlertState, event: WebhookAlertEvent): WebhookAlertState => {
  if (event.type === 'WebhookAlertRequested') {
    const { at: _at, ...data } = event.data;
    return { status: 'pending', ...data, attempts: 0 };
  }
  if (state.status === 'none') return state;
  const { nextAttemptAt: _next, ...rest } = state;
  switch (event.type) {
    case 'WebhookAlertAttemptFailed':
      return event.data.nextAttemptAt === undefined
        ? { ...rest, status: 'abandoned', attempts: event.data.attempt }
        : { ...rest, attempts: event.data.attempt, nextAttemptAt: event.data.nextAttemptAt };
    case 'WebhookAlertSent':
      return { ...rest, status: 'sent', attempts: event.data.attempt };
    default:
      return assertNever(event);
  }
};

export const webhookAlertStreamPrefix = 'webhook-alert-';
export const webhookAlertStreamName = (alertId: string): string => `${webhookAlertStreamPrefix}${alertId}`;

export const webhookAlertDecider: Decider<
  WebhookAlertCommand,
  WebhookAlertEvent,
  WebhookAlertState,
  WebhookAlertError
> = { decide, evolve, initialState };
