import type { AuditQueries } from '../../application/audit.ts';
import type { ReadModels } from '../../application/ports/read-models.ts';
import { openAttendanceReadModel } from './attendance.ts';
import { openAuditReadModel } from './audit.ts';
import { openCalendarFeedReadModel } from './calendar-feeds.ts';
import { closeReadModelDatabase, flushReadModelWal, openReadModelDatabase, runInTransaction } from './kit.ts';
import { openMeetingReadModel } from './meetings.ts';
import { openNotificationReadModel } from './notifications.ts';
import type { NotificationReadModel } from './notifications.ts';
import { openPeopleReadModel } from './people.ts';
import { openSeriesReadModel } from './series.ts';
import { openSessionReadModel } from './sessions.ts';
import { openSettingsReadModel } from './settings.ts';
import { openReminderReadModel } from './reminders.ts';
import type { ReminderQueries } from '../../application/ports/reminders.ts';
import { openWebhookReadModel } from './webhooks.ts';
import type { WebhookReadModel } from './webhooks.ts';

/** Bumped whenever the tables change shape; an older file is emptied and rebuilt from the log on open. */
const READ_MODEL_VERSION = 9;

export interface SqliteReadModels extends ReadModels {
  readonly notifications: NotificationReadModel;
  readonly audit: AuditQueries;
  /** Every session's reminders still to go. */
  readonly reminders: ReminderQueries;
  readonly webhooks: WebhookReadModel['queries'];
  /**
   * Moves what the write-ahead log holds into the database file, synced, and empties the log, so that the file alone
   * holds the read models (before it is moved into place, say).
   */
  flushWal(): void;
}

/** Every projection in one SQLite file, so that a batch of events is applied to all of them in one transaction. */
export const openSqliteReadModels = (path: string): SqliteReadModels => {
  const db = openReadModelDatabase(path, READ_MODEL_VERSION);
  const people = openPeopleReadModel(db);
  // Before the meetings: their calendar query joins the attendance marks.
  const attendance = openAttendanceReadModel(db);
  const meetings = openMeetingReadModel(db, people.personName);
  const settings = openSettingsReadModel(db);
  const series = openSeriesReadModel(db, meetings.queries.meetingsOfSeries);
  const notifications = openNotificationReadModel(db);
  const feeds = openCalendarFeedReadModel(db);
  const audit = openAuditReadModel(db);
  const sessions = openSessionReadModel(db);
  const reminders = openReminderReadModel(db);
  const webhooks = openWebhookReadModel(db);
  return {
    ...meetings.queries,
    ...series.queries,
    ...people.queries,
    ...settings.queries,
    ...feeds.queries,
    ...sessions.queries,
    ...attendance.queries,
    notifications,
    audit: audit.queries,
    reminders: reminders.queries,
    webhooks: webhooks.queries,
    sinks: [
      meetings.sink,
      people.sink,
      settings.sink,
      series.sink,
      notifications.sink,
      feeds.sink,
      audit.sink,
      sessions.sink,
      attendance.sink,
      reminders.sink,
      webhooks.sink,
    ],
    transaction: (work) => runInTransaction(db, work),
    flushWal: () => flushReadModelWal(db),
    close: () => closeReadModelDatabase(db),
  };
};
