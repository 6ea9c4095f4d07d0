import { randomBytes } from 'node:crypto';
import type { Executor } from '../execute.ts';
import type { EventStore } from '../ports/event-store.ts';
import type { Log } from '../ports/logger.ts';
import type { Mailer } from '../ports/mailer.ts';
import type { CheckpointStore } from '../ports/notifications.ts';
import type { MeetingQueries } from '../ports/read-models.ts';
import type { TargetPolicy, WebhookQueries, WebhookTransport } from '../ports/webhooks.ts';
import type { FollowerStatus } from '../log-follower.ts';
import { AlertSender } from './alerts.ts';
import { WebhookReaction } from './reaction.ts';
import { WebhookSender, defaultWebhookPolicy } from './sender.ts';
import type { WebhookPolicy } from './sender.ts';
import { createWebhookService } from './service.ts';
import type { WebhookService } from './service.ts';

export interface WebhookModuleDeps {
  readonly store: EventStore;
  readonly executor: Pick<Executor, 'execute' | 'load'>;
  readonly readModels: Pick<MeetingQueries, 'getMeeting' | 'listPeople'>;
  readonly queries: WebhookQueries;
  readonly checkpoints: CheckpointStore;
  readonly projections: { waitFor(position: number | undefined, timeoutMs?: number): Promise<void> };
  readonly transport: WebhookTransport;
  readonly targets: TargetPolicy;
  readonly mailer: Mailer;
  readonly mail: { readonly from: string; readonly siteName: string };
  readonly clock: () => Date;
  readonly newId: () => string;
  readonly log: Log;
  readonly policy?: Partial<WebhookPolicy>;
}

export interface WebhookModule {
  readonly service: WebhookService;
  readonly reaction: WebhookReaction;
  readonly sender: WebhookSender;
  readonly policy: WebhookPolicy;
  start(): void;
  status(): Promise<FollowerStatus>;
  readonly healthy: boolean;
  stop(): Promise<void>;
}

const CATCH_UP_TIMEOUT_MS = 120_000;

/** A Standard Webhooks secret: `whsec_` and 24 random bytes in base64. */
export const newWebhookSecret = (): string => `whsec_${randomBytes(24).toString('base64')}`;

export const createWebhookModule = (deps: WebhookModuleDeps): WebhookModule => {
  const policy: WebhookPolicy = { ...defaultWebhookPolicy, ...deps.policy };
  const waitFor = (position: number | undefined) => deps.projections.waitFor(position, CATCH_UP_TIMEOUT_MS);
  const sender = new WebhookSender({
    store: deps.store,
    queries: deps.queries,
    transport: deps.transport,
    waitFor,
    clock: deps.clock,
    newId: deps.newId,
    log: deps.log,
    policy,
  });
  const schedule = (id: string, webhookId: string, at?: string) => sender.schedule(id, webhookId, at);
  const alerts = new AlertSender({
    store: deps.store,
    mailer: deps.mailer,
    mail: deps.mail,
    readModels: deps.readModels,
    queries: deps.queries,
    retryDelaysMs: policy.alertRetryDelaysMs,
    clock: deps.clock,
    newId: deps.newId,
    log: deps.log,
  });
  const disabledForFailing = (eventId: string, webhookId: string, detail: string) =>
    alerts.claim(eventId, webhookId, detail);

  const reaction = new WebhookReaction({
    store: deps.store,
    checkpoints: deps.checkpoints,
    // It reads the endpoints, the meetings and the people: it is handed only events they include.
    dependsOn: { waitFor },
    queries: deps.queries,
    horizonMs: policy.replayHorizonMs,
    participants: (meetingId) => deps.readModels.getMeeting(meetingId),
    schedule,
    disabledForFailing,
    clock: deps.clock,
    newId: deps.newId,
    log: deps.log,
  });
  const service = createWebhookService({
    executor: deps.executor,
    queries: deps.queries,
    policy: deps.targets,
    waitForProjections: waitFor,
    schedule,
    clock: deps.clock,
    newId: deps.newId,
    newSecret: newWebhookSecret,
    secretOverlapMs: policy.secretOverlapMs,
  });

  const resume = async () => {
    try {
      await waitFor(await deps.store.headPosition());
    } catch (error) {
      deps.log.warn({ err: error }, 'read models not caught up; resuming the pending webhook deliveries they show');
    }
    const pending = deps.queries.pendingDeliveries();
    if (pending.length > 0) deps.log.info({ count: pending.length }, 'resuming pending webhook deliveries');
    for (const delivery of pending) schedule(delivery.id, delivery.webhookId, delivery.nextAttemptAt);
    const alerting = deps.queries.pendingAlerts();
    if (alerting.length > 0) deps.log.info({ count: alerting.length }, 'resuming pending webhook-disabled emails');
    for (const alert of alerting) alerts.schedule(alert.id, alert.nextAttemptAt);
  };

  return {
    service,
    reaction,
    sender,
    policy,
    start: () => {
      reaction.start();
      resume().catch((error: unknown) => deps.log.error({ err: error }, 'cannot resume pending webhook deliveries'));
    },
    status: () => reaction.status(),
    get healthy() {
      return reaction.healthy;
    },
    stop: async () => {
      await reaction.stop();
      await sender.stop();
      await alerts.stop();
    },
  };
};
