import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import { MAX_MEETING_MS, MeetingEvent, meetingEventTypes } from '../../domain/meeting.ts';
import { PersonEvent } from '../../domain/person.ts';
import { SeriesEvent, seriesEventTypes } from '../../domain/series.ts';
import { projectSeriesDoc, seriesViewOf } from '../../application/projections/series-view.ts';
import type { SeriesDoc } from '../../application/projections/series-view.ts';
import { Settings, SettingsEvent, defaultSettings } from '../../domain/settings.ts';
import { Actor } from '../../domain/shared.ts';
import { decodeRecorded } from '../../application/decode.ts';
import { calendarEntriesOf, projectMeetingView } from '../../application/projections/meeting-view.ts';
import type { RecordedEvent } from '../../application/ports/event-store.ts';
import { openNotificationReadModel } from './notifications.ts';
import type { NotificationReadModel } from './notifications.ts';
import { openCalendarFeedReadModel } from './calendar-feeds.ts';
import { IDEMPOTENCY_STREAM_PREFIX } from '../../application/idempotency.ts';
import type {
  CalendarEntry,
  HistoryEntry,
  MeetingView,
  PersonView,
  ProjectionSink,
  ReadModels,
} from '../../application/ports/read-models.ts';

type Db = Database.Database;

const decodeOrThrow = <A>(codec: t.Decoder<unknown, A>, recorded: RecordedEvent): A => {
  const decoded = decodeRecorded(codec, recorded);
  if (E.isLeft(decoded)) throw new Error(decoded.left.message);
  return decoded.right;
};

const schema = `
CREATE TABLE IF NOT EXISTS checkpoints (name TEXT PRIMARY KEY, position INTEGER NOT NULL);
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
CREATE INDEX IF NOT EXISTS calendar_meeting ON calendar(meeting_id);
CREATE TABLE IF NOT EXISTS history (
  stream TEXT NOT NULL, revision INTEGER NOT NULL, position INTEGER NOT NULL, type TEXT NOT NULL,
  at TEXT NOT NULL, actor TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (stream, revision)
);
CREATE TABLE IF NOT EXISTS people (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS settings (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS series (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
`;

/** Bumped whenever the tables change shape; an older file is emptied and rebuilt from the log on open. */
const READ_MODEL_VERSION = 3;

const resetIfOutdated = (db: Db): void => {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version === READ_MODEL_VERSION) return;
  const tables = db
    .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    .all();
  db.transaction(() => {
    for (const { name } of tables) db.exec(`DROP TABLE "${name.replace(/"/g, '""')}"`);
  })();
  db.pragma(`user_version = ${READ_MODEL_VERSION}`);
};

/** Re-reads each sink's checkpoint after a rolled-back batch, whose in-memory advance never reached the file. */
const resyncs = new WeakMap<Db, Array<() => void>>();

/** A sink whose apply and checkpoint share one transaction, so a crash never half-applies an event. */
export const sqliteSink = (
  db: Db,
  name: string,
  handle: (event: RecordedEvent) => void,
  clear: () => void,
): ProjectionSink => {
  const read = db.prepare<[string], { position: number }>('SELECT position FROM checkpoints WHERE name = ?');
  const write = db.prepare(
    'INSERT INTO checkpoints(name, position) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET position = excluded.position',
  );
  let cached = read.get(name)?.position ?? 0;
  resyncs.set(db, [
    ...(resyncs.get(db) ?? []),
    () => {
      cached = read.get(name)?.position ?? 0;
    },
  ]);
  const applyEvents = (events: ReadonlyArray<RecordedEvent>) => {
    let position = cached;
    for (const event of events) {
      if (event.position <= position) continue;
      handle(event);
      position = event.position;
    }
    if (position !== cached) write.run(name, position);
    return position;
  };
  const applyAll = db.transaction(applyEvents);
  return {
    name,
    checkpoint: () => cached,
    apply: (events) => {
      // Inside the runner's batch transaction already: a savepoint per sink would only add cost.
      cached = db.inTransaction ? applyEvents(events) : applyAll(events);
    },
    reset: db.transaction(() => {
      clear();
      db.prepare('DELETE FROM checkpoints WHERE name = ?').run(name);
      cached = 0;
    }),
  };
};

const meetingTypes = new Set<string>(meetingEventTypes);
const personTypes = new Set(['PersonRegistered', 'PersonUpdated']);
const seriesTypes = new Set<string>(seriesEventTypes);

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
];

export interface SqliteReadModels extends ReadModels {
  readonly db: Db;
  readonly notifications: NotificationReadModel;
}

export const openSqliteReadModels = (path: string): SqliteReadModels => {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // Read models are rebuilt from the log, so they do not need the event store's fsync on every commit.
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  resetIfOutdated(db);
  db.exec(schema);

  const getMeetingStmt = db.prepare<[string], { doc: string }>('SELECT doc FROM meetings WHERE id = ?');
  const putMeeting = db.prepare(
    'INSERT INTO meetings(id, doc, series_id) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc, series_id = excluded.series_id',
  );
  const deleteCalendar = db.prepare('DELETE FROM calendar WHERE meeting_id = ?');
  const putCalendar = db.prepare(
    'INSERT INTO calendar(user_id, meeting_id, role, series_id, title, start, "end", timezone, state, training_type, customer_id, instructor_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)',
  );
  const putHistory = db.prepare(
    'INSERT OR IGNORE INTO history(stream, revision, position, type, at, actor, data) VALUES (?,?,?,?,?,?,?)',
  );
  const putPerson = db.prepare(
    'INSERT INTO people(id, doc) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc',
  );
  const putSettings = db.prepare(
    "INSERT INTO settings(id, doc) VALUES ('global', ?) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc",
  );

  const readMeeting = (id: string): MeetingView | undefined => {
    const row = getMeetingStmt.get(id);
    return row === undefined ? undefined : (JSON.parse(row.doc) as MeetingView);
  };

  const meetingsSink = sqliteSink(
    db,
    'meetings',
    (recorded) => {
      if (!meetingTypes.has(recorded.type)) return;
      const event = decodeOrThrow(MeetingEvent, recorded);
      const view = projectMeetingView(readMeeting(event.data.meetingId), event, recorded);
      if (view === undefined) return;
      putMeeting.run(view.id, JSON.stringify(view), view.seriesId ?? null);
      deleteCalendar.run(view.id);
      for (const entry of calendarEntriesOf(view)) {
        putCalendar.run(
          entry.role === 'customer' ? entry.customerId : entry.instructorId,
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
    },
    () => db.exec('DELETE FROM meetings; DELETE FROM calendar;'),
  );

  const historySink = sqliteSink(
    db,
    'history',
    (recorded) => {
      // Idempotency keys are bookkeeping of requests, with their answers: no one's audit history.
      if (recorded.streamName.startsWith(IDEMPOTENCY_STREAM_PREFIX)) return;
      const data = recorded.data as { at?: unknown; by?: unknown } | null;
      const actorDecoded = Actor.decode(data?.by ?? recorded.metadata.actor);
      const actor = E.isRight(actorDecoded) ? actorDecoded.right : { id: 'unknown', roles: [] };
      const at = typeof data?.at === 'string' ? data.at : recorded.recordedAt;
      putHistory.run(
        recorded.streamName,
        recorded.revision,
        recorded.position,
        recorded.type,
        at,
        JSON.stringify(actor),
        JSON.stringify(recorded.data),
      );
    },
    () => db.exec('DELETE FROM history;'),
  );

  const peopleSink = sqliteSink(
    db,
    'people',
    (recorded) => {
      if (!personTypes.has(recorded.type)) return;
      const event = decodeOrThrow(PersonEvent, recorded);
      const { personId, name, email, timezone, at } = event.data;
      const view: PersonView = {
        id: personId,
        name,
        email,
        ...(timezone !== undefined ? { timezone } : {}),
        updatedAt: at,
      };
      putPerson.run(personId, JSON.stringify(view));
    },
    () => db.exec('DELETE FROM people;'),
  );

  const settingsSink = sqliteSink(
    db,
    'settings',
    (recorded) => {
      if (recorded.type !== 'SettingsChanged') return;
      const event = decodeOrThrow(SettingsEvent, recorded);
      putSettings.run(JSON.stringify(event.data.settings));
    },
    () => db.exec('DELETE FROM settings;'),
  );

  const getSeriesStmt = db.prepare<[string], { doc: string }>('SELECT doc FROM series WHERE id = ?');
  const putSeries = db.prepare(
    'INSERT INTO series(id, doc) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc',
  );
  const seriesMeetingsStmt = db.prepare<[string], { doc: string }>('SELECT doc FROM meetings WHERE series_id = ?');
  const seriesSink = sqliteSink(
    db,
    'series',
    (recorded) => {
      if (!seriesTypes.has(recorded.type)) return;
      const event = decodeOrThrow(SeriesEvent, recorded);
      const row = getSeriesStmt.get(event.data.seriesId);
      const doc = projectSeriesDoc(row === undefined ? undefined : (JSON.parse(row.doc) as SeriesDoc), event, recorded);
      if (doc !== undefined) putSeries.run(doc.id, JSON.stringify(doc));
    },
    () => db.exec('DELETE FROM series;'),
  );
  const meetingsOfSeries = (seriesId: string): MeetingView[] =>
    seriesMeetingsStmt
      .all(seriesId)
      .map((row) => JSON.parse(row.doc) as MeetingView)
      .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.id < b.id ? -1 : 1));

  const calendarStmt = db.prepare<[string, string, string, string]>(`
    SELECT meeting_id, role, series_id, title, start, "end", timezone, state, training_type, customer_id, instructor_id FROM calendar
    WHERE user_id = ? AND start >= ? AND start < ? AND "end" > ?
    ORDER BY start, meeting_id, role`);
  // Rows as arrays: a year's calendar is a thousand rows, and objects per row were most of its cost.
  const calendarRows = calendarStmt.raw(true);
  const personNameStmt = db.prepare<[string], { name: string | null }>(
    "SELECT json_extract(doc, '$.name') AS name FROM people WHERE id = ?",
  );
  const activeStmt = db.prepare<[string, string, string, string], { meeting_id: string }>(`
    SELECT DISTINCT meeting_id FROM calendar
    WHERE user_id = ? AND start >= ? AND start < ? AND "end" > ? AND state != 'cancelled'`);
  const historyStmt = db.prepare<
    [string, number, number],
    { revision: number; position: number; type: string; at: string; actor: string; data: string }
  >(
    'SELECT revision, position, type, at, actor, data FROM history WHERE stream = ? AND revision > ? ORDER BY revision LIMIT ?',
  );
  const personStmt = db.prepare<[string], { doc: string }>('SELECT doc FROM people WHERE id = ?');
  const settingsStmt = db.prepare<[], { doc: string }>("SELECT doc FROM settings WHERE id = 'global'");

  // Meetings last at most 24 hours, so only those starting after from-24h can overlap: keeps the scan on the index.
  const earliestStart = (from: string): string => new Date(Date.parse(from) - MAX_MEETING_MS).toISOString();
  const notifications = openNotificationReadModel(db);
  const feeds = openCalendarFeedReadModel(db);

  return {
    db,
    notifications,
    sinks: [meetingsSink, historySink, peopleSink, settingsSink, seriesSink, notifications.sink, feeds.sink],
    feedOwner: feeds.queries.feedOwner,
    transaction: (work) => {
      try {
        db.transaction(work)();
      } catch (error) {
        for (const resync of resyncs.get(db) ?? []) resync();
        throw error;
      }
    },
    meetingsOfSeries,
    getSeries: (seriesId) => {
      const row = getSeriesStmt.get(seriesId);
      if (row === undefined) return undefined;
      return seriesViewOf(JSON.parse(row.doc) as SeriesDoc, meetingsOfSeries(seriesId));
    },
    getMeeting: readMeeting,
    calendar: (userId, from, to) => {
      // Names are looked up once per counterpart rather than joined into every row: a year has few of them.
      const names = new Map<string, string | undefined>();
      const nameOf = (id: string) => {
        if (!names.has(id)) names.set(id, personNameStmt.get(id)?.name ?? undefined);
        return names.get(id);
      };
      return (calendarRows.all(userId, earliestStart(from), to, from) as unknown as CalendarTuple[]).map(
        ([meetingId, role, seriesId, title, start, end, timezone, state, trainingType, customerId, instructorId]) => {
          const counterpart = nameOf(role === 'customer' ? instructorId : customerId);
          return {
            meetingId,
            ...(seriesId !== null ? { seriesId } : {}),
            title,
            start,
            end,
            timezone,
            state,
            trainingType,
            role,
            customerId,
            instructorId,
            ...(counterpart !== undefined ? { counterpartName: counterpart } : {}),
          };
        },
      );
    },
    activeMeetingsOverlapping: (userIds, from, to) => {
      const ids = new Set<string>();
      for (const userId of userIds) {
        for (const row of activeStmt.all(userId, earliestStart(from), to, from)) ids.add(row.meeting_id);
      }
      return [...ids].map(readMeeting).filter((m): m is MeetingView => m !== undefined);
    },
    history: (streamName, page = { after: -1, limit: -1 }) =>
      historyStmt.all(streamName, page.after, page.limit).map((row) => ({
        revision: row.revision,
        position: row.position,
        type: row.type,
        at: row.at,
        actor: JSON.parse(row.actor) as HistoryEntry['actor'],
        data: JSON.parse(row.data) as unknown,
      })),
    getPerson: (personId) => {
      const row = personStmt.get(personId);
      return row === undefined ? undefined : (JSON.parse(row.doc) as PersonView);
    },
    getSettings: () => {
      const row = settingsStmt.get();
      if (row === undefined) return defaultSettings;
      const decoded = Settings.decode(JSON.parse(row.doc));
      return E.isRight(decoded) ? decoded.right : defaultSettings;
    },
    close: () => db.close(),
  };
};
