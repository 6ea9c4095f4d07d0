import { MAX_MEETING_MS, MeetingEvent, meetingEventTypes } from '../../domain/meeting.ts';
import { calendarEntriesOf, projectMeetingView } from '../../application/projections/meeting-view.ts';
import type { RecordedEvent } from '../../application/ports/event-store.ts';
import type {
  CalendarEntry,
  MeetingQueries,
  MeetingView,
  ProjectionSink,
} from '../../application/ports/read-models.ts';
import { decodeOrThrow, docOf, sqliteSink } from './kit.ts';
import type { Db } from './kit.ts';

const schema = `
CREATE TABLE IF NOT EXISTS meetings (
  id TEXT PRIMARY KEY, doc TEXT NOT NULL, series_id TEXT
);
CREATE INDEX IF NOT EXISTS meetings_series ON meetings(series_id) WHERE series_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS calendar (
  user_id TEXT NOT NULL, meeting_id TEXT NOT NULL, role TEXT NOT NULL,
  series_id TEXT, title TEXT NOT NULL, start TEXT NOT NULL, "end" TEXT NOT NULL, timezone TEXT NOT NULL,
  state TEXT NOT NULL, training_type TEXT NOT NULL, customer_id TEXT NOT NULL, instructor_id TEXT NOT NULL,
  PRIMARY KEY (user_id, start, meeting_id, role)
) WITHOUT ROWID;
`;
// No index of the calendar by meeting: a meeting's old rows are deleted by their keys, known from its previous view
// (one more index page written on every change, at a place of its own, for a lookup the sink need not make).

const types = new Set<string>(meetingEventTypes);

type CalendarTuple = [
  string,
  CalendarEntry['role'],
  string | null,
  string,
  string,
  string,
  string,
  CalendarEntry['state'],
  CalendarEntry['trainingType'],
  string,
  string,
  CalendarEntry['attendance'] | null,
];

export type MeetingReadQueries = Pick<
  MeetingQueries,
  'getMeeting' | 'calendar' | 'activeMeetingsOverlapping' | 'meetingsOfSeries'
>;

export interface MeetingReadModel {
  readonly sink: ProjectionSink;
  readonly queries: MeetingReadQueries;
}

/**
 * Each meeting as a document, and the calendar: one row per meeting and participant, keyed for "this user's
 * meetings between two instants". `personName` names the counterpart of each calendar entry.
 */
export const openMeetingReadModel = (
  db: Db,
  personName: (personId: string) => string | undefined,
): MeetingReadModel => {
  db.exec(schema);
  const getMeeting = meetingReader(db);
  return {
    sink: meetingSink(db, getMeeting),
    queries: {
      getMeeting,
      calendar: calendarQuery(db, personName),
      activeMeetingsOverlapping: activeMeetingsQuery(db, getMeeting),
      meetingsOfSeries: meetingsOfSeriesQuery(db),
    },
  };
};

const meetingReader = (db: Db): ((id: string) => MeetingView | undefined) => {
  const get = db.prepare<[string], { doc: string }>('SELECT doc FROM meetings WHERE id = ?');
  return (id) => docOf<MeetingView>(get.get(id));
};

const meetingSink = (db: Db, readMeeting: (id: string) => MeetingView | undefined): ProjectionSink => {
  const putMeeting = db.prepare(
    'INSERT INTO meetings(id, doc, series_id) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc, series_id = excluded.series_id',
  );
  const deleteEntry = db.prepare(
    'DELETE FROM calendar WHERE user_id = ? AND start = ? AND meeting_id = ? AND role = ?',
  );
  const userOf = (entry: Omit<CalendarEntry, 'counterpartName'>) =>
    entry.role === 'customer' ? entry.customerId : entry.instructorId;
  const putCalendar = db.prepare(
    'INSERT INTO calendar(user_id, meeting_id, role, series_id, title, start, "end", timezone, state, training_type, customer_id, instructor_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)',
  );
  const handle = (recorded: RecordedEvent): void => {
    if (!types.has(recorded.type)) return;
    const event = decodeOrThrow(MeetingEvent, recorded);
    const before = readMeeting(event.data.meetingId);
    const view = projectMeetingView(before, event, recorded);
    if (view === undefined) return;
    putMeeting.run(view.id, JSON.stringify(view), view.seriesId ?? null);
    if (before !== undefined)
      for (const entry of calendarEntriesOf(before))
        deleteEntry.run(userOf(entry), entry.start, entry.meetingId, entry.role);
    for (const entry of calendarEntriesOf(view)) {
      putCalendar.run(
        userOf(entry),
        entry.meetingId,
        entry.role,
        entry.seriesId ?? null,
        entry.title,
        entry.start,
        entry.end,
        entry.timezone,
        entry.state,
        entry.trainingType,
        entry.customerId,
        entry.instructorId,
      );
    }
  };
  return sqliteSink(db, 'meetings', handle, () => db.exec('DELETE FROM meetings; DELETE FROM calendar;'));
};

// Meetings last at most 24 hours, so only those starting after from-24h can overlap: keeps the scan on the index.
const earliestStart = (from: string): string => new Date(Date.parse(from) - MAX_MEETING_MS).toISOString();

const calendarQuery = (db: Db, personName: (personId: string) => string | undefined): MeetingQueries['calendar'] => {
  const calendarStmt = db.prepare<[string, string, string, string]>(`
    SELECT c.meeting_id, c.role, c.series_id, c.title, c.start, c."end", c.timezone, c.state, c.training_type,
      c.customer_id, c.instructor_id, m.status FROM calendar c
    LEFT JOIN attendance_marks m ON m.meeting_id = c.meeting_id AND m.person_id = c.customer_id
    WHERE c.user_id = ? AND c.start >= ? AND c.start < ? AND c."end" > ?
    ORDER BY c.start, c.meeting_id, c.role`);
  // Rows as arrays: a year's calendar is a thousand rows, and objects per row were most of its cost.
  const calendarRows = calendarStmt.raw(true);
  return (userId, from, to) => {
    // Names are looked up once per counterpart rather than joined into every row: a year has few of them.
    const names = new Map<string, string | undefined>();
    const nameOf = (id: string) => {
      if (!names.has(id)) names.set(id, personName(id));
      return names.get(id);
    };
    return (calendarRows.all(userId, earliestStart(from), to, from) as unknown as CalendarTuple[]).map(
      ([
        meetingId,
        role,
        seriesId,
        title,
        start,
        end,
        timezone,
        state,
        trainingType,
        customerId,
        instructorId,
        mark,
      ]) => ({
        meetingId,
        seriesId: seriesId ?? undefined,
        title,
        start,
        end,
        timezone,
        state,
        trainingType,
        role,
        customerId,
        instructorId,
        counterpartName: nameOf(role === 'customer' ? instructorId : customerId),
        ...(mark !== null ? { attendance: mark } : {}),
      }),
    );
  };
};

const activeMeetingsQuery = (
  db: Db,
  readMeeting: (id: string) => MeetingView | undefined,
): MeetingQueries['activeMeetingsOverlapping'] => {
  const activeStmt = db.prepare<[string, string, string, string], { meeting_id: string }>(`
    SELECT DISTINCT meeting_id FROM calendar
    WHERE user_id = ? AND start >= ? AND start < ? AND "end" > ? AND state != 'cancelled'`);
  return (userIds, from, to) => {
    const ids = new Set<string>();
    for (const userId of userIds) {
      for (const row of activeStmt.all(userId, earliestStart(from), to, from)) ids.add(row.meeting_id);
    }
    return [...ids].map(readMeeting).filter((m): m is MeetingView => m !== undefined);
  };
};

const meetingsOfSeriesQuery = (db: Db): MeetingQueries['meetingsOfSeries'] => {
  const seriesMeetingsStmt = db.prepare<[string], { doc: string }>('SELECT doc FROM meetings WHERE series_id = ?');
  return (seriesId) =>
    seriesMeetingsStmt
      .all(seriesId)
      .map((row) => JSON.parse(row.doc) as MeetingView)
      .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.id < b.id ? -1 : 1));
};
