import { randomBytes } from 'node:crypto';
import { escapeHtml } from '../../domain/template.ts';
import type { Executor } from '../execute.ts';
import type { EventStore } from '../ports/event-store.ts';
import type { Log } from '../ports/logger.ts';
import type { Mailer } from '../ports/mailer.ts';
import type { CheckpointStore } from '../ports/notifications.ts';
import type { MeetingQueries, PeopleCursor, PersonView } from '../ports/read-models.ts';
import type { TargetPolicy, WebhookQueries, WebhookTransport } from '../ports/webhooks.ts';
import type { FollowerStatus } from '../log-follower.ts';
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
const MAIL_ATTEMPTS = 5;
const MAIL_RETRY_MS = 2_000;

/** A Standard Webhooks secret: `whsec_` and 24 random bytes in base64. */
export const newWebhookSecret = (): string => `whsec_${randomBytes(24).toString('base64')}`;

/** Every active admin in the people directory, page by page. */
const activeAdmins = (readModels: Pick<MeetingQueries, 'listPeople'>): PersonView[] => {
  const admins: PersonView[] = [];
  let after: PeopleCursor | undefined;
  do {
    const page = readModels.listPeople({
      role: 'admin',
      active: true,
      limit: 200,
      ...(after !== undefined ? { after } : {}),
    });
    admins.push(...page.items);
    after = page.items.length > 0 ? page.next : undefined;
  } while (after !== undefined);
  return admins;
};

const disabledEmail = (siteName: string, url: string, detail: string) => {
  const subject = `${siteName}: a webhook endpoint was disabled`;
  const lines = [
    `The webhook endpoint ${url} was disabled: ${detail}.`,
    'No more events are sent to it. Fix the receiver, then enable the endpoint again (PATCH /webhooks/{id} with {"enabled": true}) and send the failed deliveries again from its delivery log.',
  ];
  return {
    subject,
    text: `${lines.join('\n\n')}\n`,
    html: `<!doctype html><html><body>${lines.map((l) => `<p>${escapeHtml(l)}</p>`).join('')}</body></html>`,
  };
};

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
  const schedule = (id: string, at?: string) => sender.schedule(id, at);
  const mails = new Set<Promise<void>>();
  let stopped = false;

  /** One email per admin, with a key per event and admin, so a replay or a retry never sends it twice. */
  const mailAdmin = async (eventId: string, admin: PersonView, message: ReturnType<typeof disabledEmail>) => {
    for (let attempt = 1; attempt <= MAIL_ATTEMPTS && !stopped; attempt++) {
      const sent = await deps.mailer.send({
        idempotencyKey: `webhook-disabled.${eventId}.${admin.id}`,
        from: deps.mail.from,
        to: admin.email,
        ...message,
        attachments: [],
      });
      if (sent._tag === 'Right') return;
      deps.log.warn({ eventId, admin: admin.id, error: sent.left.message, attempt }, 'webhook-disabled email not sent');
      if (!sent.left.retryable) return;
      await new Promise((resolve) => setTimeout(resolve, MAIL_RETRY_MS * attempt).unref());
    }
  };
  const disabledForFailing = (eventId: string, webhookId: string, detail: string) => {
    const url = deps.queries.getWebhook(webhookId)?.url ?? webhookId;
    const message = disabledEmail(deps.mail.siteName, url, detail);
    for (const admin of activeAdmins(deps.readModels)) {
      const mail = mailAdmin(eventId, admin, message)
        .catch((error: unknown) => deps.log.error({ err: error, eventId }, 'webhook-disabled email failed'))
        .finally(() => mails.delete(mail));
      mails.add(mail);
    }
  };

  const reaction = new WebhookReaction({
    store: deps.store,
    checkpoints: deps.checkpoints,
    // It reads the endpoints, the meetings and the people: it is handed only events they include.
    dependsOn: { waitFor },
    queries: deps.queries,
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
    for (const delivery of pending) schedule(delivery.id, delivery.nextAttemptAt);
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
      stopped = true;
      await reaction.stop();
      await sender.stop();
      await Promise.allSettled([...mails]);
    },
  };
};
