import * as person from '../../domain/person.ts';
import { PersonEvent, personEventTypes } from '../../domain/person.ts';
import { personStateOf } from '../../application/people.ts';
import type { RecordedEvent } from '../../application/ports/event-store.ts';
import type { MeetingQueries, PeopleQuery, PersonView, ProjectionSink } from '../../application/ports/read-models.ts';
import { decodeOrThrow, docOf, sqliteSink } from './kit.ts';
import type { Db } from './kit.ts';

// `email_key` and `name_key` are folded to lower case: sign-in and search find a person whatever case they type.
// `roles` is the roles between commas (`,admin,customer,`) and `active` 0 or 1, so the list filters without parsing
// documents, and the directory guard asks `active` alone on every request.
const schema = `
  CREATE TABLE IF NOT EXISTS people (
    id TEXT PRIMARY KEY, doc TEXT NOT NULL, email_key TEXT NOT NULL,
    name_key TEXT NOT NULL, roles TEXT NOT NULL, active INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS people_by_email ON people(email_key);
  CREATE INDEX IF NOT EXISTS people_by_name ON people(name_key, id);
`;

const types = new Set<string>(personEventTypes);

/** People whose answer `getPerson` keeps in memory; past it the memory starts again empty. */
const REMEMBERED_PEOPLE = 10_000;

export interface PeopleReadModel {
  readonly sink: ProjectionSink;
  readonly queries: Pick<
    MeetingQueries,
    'getPerson' | 'personByEmail' | 'peopleWithEmail' | 'listPeople' | 'personActive'
  >;
  /** Only the name, without parsing the whole document: the calendar asks it for every counterpart. */
  readonly personName: (personId: string) => string | undefined;
}

/** The directory of people: each person's current name, email and time zone. */
export const openPeopleReadModel = (db: Db): PeopleReadModel => {
  db.exec(schema);
  const putPerson = db.prepare(
    'INSERT INTO people(id, doc, email_key, name_key, roles, active) VALUES (?, ?, ?, ?, ?, ?) ' +
      'ON CONFLICT(id) DO UPDATE SET doc = excluded.doc, email_key = excluded.email_key, ' +
      'name_key = excluded.name_key, roles = excluded.roles, active = excluded.active',
  );
  const idsByEmailStmt = db.prepare<[string], { id: string }>('SELECT id FROM people WHERE email_key = ? ORDER BY id');
  const list = peopleLister(db);
  const personStmt = db.prepare<[string], { doc: string }>('SELECT doc FROM people WHERE id = ?');
  const byEmailStmt = db.prepare<[string], { doc: string }>(
    'SELECT doc FROM people WHERE email_key = ? ORDER BY id LIMIT 2',
  );
  const personNameStmt = db.prepare<[string], { name: string | null }>(
    "SELECT json_extract(doc, '$.name') AS name FROM people WHERE id = ?",
  );
  // What getPerson answered (null: nobody), by id, until that person's next event is applied or the table is emptied:
  // the directory guard asks for every caller on every request, and a booking for both of its people several times. Only the sink writes the table,
  // and it forgets a person before it writes them, so a rolled-back batch leaves nothing stale here.
  const remembered = new Map<string, PersonView | null>();
  const getPerson = (personId: string): PersonView | undefined => {
    const known = remembered.get(personId);
    if (known !== undefined) return known ?? undefined;
    // Frozen: every caller (a site's access plugin too) gets this one object, and none may change it for the others.
    const view = deepFreeze(docOf<PersonView>(personStmt.get(personId)));
    if (remembered.size >= REMEMBERED_PEOPLE) remembered.clear();
    remembered.set(personId, view ?? null);
    return view;
  };
  const handle = (recorded: RecordedEvent): void => {
    if (!types.has(recorded.type)) return;
    const event = decodeOrThrow(PersonEvent, recorded);
    const { personId, at } = event.data;
    remembered.delete(personId);
    const before = docOf<PersonView>(personStmt.get(personId));
    const state = person.evolve(personStateOf(before), event);
    if (state.status !== 'known') return;
    const view: PersonView = {
      id: state.id,
      name: state.name,
      email: state.email,
      ...(state.timezone !== undefined ? { timezone: state.timezone } : {}),
      ...(state.language !== undefined ? { language: state.language } : {}),
      ...(state.crm !== undefined ? { crm: state.crm } : {}),
      roles: [...state.roles],
      active: state.active,
      updatedAt: at,
    };
    const roles = `,${state.roles.join(',')},`;
    putPerson.run(
      personId,
      JSON.stringify(view),
      emailKey(state.email),
      nameKey(state.name),
      roles,
      state.active ? 1 : 0,
    );
  };
  return {
    sink: sqliteSink(db, 'people', handle, () => {
      db.exec('DELETE FROM people;');
      remembered.clear();
    }),
    queries: {
      getPerson,
      // Two people with one address are no one to sign in as: the address names neither.
      personByEmail: (email) => {
        const rows = byEmailStmt.all(emailKey(email.trim()));
        return rows.length === 1 ? docOf<PersonView>(rows[0]) : undefined;
      },
      peopleWithEmail: (email) => idsByEmailStmt.all(emailKey(email.trim())).map((row) => row.id),
      listPeople: list,
      personActive: (personId) => getPerson(personId)?.active,
    },
    personName: (personId) => personNameStmt.get(personId)?.name ?? undefined,
  };
};

/** A parsed JSON document made read-only all the way down. */
const deepFreeze = <A>(value: A): A => {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
};

/** How an address is compared: its case folded (mail providers treat the local part so, in practice). */
export const emailKey = (email: string): string => email.toLowerCase();
/** How a name is searched and sorted: its case folded. */
const nameKey = (name: string): string => name.toLowerCase();

/** `%`, `_` and the escape itself match only themselves in a LIKE pattern. */
const likePrefix = (text: string): string => `${text.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;

/**
 * The directory's list: ordered by folded name, then id (the index people_by_name), resuming after a cursor's
 * (name key, id); one row more than asked says whether there is a next page.
 */
const peopleLister = (db: Db) => {
  const cache = new Map<
    string,
    ReturnType<typeof db.prepare<unknown[], { doc: string; name_key: string; id: string }>>
  >();
  return (query: PeopleQuery): { items: PersonView[]; next?: { nameKey: string; id: string } } => {
    const where: string[] = [];
    const args: Array<string | number> = [];
    if (query.query !== undefined) {
      const pattern = likePrefix(query.query.toLowerCase());
      where.push("(name_key LIKE ? ESCAPE '\\' OR email_key LIKE ? ESCAPE '\\')");
      args.push(pattern, pattern);
    }
    if (query.role !== undefined) {
      where.push('instr(roles, ?) > 0');
      args.push(`,${query.role},`);
    }
    if (query.active !== undefined) {
      where.push('active = ?');
      args.push(query.active ? 1 : 0);
    }
    if (query.after !== undefined) {
      where.push('(name_key > ? OR (name_key = ? AND id > ?))');
      args.push(query.after.nameKey, query.after.nameKey, query.after.id);
    }
    const sql =
      `SELECT doc, name_key, id FROM people ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ` +
      'ORDER BY name_key, id LIMIT ? + 0';
    let stmt = cache.get(sql);
    if (stmt === undefined) {
      stmt = db.prepare<unknown[], { doc: string; name_key: string; id: string }>(sql);
      cache.set(sql, stmt);
    }
    const rows = stmt.all(...args, query.limit + 1);
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      items: page.map((row) => JSON.parse(row.doc) as PersonView),
      ...(rows.length > query.limit && last !== undefined ? { next: { nameKey: last.name_key, id: last.id } } : {}),
    };
  };
};
