import type { Logger } from 'pino';
import type { EmailJoinLinks } from '../application/notifications/join-links.ts';
import type { NotificationModule } from '../application/notifications/module.ts';
import type { NoticeTopic } from '../application/notifications/topics.ts';
import type { EventStore } from '../application/ports/event-store.ts';
import type { ProjectionRunner } from '../application/projections/runner.ts';
import { createReminderModule } from '../application/reminders/module.ts';
import type { ReminderModule } from '../application/reminders/module.ts';
import { reminderTopic } from '../application/reminders/topic.ts';
import type { ReminderRender } from '../application/reminders/topic.ts';
import type { SqliteReadModels } from '../adapters/read-models/index.ts';
import { ConfigError } from './config.ts';
import type { Config } from './config.ts';

/** What the settings say of reminders (apps/notifications.ts `settingsOfReminders` reads them). */
export interface ReminderSettings {
  readonly offsetsMinutes: () => ReadonlyArray<number>;
  readonly enabled: () => boolean;
  /** Whether the instructor gets a copy too; absent, never. */
  readonly notifyInstructor?: () => boolean;
  readonly render: ReminderRender;
}

/** Test overrides: offsets in seconds (instead of the settings' minutes) and how soon a handled reminder is re-read. */
export interface ReminderOptions {
  readonly offsetsSeconds?: ReadonlyArray<number>;
  readonly recheckMs?: number;
}

/**
 * TEST-ONLY: `REMINDERS_TEST_OFFSETS_SECONDS=20,5` makes reminders go that many seconds before each session instead
 * of the settings' minutes, so that a real server process can be killed and restarted across a reminder's due time
 * (tests/apps/reminders-process.test.ts). Never set it in production; the server logs loudly when it is set.
 */
export const reminderTestOffsets = (env: NodeJS.ProcessEnv = process.env): ReadonlyArray<number> | undefined => {
  const spec = env.REMINDERS_TEST_OFFSETS_SECONDS?.trim();
  if (spec === undefined || spec === '') return undefined;
  const offsets = spec.split(',').map((part) => Number(part.trim()));
  if (offsets.some((o) => !Number.isInteger(o) || o <= 0))
    throw new ConfigError(`REMINDERS_TEST_OFFSETS_SECONDS must list whole seconds above 0, got '${spec}'`);
  return offsets;
};

/** The notification log's `reminder` topic: how a reminder is rendered, and whether its session is still ahead. */
export const createReminderTopic = (params: {
  readonly config: Config;
  readonly store: EventStore;
  readonly readModels: SqliteReadModels;
  readonly clock: () => Date;
  readonly joinLinks: EmailJoinLinks;
  readonly settings: ReminderSettings;
}): NoticeTopic => {
  const { settings } = params;
  return reminderTopic({
    store: params.store,
    queries: params.readModels,
    enabled: settings.enabled,
    render: settings.render,
    config: { siteName: params.config.siteName, mailFrom: params.config.mailFrom },
    joinLinks: params.joinLinks,
    clock: params.clock,
  });
};

export const createReminders = (params: {
  readonly store: EventStore;
  readonly readModels: SqliteReadModels;
  readonly projections: ProjectionRunner;
  readonly notifications: Pick<NotificationModule, 'prepare' | 'schedule'>;
  readonly clock: () => Date;
  readonly newId: () => string;
  readonly logger: Logger;
  readonly options?: ReminderOptions;
  readonly settings: ReminderSettings;
}): ReminderModule => {
  const log = params.logger.child({ component: 'reminders' });
  const { settings } = params;
  const testOffsets = params.options?.offsetsSeconds ?? reminderTestOffsets();
  if (testOffsets !== undefined)
    log.warn({ offsetsSeconds: testOffsets }, 'TEST ONLY: reminders go seconds before each session, not the settings');
  return createReminderModule({
    store: params.store,
    checkpoints: params.readModels.notifications.checkpoints,
    queries: params.readModels.reminders,
    projections: params.projections,
    offsetsSeconds: () => testOffsets ?? settings.offsetsMinutes().map((minutes) => minutes * 60),
    notices: { prepare: params.notifications.prepare, schedule: params.notifications.schedule },
    clock: params.clock,
    newId: params.newId,
    log,
    ...(params.options?.recheckMs !== undefined ? { recheckMs: params.options.recheckMs } : {}),
    ...(settings.notifyInstructor !== undefined ? { notifyInstructor: settings.notifyInstructor } : {}),
  });
};
