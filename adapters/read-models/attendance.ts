import { AttendanceEvent, attendanceEventTypes } from '../../domain/attendance.ts';
import { projectAttendanceView } from '../../application/projections/attendance-view.ts';
import type { RecordedEvent } from '../../application/ports/event-store.ts';
import type { AttendanceView, MeetingQueries, ProjectionSink } from '../../application/ports/read-models.ts';
import { decodeOrThrow, docOf, sqliteSink } from './kit.ts';
import type { Db } from './kit.ts';

/** `attendance_marks` is what the calendar joins to show each entry's mark (see meetings.ts). */
export const attendanceSchema = `
CREATE TABLE IF NOT EXISTS attendance (meeting_id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS attendance_marks (
  meeting_id TEXT NOT NULL, person_id TEXT NOT NULL, status TEXT NOT NULL, PRIMARY KEY (meeting_id, person_id)
) WITHOUT ROWID;
`;

const types = new Set<string>(attendanceEventTypes);

export interface AttendanceReadModel {
  readonly sink: ProjectionSink;
  readonly queries: Pick<MeetingQueries, 'getAttendance'>;
}

/** Each meeting's attendance as a document, and the marks by meeting and person for the calendar. */
export const openAttendanceReadModel = (db: Db): AttendanceReadModel => {
  db.exec(attendanceSchema);
  const get = db.prepare<[string], { doc: string }>('SELECT doc FROM attendance WHERE meeting_id = ?');
  const put = db.prepare(
    'INSERT INTO attendance(meeting_id, doc) VALUES (?, ?) ON CONFLICT(meeting_id) DO UPDATE SET doc = excluded.doc',
  );
  const putMark = db.prepare(
    'INSERT INTO attendance_marks(meeting_id, person_id, status) VALUES (?, ?, ?) ON CONFLICT(meeting_id, person_id) DO UPDATE SET status = excluded.status',
  );
  const getAttendance = (meetingId: string) => docOf<AttendanceView>(get.get(meetingId));
  const handle = (recorded: RecordedEvent): void => {
    if (!types.has(recorded.type)) return;
    const event = decodeOrThrow(AttendanceEvent, recorded);
    const view = projectAttendanceView(getAttendance(event.data.meetingId), event, recorded.revision);
    put.run(view.meetingId, JSON.stringify(view));
    if (event.type === 'AttendanceMarked') putMark.run(view.meetingId, event.data.personId, event.data.status);
  };
  return {
    sink: sqliteSink(db, 'attendance', handle, () => db.exec('DELETE FROM attendance; DELETE FROM attendance_marks;')),
    queries: { getAttendance },
  };
};
