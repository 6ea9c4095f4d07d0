import { join } from 'node:path';
import type { Logger } from 'pino';
import { createNotificationModule } from '../application/notifications/module.ts';
import type { NotificationModule } from '../application/notifications/module.ts';
import type { RetryPolicy } from '../application/notifications/sender.ts';
import type { EmailJoinLinks } from '../application/notifications/join-links.ts';
import type { NoticeTopics } from '../application/notifications/topics.ts';
import type { Executor } from '../application/execute.ts';
import type { EventStore } from '../application/ports/event-store.ts';
import type { Mailer } from '../application/ports/mailer.ts';
import type { ProjectionRunner } from '../application/projections/runner.ts';
import { createIcsCancellationBuilder } from '../adapters/mail/ics.ts';
import { createOutboxMailer } from '../adapters/mail/outbox.ts';
import { createResendMailer } from '../adapters/mail/resend.ts';
import type { SqliteReadModels } from '../adapters/read-models/index.ts';
import type { Config } from './config.ts';
import type { ReminderSettings } from './reminders.ts';
import { renderNoticeEmail } from '../application/notifications/render.ts';
import { emailTemplatesFor, kindEnabled, notifyInstructorOf, reminderOffsetsMinutes } from '../domain/settings.ts';

/** Test and deployment overrides: retry timing, the jitter source, or a mailer of one's own. */
export interface NotificationOptions extends Partial<RetryPolicy> {
  readonly random?: () => number;
  readonly mailer?: Mailer;
  /** The change emails' coalescing window when the settings set none (else NOTIFY_COALESCE_SECONDS). */
  readonly coalesceSeconds?: number;
}

/** Resend when RESEND_API_KEY is set (the SDK reads RESEND_BASE_URL itself), else the dev outbox in DATA_DIR. */
export const chooseMailer = (config: Config, dataDir: string, logger: Logger): Mailer =>
  config.resendApiKey !== undefined
    ? createResendMailer({ apiKey: config.resendApiKey })
    : createOutboxMailer({ dir: join(dataDir, 'outbox'), logger: logger.child({ component: 'outbox' }) });

export const createNotifications = (params: {
  readonly config: Config;
  readonly dataDir: string;
  readonly store: EventStore;
  readonly executor: Executor;
  readonly readModels: SqliteReadModels;
  readonly projections: ProjectionRunner;
  readonly logger: Logger;
  readonly clock: () => Date;
  readonly newId: () => string;
  readonly options?: NotificationOptions;
  /** Each recipient's own join links, added to the email as it is sent. */
  readonly joinLinks?: EmailJoinLinks;
  /** The site's address as it listens (the configured one, or the real port when PUBLIC_BASE_URL is unset). */
  readonly publicBaseUrl?: () => string;
  /** The topics other features add (reminders, ...). */
  readonly topics?: NoticeTopics;
}): NotificationModule => {
  const { config, dataDir, readModels, logger, options = {} } = params;
  const { random, mailer: customMailer, coalesceSeconds: _window, ...policy } = options;
  const log = logger.child({ component: 'notifications' });
  const mailer = customMailer ?? chooseMailer(config, dataDir, logger);
  log.info(
    { mailer: mailer.name },
    mailer.name === 'outbox'
      ? `notification emails go to ${join(dataDir, 'outbox')}`
      : 'notification emails go through Resend',
  );
  return createNotificationModule({
    store: params.store,
    executor: params.executor,
    readModels,
    queries: readModels.notifications.queries,
    checkpoints: readModels.notifications.checkpoints,
    projections: params.projections,
    mailer,
    buildCalendar: createIcsCancellationBuilder({ publicBaseUrl: config.publicBaseUrl, sender: config.mailFrom }),
    clock: params.clock,
    newId: params.newId,
    log,
    config: {
      siteName: config.siteName,
      mailFrom: config.mailFrom,
      publicBaseUrl: params.publicBaseUrl ?? (() => config.publicBaseUrl),
    },
    coalesceSeconds: options.coalesceSeconds ?? config.notifyCoalesceSeconds,
    policy,
    random,
    ...(params.joinLinks !== undefined ? { joinLinks: params.joinLinks } : {}),
    ...(params.topics !== undefined ? { topics: params.topics } : {}),
  });
};

/**
 * What the settings say of reminders (apps/reminders.ts `ReminderSettings`): the offsets, the kind's switch, and the
 * reminder templates of the reader's role and language, rendered by the one renderer of every email.
 */
export const settingsOfReminders = (readModels: Pick<SqliteReadModels, 'getSettings'>): ReminderSettings => ({
  offsetsMinutes: () => reminderOffsetsMinutes(readModels.getSettings()),
  enabled: () => kindEnabled(readModels.getSettings(), 'reminder'),
  notifyInstructor: () => notifyInstructorOf(readModels.getSettings(), 'reminder'),
  render: (input) =>
    renderNoticeEmail({
      templates: emailTemplatesFor(readModels.getSettings(), 'reminder', input.recipientRole, input.language),
      recipientRole: input.recipientRole,
      siteName: input.siteName,
      kind: 'meeting',
      title: input.title,
      customerName: input.customerName,
      instructorName: input.instructorName,
      timezone: input.timezone,
      ...(input.language !== undefined ? { language: input.language } : {}),
      sessions: [input.session],
    }),
});
