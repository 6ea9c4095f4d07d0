import { createHash } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import { escapeHtml } from '../../domain/template.ts';
import type { WebhookAlert } from '../../domain/webhook-alert.ts';
import { webhookAlerts } from '../aggregates.ts';
import { createRecorder } from '../execute.ts';
import type { Recorder } from '../execute.ts';
import type { EventStore } from '../ports/event-store.ts';
import type { Log } from '../ports/logger.ts';
import type { Mailer } from '../ports/mailer.ts';
import type { MeetingQueries, PeopleCursor, PersonView } from '../ports/read-models.ts';
import type { WebhookQueries } from '../ports/webhooks.ts';

/**
 * The "endpoint disabled" emails to admins, exactly once each: the reaction claims one alert per (disabling event,
 * admin) before it moves its checkpoint past the disabling, and this sender emails each pending alert, retrying a
 * provider that is down with backoff (the last delay repeating) until it is sent, with one idempotency key per alert
 * on every attempt and on every node. Pending alerts are taken up again at start.
 */

/** One alert per disabling event and admin: the same id whichever node or replay claims it. */
export const alertIdFor = (disableEventId: string, adminId: string): string =>
  createHash('sha256').update(`${disableEventId}\u0000${adminId}`).digest('hex').slice(0, 32);

/** Every active admin in the people directory, page by page. */
export const activeAdmins = (readModels: Pick<MeetingQueries, 'listPeople'>): PersonView[] => {
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

export const disabledEmail = (siteName: string, url: string, detail: string) => {
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

export interface AlertSenderDeps {
  readonly store: EventStore;
  readonly mailer: Mailer;
  readonly mail: { readonly from: string; readonly siteName: string };
  readonly readModels: Pick<MeetingQueries, 'listPeople'>;
  readonly queries: Pick<WebhookQueries, 'getWebhook'>;
  readonly retryDelaysMs: ReadonlyArray<number>;
  readonly clock: () => Date;
  readonly newId: () => string;
  readonly log: Log;
}

const UNEXPECTED_RETRY_MS = 5_000;

export class AlertSender {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private readonly controller = new AbortController();
  private stopped = false;
  private readonly commands: Recorder;

  constructor(private readonly deps: AlertSenderDeps) {
    this.commands = createRecorder(deps);
  }

  /**
   * Claims one alert per active admin for a disabling (the first append to each alert's stream), and schedules the
   * new or still pending ones. Resolves once every claim is recorded: only then may the caller move past the event.
   */
  async claim(disableEventId: string, webhookId: string, detail: string): Promise<void> {
    const url = this.deps.queries.getWebhook(webhookId)?.url ?? webhookId;
    for (const admin of activeAdmins(this.deps.readModels)) {
      const alertId = alertIdFor(disableEventId, admin.id);
      const claimed = await this.commands.record(
        webhookAlerts,
        alertId,
        {
          type: 'RequestAlert',
          data: {
            alertId,
            webhookId,
            disableEventId,
            adminId: admin.id,
            email: admin.email,
            url,
            detail,
            at: this.deps.clock().toISOString(),
          },
        },
        { maxRetries: 1 },
      );
      if (E.isRight(claimed)) this.schedule(alertId);
      else if (claimed.left._tag === 'AlertAlreadyRequested') {
        const loaded = await this.commands.load(webhookAlerts, alertId);
        if (E.isRight(loaded) && loaded.right.state.status === 'pending')
          this.schedule(alertId, loaded.right.state.nextAttemptAt);
      } else throw new Error(`cannot claim webhook alert ${alertId}: ${JSON.stringify(claimed.left)}`);
    }
  }

  /** Sends now, or at `at` (ISO) if that is later. Repeated calls for one id are merged. */
  schedule(alertId: string, at?: string): void {
    if (this.stopped) return;
    const existing = this.timers.get(alertId);
    if (existing !== undefined) clearTimeout(existing);
    this.timers.delete(alertId);
    const delay = at === undefined ? 0 : Date.parse(at) - this.deps.clock().getTime();
    const timer = setTimeout(
      () => {
        this.timers.delete(alertId);
        this.run(alertId);
      },
      Math.min(Math.max(0, delay), 2_147_483_647),
    );
    timer.unref();
    this.timers.set(alertId, timer);
  }

  private run(alertId: string): void {
    if (this.stopped) return;
    if (this.running.has(alertId)) {
      this.again.add(alertId);
      return;
    }
    const run = this.send(alertId)
      .catch((error: unknown) => {
        this.deps.log.error({ err: error, alertId }, 'webhook-disabled email failed unexpectedly; trying again later');
        this.schedule(alertId, new Date(this.deps.clock().getTime() + UNEXPECTED_RETRY_MS).toISOString());
      })
      .finally(() => {
        this.running.delete(alertId);
        if (this.again.delete(alertId)) this.run(alertId);
      });
    this.running.set(alertId, run);
  }

  private async send(alertId: string): Promise<void> {
    const loaded = await this.commands.load(webhookAlerts, alertId);
    if (E.isLeft(loaded)) throw new Error(loaded.left.message);
    const alert = loaded.right.state;
    if (alert.status !== 'pending' || this.stopped) return;
    if (alert.nextAttemptAt !== undefined && Date.parse(alert.nextAttemptAt) > this.deps.clock().getTime()) {
      this.schedule(alertId, alert.nextAttemptAt);
      return;
    }
    const sent = await this.deps.mailer.send(this.message(alert), { signal: this.controller.signal });
    if (this.stopped) return;
    const at = this.deps.clock().toISOString();
    const recorded = await this.commands.record(
      webhookAlerts,
      alertId,
      E.isRight(sent)
        ? { type: 'RecordAlertSent', data: { providerMessageId: sent.right.providerMessageId, at } }
        : {
            type: 'RecordAlertFailed',
            data: {
              error: sent.left.message,
              retryable: sent.left.retryable,
              retryDelaysMs: this.deps.retryDelaysMs,
              at,
            },
          },
      { maxRetries: 3 },
    );
    if (E.isLeft(sent))
      this.deps.log.warn(
        { alertId, admin: alert.adminId, error: sent.left.message, attempt: alert.attempts + 1 },
        sent.left.retryable ? 'webhook-disabled email not sent; trying again later' : 'webhook-disabled email refused',
      );
    if (E.isRight(recorded) && recorded.right.state.status === 'pending')
      this.schedule(alertId, recorded.right.state.nextAttemptAt);
  }

  private message(alert: WebhookAlert) {
    return {
      idempotencyKey: `webhook-disabled.${alert.alertId}`,
      from: this.deps.mail.from,
      to: alert.email,
      ...disabledEmail(this.deps.mail.siteName, alert.url, alert.detail),
      attachments: [],
    };
  }

  /** Stops scheduling, aborts emails in flight and waits for their bookkeeping. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.controller.abort(new Error('stopping'));
    await Promise.allSettled([...this.running.values()]);
  }
}
