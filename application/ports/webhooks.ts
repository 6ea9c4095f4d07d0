import type { Either } from 'fp-ts/lib/Either.js';
import type { DisabledReason } from '../../domain/webhook.ts';
import type { DeliveryStatus } from '../../domain/webhook-delivery.ts';

/** An endpoint as admins see it: never its secret. */
export interface WebhookView {
  readonly id: string;
  readonly url: string;
  readonly events: ReadonlyArray<string>;
  readonly description?: string;
  readonly status: 'enabled' | 'disabled';
  readonly disabledReason?: DisabledReason;
  readonly disabledDetail?: string;
  readonly disabledAt?: string;
  /** Since when every attempt failed, while none has succeeded since. */
  readonly failingSince?: string;
  readonly secretRotatedAt?: string;
  /** Until when the secret the last rotation replaced still signs deliveries. */
  readonly previousSecretValidUntil?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly revision: number;
}

/** An endpoint as the webhook reaction needs it: what it took at a place in the log. */
export interface WebhookSubscriber {
  readonly id: string;
  readonly events: ReadonlyArray<string>;
}

export interface DeliveryAttemptView {
  readonly attempt: number;
  readonly at: string;
  readonly ok: boolean;
  readonly status?: number;
  readonly error?: string;
  /** The start of the receiver's answer. */
  readonly response?: string;
  readonly durationMs?: number;
}

export interface DeliveryView {
  readonly id: string;
  readonly webhookId: string;
  readonly eventId: string;
  readonly type: string;
  /** The `webhook-id` header: the same on every attempt. */
  readonly messageId: string;
  readonly status: DeliveryStatus;
  readonly payload: unknown;
  readonly attempts: ReadonlyArray<DeliveryAttemptView>;
  readonly attemptCount: number;
  readonly round: number;
  readonly nextAttemptAt?: string;
  readonly lastError?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly deliveredAt?: string;
  /** Its place in the log: the order of the delivery log, newest first. */
  readonly position: number;
}

export interface DeliveryFilter {
  readonly webhookId: string;
  readonly status?: DeliveryStatus;
  /** Only deliveries requested before this log position (the previous page's last). */
  readonly before?: number;
  readonly limit: number;
}

export interface WebhookQueries {
  getWebhook(id: string): WebhookView | undefined;
  /** Every endpoint that is not deleted, oldest first. */
  listWebhooks(): ReadonlyArray<WebhookView>;
  /**
   * For the reaction: the endpoints (not deleted since) that were registered before `position`, enabled at it, with
   * the event types they took at it.
   */
  subscribersAt(position: number): ReadonlyArray<WebhookSubscriber>;
  getDelivery(id: string): DeliveryView | undefined;
  /** Newest first. */
  listDeliveries(filter: DeliveryFilter): ReadonlyArray<DeliveryView>;
  /** Every admin alert (endpoint disabled) still to be emailed. */
  pendingAlerts(): ReadonlyArray<{ readonly id: string; readonly nextAttemptAt?: string }>;
  /** Every delivery still to be made, oldest first. */
  pendingDeliveries(): ReadonlyArray<{
    readonly id: string;
    readonly webhookId: string;
    readonly nextAttemptAt?: string;
  }>;
}

/** One signed request to an endpoint. */
export interface WebhookRequest {
  readonly url: string;
  readonly messageId: string;
  /** `webhook-timestamp`: when this attempt is made. */
  readonly timestamp: Date;
  readonly body: string;
  /** Each one signs the request; the header carries every signature. */
  readonly secrets: ReadonlyArray<string>;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

export interface WebhookResponse {
  readonly status: number;
  readonly response: string;
}

export interface WebhookFailure {
  readonly error: string;
  readonly status?: number;
  readonly response?: string;
}

/** Sends webhook requests: checks the target (at delivery time), signs, posts, reads a bounded answer. */
export interface WebhookTransport {
  /** Right: the receiver answered 2xx. Left: anything else, with why. */
  deliver(request: WebhookRequest): Promise<Either<WebhookFailure, WebhookResponse>>;
}

/** Which addresses endpoints may have, as far as the URL alone says (hosts are checked again at delivery time). */
export interface TargetPolicy {
  /** Why the URL is refused, or undefined. */
  refuse(url: string): string | undefined;
}
