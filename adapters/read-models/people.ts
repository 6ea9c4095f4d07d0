import * as person from '../../domain/person.ts';
import { PersonEvent, personEventTypes } from '../../domain/person.ts';
import type { RecordedEvent } from '../../application/ports/event-store.ts';
import type { MeetingQueries, PersonView, ProjectionSink } from '../../application/ports/read-models.ts';
import { decodeOrThrow, docOf, sqliteSink } from './kit.ts';
import type { Db } from './kit.ts';

// `email_key` is the address folded to lower case: sign-in finds a person by it, whatever case they type.
const schema = `
  CREATE TABLE IF NOT EXISTS people (id TEXT PRIMARY KEY, doc TEXT NOT NULL, email_key TEXT NOT NULL);
  CREATE INDEX IF NOT EXISTS people_by_email ON people(email_key);
`;

const types = new Set<string>(personEventTypes);

export interface PeopleReadModel {
  readonly sink: ProjectionSink;
  readonly queries: Pick<MeetingQueries, 'getPerson' | 'personByEmail'>;
  /** Only the name, without parsing the whole document: the calendar asks it for every counterpart. */
  readonly personName: (personId: string) => string | undefined;
}

/** The directory of people: each person's current name, email and time zone. */
export const openPeopleReadModel = (db: Db): PeopleReadModel => {
  db.exec(schema);
  const putPerson = db.prepare(
    'INSERT INTO people(id, doc, email_key) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc, email_key = excluded.email_key',
  );
  const personStmt = db.prepare<[string], { doc: string }>('SELECT doc FROM people WHERE id = ?');
  const byEmailStmt = db.prepare<[string], { doc: string }>(
    'SELECT doc FROM people WHERE email_key = ? ORDER BY id LIMIT 2',
  );
  const personNameStmt = db.prepare<[string], { name: string | null }>(
    "SELECT json_extract(doc, '$.name') AS name FROM people WHERE id = ?",
  );
  const handle = (recorded: RecordedEvent): void => {
    if (!types.has(recorded.type)) return;
    const event = decodeOrThrow(PersonEvent, recorded);
    const { personId, at } = event.data;
    const before = docOf<PersonView>(personStmt.get(personId));
    const state = person.evolve(stateOf(before), event);
    if (state.status !== 'known') return;
    const view: PersonView = {
      id: state.id,
      name: state.name,
      email: state.email,
      ...(state.timezone !== undefined ? { timezone: state.timezone } : {}),
      ...(state.language !== undefined ? { language: state.language } : {}),
      roles: [...state.roles],
      active: state.active,
      updatedAt: at,
    };
    putPerson.run(personId, JSON.stringify(view), emailKey(state.email));
  };
  return {
    sink: sqliteSink(db, 'people', handle, () => db.exec('DELETE FROM people;')),
    queries: {
      getPerson: (personId) => docOf<PersonView>(personStmt.get(personId)),
      // Two people with one address are no one to sign in as: the address names neither.
      personByEmail: (email) => {
        const rows = byEmailStmt.all(emailKey(email.trim()));
        return rows.length === 1 ? docOf<PersonView>(rows[0]) : undefined;
      },
    },
    personName: (personId) => personNameStmt.get(personId)?.name ?? undefined,
  };
};

/** How an address is compared: its case folded (mail providers treat the local part so, in practice). */
export const emailKey = (email: string): string => email.toLowerCase();

const stateOf = (view: PersonView | undefined): person.PersonState =>
  view === undefined
    ? person.initialState()
    : {
        status: 'known',
        id: view.id,
        name: view.name,
        email: view.email,
        ...(view.timezone !== undefined ? { timezone: view.timezone } : {}),
        ...(view.language !== undefined ? { language: view.language } : {}),
        roles: view.roles,
        active: view.active,
      };
