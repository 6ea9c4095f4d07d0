import { NotificationEvent, notificationEventTypes } from '../../domain/notification.ts';
import { projectNotificationView } from '../../application/notifications/view.ts';
import type { ProjectionSink } from '../../application/ports/read-models.ts';
import type { CheckpointStore, NotificationQueries, NotificationView } from '../../application/ports/notifications.ts';
import { decodeOrThrow, sqliteSink } from './kit.ts';
import type { Db } from './kit.ts';

const schema = `
CREATE TABLE IF NOT EXISTS notifications (
  id TEXT PRIMARY KEY, status TEXT NOT NULL, created_at TEXT NOT NULL, requested_position INTEGER NOT NULL,
  next_attempt_at TEXT, doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS notifications_created ON notifications(created_at, requested_position);
CREATE INDEX IF NOT EXISTS notifications_status ON notifications(status, created_at, requested_position);
CREATE TABLE IF NOT EXISTS notification_meetings (
  meeting_id TEXT NOT NULL, notification_id TEXT NOT NULL, PRIMARY KEY (meeting_id, notification_id)
);
CREATE TABLE IF NOT EXISTS reaction_checkpoints (name TEXT PRIMARY KEY, position INTEGER NOT NULL);
`;

const types = new Set<string>(notificationEventTypes);

export interface NotificationReadModel {
  readonly sink: ProjectionSink;
  readonly queries: NotificationQueries;
  /** Where reactions keep their place in the log (not reset by a projection rebuild, lost with the file). */
  readonly checkpoints: CheckpointStore;
}

/** The notification log for admins, in the read-model database, projected from the notification streams. */
export const openNotificationReadModel = (db: Db): NotificationReadModel => {
  db.exec(schema);
  const get = db.prepare<[string], { doc: string }>('SELECT doc FROM notifications WHERE id = ?');
  const put = db.prepare(
    `INSERT INTO notifications(id, status, created_at, requested_position, next_attempt_at, doc) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT(id) DO UPDATE SET status = excluded.status, next_attempt_at = excluded.next_attempt_at, doc = excluded.doc`,
  );
  const link = db.prepare('INSERT OR IGNORE INTO notification_meetings(meeting_id, notification_id) VALUES (?, ?)');
  const order = 'ORDER BY n.created_at DESC, n.requested_position DESC LIMIT ? + 0';
  const list = {
    all: db.prepare<[number], { doc: string }>(`SELECT n.doc FROM notifications n ${order}`),
    byStatus: db.prepare<[string, number], { doc: string }>(
      `SELECT n.doc FROM notifications n WHERE n.status = ? ${order}`,
    ),
    byMeeting: db.prepare<[string, number], { doc: string }>(
      `SELECT n.doc FROM notification_meetings m JOIN notifications n ON n.id = m.notification_id WHERE m.meeting_id = ? ${order}`,
    ),
    byMeetingAndStatus: db.prepare<[string, string, number], { doc: string }>(
      `SELECT n.doc FROM notification_meetings m JOIN notifications n ON n.id = m.notification_id WHERE m.meeting_id = ? AND n.status = ? ${order}`,
    ),
  };
  // Rows recorded before topics have none: they are cancellations.
  const topicStatements = new Map<string, ReturnType<typeof db.prepare<unknown[], { doc: string }>>>();
  const byTopic = (meetingId: string | undefined, status: string | undefined) => {
    const key = `${meetingId !== undefined}:${status !== undefined}`;
    let statement = topicStatements.get(key);
    if (statement === undefined) {
      const from =
        meetingId !== undefined
          ? 'notification_meetings m JOIN notifications n ON n.id = m.notification_id'
          : 'notifications n';
      const where = [
        "coalesce(json_extract(n.doc, '$.topic'), 'cancelled') = ?",
        ...(meetingId !== undefined ? ['m.meeting_id = ?'] : []),
        ...(status !== undefined ? ['n.status = ?'] : []),
      ].join(' AND ');
      statement = db.prepare<unknown[], { doc: string }>(`SELECT n.doc FROM ${from} WHERE ${where} ${order}`);
      topicStatements.set(key, statement);
    }
    return statement;
  };
  const pending = db.prepare<[], { doc: string }>(
    "SELECT doc FROM notifications WHERE status = 'pending' ORDER BY created_at, requested_position",
  );
  const readCheckpoint = db.prepare<[string], { position: number }>(
    'SELECT position FROM reaction_checkpoints WHERE name = ?',
  );
  const writeCheckpoint = db.prepare(
    'INSERT INTO reaction_checkpoints(name, position) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET position = excluded.position',
  );

  // Rows projected before notifications had topics were all cancellations.
  const parse = (doc: string): NotificationView => ({
    topic: 'cancelled',
    ...(JSON.parse(doc) as Omit<NotificationView, 'topic'>),
  });
  const read = (id: string): NotificationView | undefined => {
    const row = get.get(id);
    return row === undefined ? undefined : parse(row.doc);
  };
  const docs = (rows: ReadonlyArray<{ doc: string }>) => rows.map((row) => parse(row.doc));

  const sink = sqliteSink(
    db,
    'notifications',
    (recorded) => {
      if (!types.has(recorded.type)) return;
      const event = decodeOrThrow(NotificationEvent, recorded);
      const current =
        event.type === 'NotificationRequested' ? undefined : read(recorded.streamName.slice('notification-'.length));
      const view = projectNotificationView(current, event, recorded);
      if (view === undefined) return;
      const requestedPosition = event.type === 'NotificationRequested' ? recorded.position : undefined;
      put.run(
        view.id,
        view.status,
        view.createdAt,
        requestedPosition ?? 0,
        view.nextAttemptAt ?? null,
        JSON.stringify(view),
      );
      if (event.type === 'NotificationRequested') for (const meetingId of view.meetingIds) link.run(meetingId, view.id);
    },
    () => db.exec('DELETE FROM notifications; DELETE FROM notification_meetings;'),
  );

  return {
    sink,
    queries: {
      getNotification: read,
      listNotifications: ({ meetingId, status, topic, limit }) => {
        if (topic !== undefined)
          return docs(
            byTopic(meetingId, status).all(
              topic,
              ...(meetingId !== undefined ? [meetingId] : []),
              ...(status !== undefined ? [status] : []),
              limit,
            ),
          );
        if (meetingId !== undefined && status !== undefined)
          return docs(list.byMeetingAndStatus.all(meetingId, status, limit));
        if (meetingId !== undefined) return docs(list.byMeeting.all(meetingId, limit));
        if (status !== undefined) return docs(list.byStatus.all(status, limit));
        return docs(list.all.all(limit));
      },
      pendingNotifications: () => docs(pending.all()),
    },
    checkpoints: {
      get: (name) => readCheckpoint.get(name)?.position ?? 0,
      set: (name, position) => {
        writeCheckpoint.run(name, position);
      },
    },
  };
};
