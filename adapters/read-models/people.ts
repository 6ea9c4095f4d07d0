import { PersonEvent } from '../../domain/person.ts';
import type { RecordedEvent } from '../../application/ports/event-store.ts';
import type { MeetingQueries, PersonView, ProjectionSink } from '../../application/ports/read-models.ts';
import { decodeOrThrow, docOf, sqliteSink } from './kit.ts';
import type { Db } from './kit.ts';

const schema = 'CREATE TABLE IF NOT EXISTS people (id TEXT PRIMARY KEY, doc TEXT NOT NULL);';

const types = new Set(['PersonRegistered', 'PersonUpdated']);

export interface PeopleReadModel {
  readonly sink: ProjectionSink;
  readonly queries: Pick<MeetingQueries, 'getPerson'>;
  /** Only the name, without parsing the whole document: the calendar asks it for every counterpart. */
  readonly personName: (personId: string) => string | undefined;
}

/** The directory of people: each person's current name, email and time zone. */
export const openPeopleReadModel = (db: Db): PeopleReadModel => {
  db.exec(schema);
  const putPerson = db.prepare(
    'INSERT INTO people(id, doc) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc',
  );
  const personStmt = db.prepare<[string], { doc: string }>('SELECT doc FROM people WHERE id = ?');
  const personNameStmt = db.prepare<[string], { name: string | null }>(
    "SELECT json_extract(doc, '$.name') AS name FROM people WHERE id = ?",
  );
  const handle = (recorded: RecordedEvent): void => {
    if (!types.has(recorded.type)) return;
    const event = decodeOrThrow(PersonEvent, recorded);
    const { personId, name, email, timezone, at } = event.data;
    const view: PersonView = { id: personId, name, email, timezone, updatedAt: at };
    putPerson.run(personId, JSON.stringify(view));
  };
  return {
    sink: sqliteSink(db, 'people', handle, () => db.exec('DELETE FROM people;')),
    queries: { getPerson: (personId) => docOf<PersonView>(personStmt.get(personId)) },
    personName: (personId) => personNameStmt.get(personId)?.name ?? undefined,
  };
};
