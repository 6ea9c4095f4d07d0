import { ReminderEvent, reminderEventTypes, reminderStreamPrefix } from '../../domain/reminder.ts';
import type { ProjectionSink } from '../../application/ports/read-models.ts';
import type { DueReminder, ReminderPlanView, ReminderQueries } from '../../application/ports/reminders.ts';
import { decodeOrThrow, sqliteSink } from './kit.ts';
import type { Db } from './kit.ts';

// Small rows keyed by meeting: WITHOUT ROWID, so that each write lands in the key's b-tree alone, not also in a rowid
// table beside it.
const schema = `
CREATE TABLE IF NOT EXISTS reminder_plans (
  meeting_id TEXT PRIMARY KEY, status TEXT NOT NULL, start TEXT NOT NULL, offsets TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS reminder_plans_start ON reminder_plans(status, start, meeting_id);
CREATE TABLE IF NOT EXISTS reminders_due (
  meeting_id TEXT NOT NULL, offset_seconds INTEGER NOT NULL, start TEXT NOT NULL, due_at TEXT NOT NULL,
  planned_event_id TEXT NOT NULL, PRIMARY KEY (meeting_id, offset_seconds)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS reminders_due_at ON reminders_due(due_at);
`;

const types = new Set<string>(reminderEventTypes);

interface DueRow {
  meeting_id: string;
  offset_seconds: number;
  start: string;
  due_at: string;
  planned_event_id: string;
}

const dueOf = (row: DueRow): DueReminder => ({
  meetingId: row.meeting_id,
  offsetSeconds: row.offset_seconds,
  start: row.start,
  dueAt: row.due_at,
  plannedEventId: row.planned_event_id,
});

/** The reminder plans (every session's reminders still to go), projected from the `reminders-` streams. */
export const openReminderReadModel = (db: Db): { readonly sink: ProjectionSink; readonly queries: ReminderQueries } => {
  db.exec(schema);
  const putPlan = db.prepare(
    `INSERT INTO reminder_plans(meeting_id, status, start, offsets) VALUES (?, ?, ?, ?)
     ON CONFLICT(meeting_id) DO UPDATE SET status = excluded.status, start = excluded.start, offsets = excluded.offsets`,
  );
  const dropPlan = db.prepare("UPDATE reminder_plans SET status = 'dropped' WHERE meeting_id = ?");
  const clearDue = db.prepare('DELETE FROM reminders_due WHERE meeting_id = ?');
  const putDue = db.prepare(
    'INSERT OR REPLACE INTO reminders_due(meeting_id, offset_seconds, start, due_at, planned_event_id) VALUES (?, ?, ?, ?, ?)',
  );
  const doneDue = db.prepare('DELETE FROM reminders_due WHERE meeting_id = ? AND offset_seconds = ? AND start = ?');
  const due = db.prepare<[string, number], DueRow>(
    'SELECT * FROM reminders_due WHERE due_at <= ? ORDER BY due_at, meeting_id, offset_seconds LIMIT ? + 0',
  );
  const next = db.prepare<[string], { due_at: string }>(
    'SELECT due_at FROM reminders_due WHERE due_at > ? ORDER BY due_at LIMIT 1',
  );
  const sessions = db.prepare<[string, string, number], { meeting_id: string }>(
    "SELECT meeting_id FROM reminder_plans WHERE status = 'planned' AND start > ? AND meeting_id > ? ORDER BY meeting_id LIMIT ? + 0",
  );
  const plan = db.prepare<
    [string],
    { meeting_id: string; status: 'planned' | 'dropped'; start: string; offsets: string }
  >('SELECT * FROM reminder_plans WHERE meeting_id = ?');
  const dueOfPlan = db.prepare<[string], DueRow>('SELECT * FROM reminders_due WHERE meeting_id = ? ORDER BY due_at');

  const sink = sqliteSink(
    db,
    'reminders',
    (recorded) => {
      if (!types.has(recorded.type) || !recorded.streamName.startsWith(reminderStreamPrefix)) return;
      const event = decodeOrThrow(ReminderEvent, recorded);
      switch (event.type) {
        case 'RemindersPlanned': {
          const d = event.data;
          // Instants as ISO strings in UTC, so that text order is time order.
          const start = new Date(d.session.start).toISOString();
          putPlan.run(d.meetingId, 'planned', start, JSON.stringify(d.offsetsSeconds));
          clearDue.run(d.meetingId);
          for (const r of d.reminders)
            putDue.run(d.meetingId, r.offsetSeconds, start, new Date(r.dueAt).toISOString(), recorded.id);
          return;
        }
        case 'RemindersDropped':
          dropPlan.run(event.data.meetingId);
          clearDue.run(event.data.meetingId);
          return;
        case 'ReminderClaimed':
        case 'ReminderMissed':
          doneDue.run(event.data.meetingId, event.data.offsetSeconds, new Date(event.data.start).toISOString());
          return;
        default:
          return event satisfies never;
      }
    },
    () => db.exec('DELETE FROM reminder_plans; DELETE FROM reminders_due;'),
  );

  return {
    sink,
    queries: {
      dueReminders: (until, limit) => due.all(new Date(until).toISOString(), limit).map(dueOf),
      nextDueAt: (after) => next.get(new Date(after).toISOString())?.due_at,
      plannedSessions: (after, limit, afterMeetingId = '') =>
        sessions.all(new Date(after).toISOString(), afterMeetingId, limit).map((row) => row.meeting_id),
      getPlan: (meetingId): ReminderPlanView | undefined => {
        const row = plan.get(meetingId);
        if (row === undefined) return undefined;
        return {
          meetingId: row.meeting_id,
          status: row.status,
          start: row.start,
          offsetsSeconds: JSON.parse(row.offsets) as number[],
          reminders: dueOfPlan.all(meetingId).map(dueOf),
        };
      },
    },
  };
};
