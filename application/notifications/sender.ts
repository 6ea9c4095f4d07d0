import * as E from 'fp-ts/lib/Either.js';
import type { NotificationCommand } from '../../domain/notification.ts';
import { notifications } from '../aggregates.ts';
import { createRecorder } from '../execute.ts';
import type { Recorder } from '../execute.ts';
import { topicHandler } from './topics.ts';
import type { NoticeTopics } from './topics.ts';
import { joinLinksOf, withJoinLinks } from './join-links.ts';
import type { EmailJoinLinks } from './join-links.ts';
import type { EventStore } from '../ports/event-store.ts';
import type { MailError, MailSent, Mailer } from '../ports/mailer.ts';
import type { Log } from '../ports/logger.ts';

export interface RetryPolicy {
  /** Upper bound of the first retry's delay; doubles (times `factor`) per attempt, capped at `maxDelayMs`. */
  readonly baseDelayMs: number;
  readonly factor: number;
  readonly maxDelayMs: number;
  /** Attempts per round (the first send plus retries) before the notification is failed. */
  readonly maxAttempts: number;
  /** A send that has not answered by then counts as a retryable failure. */
  readonly sendTimeoutMs: number;
  /** Sends in flight at once. */
  readonly concurrency: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  baseDelayMs: 2_000,
  factor: 2,
  maxDelayMs: 5 * 60_000,
  maxAttempts: 6,
  sendTimeoutMs: 15_000,
  concurrency: 4,
};

/** Exponential backoff with full jitter: uniformly random in [0, min(cap, base * factor^(n-1))]. */
export const backoffDelayMs = (
  attemptInRound: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number => {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * policy.factor ** Math.max(0, attemptInRound - 1));
  return Math.round(random() * ceiling);
};

export interface SenderDeps {
  readonly store: EventStore;
  /** What each topic says is still current before an attempt. */
  readonly topics: NoticeTopics;
  readonly mailer: Mailer;
  readonly clock: () => Date;
  readonly newId: () => string;
  readonly log: Log;
  readonly policy: RetryPolicy;
  readonly random?: () => number;
  /** Signs the recipient's own join links, added to the email as it is sent (join-links.ts). */
  readonly joinLinks?: Pick<EmailJoinLinks, 'linkFrom'>;
}

/**
 * The notification id while the first email is tried; an admin retry renders the email anew (the address or the
 * template may have changed), and the provider refuses a known key with another body, so each round has its own.
 */
export const idempotencyKeyOf = (notificationId: string, round: number): string =>
  round === 0 ? notificationId : `${notificationId}.r${round}`;

const TIMED_OUT = Symbol('timed out');
const UNEXPECTED_RETRY_MS = 5_000;

/**
 * Sends pending notifications off the command path, a few at a time, and records each outcome in the
 * notification's stream. Every attempt sends the round's stored email with the notification id as idempotency key,
 * so a resend after a crash between "sent" and "recorded" is answered by the provider without a second email.
 */
export class NotificationSender {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly active = new Map<string, AbortController>();
  private readonly running = new Set<Promise<void>>();
  /** Asked for again while an attempt was running (a retry due at once): run once more when it finishes. */
  private readonly again = new Set<string>();
  private stopped = false;

  /** The sender's writes answer no request: recorded, neither refused nor waited for. */
  private readonly commands: Recorder;

  constructor(private readonly deps: SenderDeps) {
    this.commands = createRecorder(deps);
  }

  /** Sends the notification now, or at `at` (ISO) if that is later. Repeated calls for one id are merged. */
  schedule(notificationId: string, at?: string): void {
    if (this.stopped) return;
    const delay = at === undefined ? 0 : Date.parse(at) - this.deps.clock().getTime();
    const existing = this.timers.get(notificationId);
    if (existing !== undefined) {
      clearTimeout(existing);
      this.timers.delete(notificationId);
    }
    if (!(delay > 0)) {
      this.enqueue(notificationId);
      return;
    }
    const timer = setTimeout(
      () => {
        this.timers.delete(notificationId);
        this.enqueue(notificationId);
      },
      Math.min(delay, 2_147_483_647),
    );
    timer.unref();
    this.timers.set(notificationId, timer);
  }

  get scheduledCount(): number {
    return this.timers.size + this.queue.length + this.active.size;
  }

  private enqueue(notificationId: string): void {
    if (this.stopped || this.queued.has(notificationId)) return;
    if (this.active.has(notificationId)) {
      this.again.add(notificationId);
      return;
    }
    this.queued.add(notificationId);
    this.queue.push(notificationId);
    this.pump();
  }

  private pump(): void {
    while (!this.stopped && this.active.size < Math.max(1, this.deps.policy.concurrency)) {
      const id = this.queue.shift();
      if (id === undefined) return;
      this.queued.delete(id);
      const controller = new AbortController();
      this.active.set(id, controller);
      const run = this.attempt(id, controller)
        .catch((error: unknown) => {
          // A store that did not answer (KurrentDB reconnecting, a locked file): try again later, not never.
          this.deps.log.error(
            { err: error, notificationId: id },
            'notification attempt failed unexpectedly; trying again later',
          );
          if (!this.stopped)
            this.schedule(id, new Date(this.deps.clock().getTime() + UNEXPECTED_RETRY_MS).toISOString());
        })
        .finally(() => {
          this.active.delete(id);
          this.running.delete(run);
          if (this.again.delete(id)) this.enqueue(id);
          this.pump();
        });
      this.running.add(run);
    }
  }

  private async record(notificationId: string, command: NotificationCommand): Promise<void> {
    const result = await this.commands.record(notifications, notificationId, command, { maxRetries: 3 });
    if (E.isLeft(result)) {
      // Another node recorded first, or the admin moved it on: nothing left to do here.
      this.deps.log.debug({ notificationId, error: result.left }, `notification ${command.type} not recorded`);
      return;
    }
    const state = result.right.state;
    if (state.status === 'pending' && state.nextAttemptAt !== undefined)
      this.schedule(notificationId, state.nextAttemptAt);
  }

  private async attempt(notificationId: string, controller: AbortController): Promise<void> {
    const { clock, log, policy } = this.deps;
    const loaded = await this.commands.load(notifications, notificationId);
    if (E.isLeft(loaded)) {
      log.error({ notificationId, error: loaded.left.message }, 'notification cannot be read');
      return;
    }
    const state = loaded.right.state;
    if (state.status !== 'pending' || state.message === undefined || this.stopped) return;
    const now = clock();
    if (state.nextAttemptAt !== undefined && Date.parse(state.nextAttemptAt) > now.getTime()) {
      this.schedule(notificationId, state.nextAttemptAt);
      return;
    }
    if (state.endsAt !== undefined && Date.parse(state.endsAt) <= now.getTime()) {
      await this.record(notificationId, { type: 'SkipEndedNotification', data: { at: now.toISOString() } });
      return;
    }
    // A retry may come after the sessions changed again (a cancellation reinstated, a booking cancelled): then the
    // email (and its calendar object) must not go out. A topic without a handler is never sent blind.
    const handler = topicHandler(this.deps.topics, state.topic);
    if (E.isLeft(handler)) throw new Error(handler.left);
    const still = await handler.right.current(state);
    if (E.isRight(still) && !state.announced.some((id) => still.right.includes(id))) {
      await this.record(notificationId, { type: 'SkipSupersededNotification', data: { at: now.toISOString() } });
      return;
    }
    const attempt = state.attempts + 1;
    const { joinLinks: facts, ...message } = state.message;
    const links =
      facts === undefined || this.deps.joinLinks === undefined
        ? []
        : joinLinksOf(this.deps.joinLinks, state.recipient, state.cancellation, state.announced, facts);
    const sent = await this.sendWithTimeout(
      {
        ...message,
        ...withJoinLinks(message, links, facts?.language),
        idempotencyKey: idempotencyKeyOf(notificationId, state.round),
      },
      controller,
    );
    if (sent === TIMED_OUT || E.isLeft(sent)) {
      // Stopping aborts sends in flight; the notification stays pending and is resumed at the next start.
      if (this.stopped) return;
      const error: MailError =
        sent === TIMED_OUT
          ? { retryable: true, message: `no answer from the mail provider within ${policy.sendTimeoutMs} ms` }
          : sent.left;
      const at = clock();
      const delay = backoffDelayMs(state.roundAttempts + 1, policy, this.deps.random);
      log.warn(
        { notificationId, attempt, error: error.message, status: error.status, retryable: error.retryable },
        'notification email not sent',
      );
      await this.record(notificationId, {
        type: 'RecordAttemptFailed',
        data: {
          attempt,
          error: error.message,
          retryable: error.retryable,
          ...(error.status !== undefined ? { status: error.status } : {}),
          nextAttemptAt: new Date(at.getTime() + delay).toISOString(),
          maxAttempts: policy.maxAttempts,
          at: at.toISOString(),
        },
      });
      return;
    }
    log.info(
      { notificationId, attempt, to: state.message.to, providerMessageId: sent.right.providerMessageId },
      'notification email sent',
    );
    await this.record(notificationId, {
      type: 'RecordSent',
      data: { attempt, providerMessageId: sent.right.providerMessageId, at: clock().toISOString() },
    });
  }

  private async sendWithTimeout(
    message: Parameters<Mailer['send']>[0],
    controller: AbortController,
  ): Promise<E.Either<MailError, MailSent> | typeof TIMED_OUT> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => {
        // Settle first: aborting makes the mailer answer too, and the race must report the timeout.
        resolve(TIMED_OUT);
        controller.abort(new Error('send timed out'));
      }, this.deps.policy.sendTimeoutMs);
    });
    try {
      return await Promise.race([this.deps.mailer.send(message, { signal: controller.signal }), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops scheduling, aborts sends in flight and waits for their bookkeeping to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.queue.length = 0;
    this.queued.clear();
    this.again.clear();
    for (const controller of this.active.values()) controller.abort(new Error('stopping'));
    await Promise.allSettled([...this.running]);
  }
}
