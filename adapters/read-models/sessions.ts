import { SessionEvent, sessionEventTypes } from '../../domain/session.ts';
import { assertNever } from '../../domain/shared.ts';
import type { ProjectionSink, SessionQueries } from '../../application/ports/read-models.ts';
import { decodeOrThrow, sqliteSink } from './kit.ts';
import type { Db } from './kit.ts';

const schema = `
CREATE TABLE IF NOT EXISTS sessions (
  session_id TEXT PRIMARY KEY, person_id TEXT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sessions_person ON sessions(person_id, revoked);
`;

const types = new Set<string>(sessionEventTypes);

export interface SessionReadModel {
  readonly sink: ProjectionSink;
  readonly queries: SessionQueries;
}

/** Which session families exist and which are revoked: what the authenticator asks of a token's `sid`. */
export const openSessionReadModel = (db: Db): SessionReadModel => {
  db.exec(schema);
  const started = db.prepare('INSERT INTO sessions(session_id, person_id) VALUES (?, ?) ON CONFLICT DO NOTHING');
  const revoke = db.prepare(
    'INSERT INTO sessions(session_id, person_id, revoked) VALUES (?, ?, 1) ON CONFLICT(session_id) DO UPDATE SET revoked = 1',
  );
  const revoked = db.prepare<[string], { revoked: number }>('SELECT revoked FROM sessions WHERE session_id = ?');
  const active = db.prepare<[string], { session_id: string }>(
    'SELECT session_id FROM sessions WHERE person_id = ? AND revoked = 0',
  );

  const sink = sqliteSink(
    db,
    'sessions',
    (recorded) => {
      if (!types.has(recorded.type)) return;
      const event = decodeOrThrow(SessionEvent, recorded);
      switch (event.type) {
        case 'SessionStarted':
          started.run(event.data.sessionId, event.data.personId);
          return;
        case 'SessionRefreshed':
          return;
        case 'SessionRevoked':
          revoke.run(event.data.sessionId, event.data.personId);
          return;
        default:
          return assertNever(event);
      }
    },
    () => db.exec('DELETE FROM sessions;'),
  );

  return {
    sink,
    queries: {
      sessionRevoked: (sessionId) => revoked.get(sessionId)?.revoked === 1,
      activeSessionsOf: (personId) => active.all(personId).map((row) => row.session_id),
    },
  };
};
