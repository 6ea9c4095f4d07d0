import * as E from 'fp-ts/lib/Either.js';
import { DEFAULT_RETRY_DELAYS_MS } from '../../domain/webhook-delivery.ts';
import { DEFAULT_ALERT_RETRY_DELAYS_MS } from '../../domain/webhook-alert.ts';
import type { WebhookDeliveryCommand } from '../../domain/webhook-delivery.ts';
import { SECRET_OVERLAP_MS, signingSecrets } from '../../domain/webhook.ts';
import { webhookDeliveries, webhooks } from '../aggregates.ts';
import { createRecorder } from '../execute.ts';
import type { Recorder } from '../execute.ts';
import type { EventStore } from '../ports/event-store.ts';
import type { Log } from '../ports/logger.ts';
import type { WebhookQueries, WebhookTransport } from '../ports/webhooks.ts';

export interface WebhookPolicy {
  /** Delays before each retry of a round, after a failed attempt. */
  readonly retryDelaysMs: ReadonlyArray<number>;
  /** An attempt whose receiver has not answered by then fails (and is retried). */
  readonly timeoutMs: number;
  /** Requests in flight at once, over every endpoint. */
  readonly concurrency: number;
  /** Requests in flight at once to one endpoint: a hung receiver holds at most this many of the slots. */
  readonly perEndpoint: number;
  /** An attempt's lease lasts its timeout and this much more: a node that died mid-attempt is taken over after it. */
  readonly leaseMarginMs: number;
  /** An endpoint whose deliveries failed without a success for this long is disabled (and admins are told). */
  readonly disableAfterMs: number;
  /** How long the secret a rotation replaced goes on signing beside the new one. */
  readonly secretOverlapMs: number;
  /**
   * Events recorded longer ago than this are not delivered when the reaction comes to them (a replay after a lost
   * checkpoint, a node down that long): they are past the retry window.
   */
  readonly replayHorizonMs: number;
  /** Delays between attempts at an "endpoint disabled" email; the last one repeats until it is sent. */
  readonly alertRetryDelaysMs: ReadonlyArray<number>;
}

export const defaultWebhookPolicy: WebhookPolicy = {
  retryDelaysMs: DEFAULT_RETRY_DELAYS_MS,
  timeoutMs: 10_000,
  concurrency: 16,
  perEndpoint: 2,
  leaseMarginMs: 30_000,
  disableAfterMs: 5 * 86_400_000,
  secretOverlapMs: SECRET_OVERLAP_MS,
  alertRetryDelaysMs: DEFAULT_ALERT_RETRY_DELAYS_MS,
  replayHorizonMs: 2 * 86_400_000,
};

export interface WebhookSenderDeps {
  readonly store: EventStore;
  readonly queries: Pick<WebhookQueries, 'getWebhook'>;
  readonly transport: WebhookTransport;
  /** Resolves once the read models include the event at `position`. */
  readonly waitFor: (position: number) => Promise<void>;
  readonly clock: () => Date;
  readonly newId: () => string;
  readonly log: Log;
  readonly policy: WebhookPolicy;
}

const SYSTEM = { id: 'system:webhooks', roles: [] } as const;
const UNEXPECTED_RETRY_MS = 5_000;

/**
 * Makes pending deliveries off the command path, a few at a time. Each endpoint has its own queue, and the queues are
 * served in turn (round robin) with at most `perEndpoint` requests in flight to one endpoint, so a hung or slow
 * receiver holds only its own slots and the others' deliveries go on promptly. Each attempt is first announced in the
 * delivery's stream with a lease (so no other node sends it meanwhile), then sent with the endpoint's current
 * secrets, and its outcome recorded; a failure schedules the next attempt by the retry schedule, and an endpoint
 * failing for too long is disabled.
 */
export class WebhookSender {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Per endpoint, its deliveries waiting for a slot, oldest first. */
  private readonly queues = new Map<string, string[]>();
  /** Endpoints with waiting deliveries, in the order they are served next. */
  private readonly turn: string[] = [];
  private readonly queued = new Set<string>();
  private readonly active = new Map<string, AbortController>();
  /** Requests in flight per endpoint. */
  private readonly busy = new Map<string, number>();
  private readonly running = new Set<Promise<void>>();
  private readonly again = new Map<string, string>();
  private stopped = false;
  private readonly commands: Recorder;

  constructor(private readonly deps: WebhookSenderDeps) {
    this.commands = createRecorder(deps);
  }

  /** Delivers now, or at `at` (ISO) if that is later, in `webhookId`'s queue. Repeated calls for one id are merged. */
  schedule(deliveryId: string, webhookId: string, at?: string): void {
    if (this.stopped) return;
    const delay = at === undefined ? 0 : Date.parse(at) - this.deps.clock().getTime();
    const existing = this.timers.get(deliveryId);
    if (existing !== undefined) clearTimeout(existing);
    this.timers.delete(deliveryId);
    if (!(delay > 0)) {
      this.enqueue(deliveryId, webhookId);
      return;
    }
    const timer = setTimeout(
      () => {
        this.timers.delete(deliveryId);
        this.enqueue(deliveryId, webhookId);
      },
      Math.min(delay, 2_147_483_647),
    );
    timer.unref();
    this.timers.set(deliveryId, timer);
  }

  /** Deliveries waiting for a slot, and requests in flight, to one endpoint (for tests and logs). */
  load(webhookId: string): { readonly waiting: number; readonly inFlight: number } {
    return { waiting: this.queues.get(webhookId)?.length ?? 0, inFlight: this.busy.get(webhookId) ?? 0 };
  }

  private enqueue(deliveryId: string, webhookId: string): void {
    if (this.stopped || this.queued.has(deliveryId)) return;
    if (this.active.has(deliveryId)) {
      this.again.set(deliveryId, webhookId);
      return;
    }
    this.queued.add(deliveryId);
    const queue = this.queues.get(webhookId);
    if (queue === undefined) {
      this.queues.set(webhookId, [deliveryId]);
      this.turn.push(webhookId);
    } else queue.push(deliveryId);
    this.pump();
  }

  /** The next endpoint in turn with a delivery waiting and a slot free; it goes to the back of the turn. */
  private nextEndpoint(): string | undefined {
    const limit = Math.max(1, this.deps.policy.perEndpoint);
    for (let i = 0; i < this.turn.length; i++) {
      const webhookId = this.turn[i]!;
      if ((this.busy.get(webhookId) ?? 0) >= limit) continue;
      this.turn.splice(i, 1);
      const queue = this.queues.get(webhookId)!;
      if (queue.length > 1) this.turn.push(webhookId);
      return webhookId;
    }
    return undefined;
  }

  private pump(): void {
    while (!this.stopped && this.active.size < Math.max(1, this.deps.policy.concurrency)) {
      const webhookId = this.nextEndpoint();
      if (webhookId === undefined) return;
      const queue = this.queues.get(webhookId)!;
      const id = queue.shift()!;
      if (queue.length === 0) this.queues.delete(webhookId);
      this.queued.delete(id);
      this.run(id, webhookId);
    }
  }

  private run(id: string, webhookId: string): void {
    const controller = new AbortController();
    this.active.set(id, controller);
    this.busy.set(webhookId, (this.busy.get(webhookId) ?? 0) + 1);
    const run = this.attempt(id, controller)
      .catch((error: unknown) => {
        this.deps.log.error({ err: error, deliveryId: id }, 'webhook attempt failed unexpectedly; trying again later');
        if (!this.stopped)
          this.schedule(id, webhookId, new Date(this.deps.clock().getTime() + UNEXPECTED_RETRY_MS).toISOString());
      })
      .finally(() => {
        this.active.delete(id);
        const left = (this.busy.get(webhookId) ?? 1) - 1;
        if (left > 0) this.busy.set(webhookId, left);
        else this.busy.delete(webhookId);
        this.running.delete(run);
        const again = this.again.get(id);
        if (again !== undefined) {
          this.again.delete(id);
          this.enqueue(id, again);
        }
        this.pump();
      });
    this.running.add(run);
  }

  private async record(deliveryId: string, command: WebhookDeliveryCommand) {
    const result = await this.commands.record(webhookDeliveries, deliveryId, command, { maxRetries: 3 });
    if (E.isLeft(result)) {
      this.deps.log.debug({ deliveryId, error: result.left }, `webhook delivery ${command.type} not recorded`);
      return undefined;
    }
    const state = result.right.state;
    if (state.status === 'pending' && state.nextAttemptAt !== undefined)
      this.schedule(deliveryId, state.webhookId, state.nextAttemptAt);
    return result.right;
  }

  /** Claims the next attempt with a lease; undefined when it is not to be made now (and it is rescheduled if due later). */
  private async start(deliveryId: string, webhookId: string): Promise<number | undefined> {
    const { clock, policy } = this.deps;
    const now = clock();
    const leaseUntil = new Date(now.getTime() + policy.timeoutMs + policy.leaseMarginMs).toISOString();
    const started = await this.commands.record(
      webhookDeliveries,
      deliveryId,
      { type: 'StartAttempt', data: { leaseUntil, at: now.toISOString() } },
      { maxRetries: 3 },
    );
    if (E.isRight(started)) {
      const state = started.right.state;
      return state.status === 'pending' ? state.lease?.attempt : undefined;
    }
    const error = started.left;
    if (error._tag === 'AttemptInProgress') this.schedule(deliveryId, webhookId, error.until);
    else if (error._tag === 'AttemptNotDue') this.schedule(deliveryId, webhookId, error.at);
    else this.deps.log.debug({ deliveryId, error }, 'webhook attempt not started');
    return undefined;
  }

  private async attempt(deliveryId: string, controller: AbortController): Promise<void> {
    const { clock, log, policy } = this.deps;
    const loaded = await this.commands.load(webhookDeliveries, deliveryId);
    if (E.isLeft(loaded)) throw new Error(loaded.left.message);
    const delivery = loaded.right.state;
    if (delivery.status !== 'pending' || this.stopped) return;
    const endpoint = await this.commands.load(webhooks, delivery.webhookId);
    if (E.isLeft(endpoint)) throw new Error(endpoint.left.message);
    const webhook = endpoint.right.state;
    if (webhook.status !== 'enabled') {
      const why = webhook.status === 'disabled' ? 'the endpoint is disabled' : 'the endpoint was deleted';
      await this.record(deliveryId, { type: 'FailDelivery', data: { error: why, at: clock().toISOString() } });
      return;
    }
    const attempt = await this.start(deliveryId, delivery.webhookId);
    if (attempt === undefined || this.stopped) return;
    const sentAt = clock();
    const result = await this.deps.transport.deliver({
      url: webhook.url,
      messageId: delivery.messageId,
      timestamp: sentAt,
      body: delivery.payload,
      secrets: signingSecrets(webhook, sentAt),
      timeoutMs: policy.timeoutMs,
      signal: controller.signal,
    });
    // Stopping aborts requests in flight: the lease runs out and the next start takes the delivery up again.
    if (this.stopped) return;
    const at = clock();
    const durationMs = at.getTime() - sentAt.getTime();
    if (E.isRight(result)) {
      log.info(
        { deliveryId, webhookId: delivery.webhookId, attempt, status: result.right.status },
        'webhook delivered',
      );
      await this.record(deliveryId, {
        type: 'RecordDelivered',
        data: {
          attempt,
          status: result.right.status,
          response: result.right.response,
          durationMs,
          at: at.toISOString(),
        },
      });
      return;
    }
    const failure = result.left;
    log.warn(
      { deliveryId, webhookId: delivery.webhookId, attempt, status: failure.status, error: failure.error },
      'webhook not delivered',
    );
    const recorded = await this.record(deliveryId, {
      type: 'RecordAttemptFailed',
      data: {
        attempt,
        error: failure.error,
        ...(failure.status !== undefined ? { status: failure.status } : {}),
        ...(failure.response !== undefined ? { response: failure.response } : {}),
        durationMs,
        retryDelaysMs: policy.retryDelaysMs,
        at: at.toISOString(),
      },
    });
    if (recorded?.position !== undefined) await this.disableIfFailing(delivery.webhookId, recorded.position);
  }

  /** The endpoint's deliveries have failed without a success for longer than allowed: it is disabled. */
  private async disableIfFailing(webhookId: string, position: number): Promise<void> {
    const { clock, policy, log } = this.deps;
    await this.deps.waitFor(position);
    const view = this.deps.queries.getWebhook(webhookId);
    if (view === undefined || view.status !== 'enabled' || view.failingSince === undefined) return;
    const now = clock();
    if (now.getTime() - Date.parse(view.failingSince) < policy.disableAfterMs) return;
    const hours = Math.round((now.getTime() - Date.parse(view.failingSince)) / 3600_000);
    const detail = `every delivery failed since ${view.failingSince} (${hours} h without a success)`;
    const result = await this.commands.record(
      webhooks,
      webhookId,
      {
        type: 'DisableFailingWebhook',
        data: { failingSince: view.failingSince, detail, at: now.toISOString(), by: SYSTEM },
      },
      { maxRetries: 3 },
    );
    if (E.isRight(result) && result.right.position !== undefined)
      log.warn({ webhookId, failingSince: view.failingSince }, 'webhook endpoint disabled: it kept failing');
  }

  /** Stops scheduling, aborts requests in flight and waits for their bookkeeping. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.queues.clear();
    this.turn.length = 0;
    this.queued.clear();
    this.again.clear();
    for (const controller of this.active.values()) controller.abort(new Error('stopping'));
    await Promise.allSettled([...this.running]);
  }
}
