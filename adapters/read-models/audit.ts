import type Database from 'better-sqlite3';
import { auditRecordOf, isAudited } from '../../application/audit-entry.ts';
import type { AuditEntry } from '../../application/audit-entry.ts';
import type { AuditCursor, AuditFilter, AuditQueries } from '../../application/audit.ts';
import type { RecordedEvent } from '../../application/ports/event-store.ts';
import type { ProjectionSink } from '../../application/ports/read-models.ts';
import { sqliteSink } from './kit.ts';
import type { Db } from './kit.ts';

// Entries in (at, position) order for every filter: each index leads with what its filter fixes, then that order,
// so a page is a seek and a short scan however wide the range. `at` is stored as toISOString writes it, so text order
// is time order.
const schema = `
CREATE TABLE IF NOT EXISTS audit (
  position INTEGER PRIMARY KEY, at TEXT NOT NULL, actor_id TEXT NOT NULL, actor_roles TEXT NOT NULL,
  type TEXT NOT NULL, stream TEXT NOT NULL, summary TEXT NOT NULL, data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_at ON audit(at, position);
CREATE INDEX IF NOT EXISTS audit_by_actor ON audit(actor_id, at, position);
CREATE INDEX IF NOT EXISTS audit_by_type ON audit(type, at, position);
CREATE TABLE IF NOT EXISTS audit_people (
  person_id TEXT NOT NULL, at TEXT NOT NULL, position INTEGER NOT NULL, PRIMARY KEY (person_id, at, position)
) WITHOUT ROWID;
`;

interface Row {
  position: number;
  at: string;
  actor_id: string;
  actor_roles: string;
  type: string;
  stream: string;
  summary: string;
  data: string;
}

const entryOf = (row: Row): AuditEntry => ({
  position: row.position,
  at: row.at,
  actor: { id: row.actor_id, roles: JSON.parse(row.actor_roles) as AuditEntry['actor']['roles'] },
  type: row.type,
  stream: row.stream,
  summary: row.summary,
  data: JSON.parse(row.data) as unknown,
});

/** The WHERE clause and its parameters for a filter and a cursor; `t` is the table whose (at, position) orders. */
const conditions = (filter: AuditFilter, after: AuditCursor | undefined, t: string) => {
  const clauses: string[] = [];
  const params: Array<string | number> = [];
  const add = (clause: string, ...values: Array<string | number>) => {
    clauses.push(clause);
    params.push(...values);
  };
  if (filter.personId !== undefined) add('p.person_id = ?', filter.personId);
  if (filter.actor !== undefined) add('a.actor_id = ?', filter.actor);
  if (filter.type !== undefined) add('a.type = ?', filter.type);
  if (filter.from !== undefined) add(`${t}.at >= ?`, filter.from);
  if (filter.to !== undefined) add(`${t}.at < ?`, filter.to);
  if (after !== undefined) add(`(${t}.at, ${t}.position) > (?, ?)`, after.at, after.position);
  return { where: clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '', params };
};

/** With a person, the side table drives (its key is person, at, position); else the entries themselves. */
const fromClause = (filter: AuditFilter): { from: string; t: string } =>
  filter.personId !== undefined
    ? { from: 'audit_people p JOIN audit a ON a.position = p.position', t: 'p' }
    : { from: 'audit a', t: 'a' };

export interface AuditReadModel {
  readonly sink: ProjectionSink;
  readonly queries: AuditQueries;
}

/** The audit log: every event of every audited stream as an entry, and who each one concerns. */
export const openAuditReadModel = (db: Db): AuditReadModel => {
  db.exec(schema);
  const putEntry = db.prepare(
    'INSERT OR IGNORE INTO audit(position, at, actor_id, actor_roles, type, stream, summary, data) VALUES (?,?,?,?,?,?,?,?)',
  );
  const putPerson = db.prepare('INSERT OR IGNORE INTO audit_people(person_id, at, position) VALUES (?,?,?)');
  // One statement per shape of filter, prepared once: their number is bounded by the filters' combinations.
  const statements = new Map<string, Database.Statement>();
  const prepared = (sql: string): Database.Statement => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };

  const handle = (recorded: RecordedEvent): void => {
    if (!isAudited(recorded.streamName)) return;
    const { entry, personIds } = auditRecordOf(recorded);
    const { position, at, actor, type, stream, summary, data } = entry;
    putEntry.run(position, at, actor.id, JSON.stringify(actor.roles), type, stream, summary, JSON.stringify(data));
    for (const personId of personIds) putPerson.run(personId, at, position);
  };

  return {
    sink: sqliteSink(db, 'audit', handle, () => db.exec('DELETE FROM audit; DELETE FROM audit_people;')),
    queries: {
      auditPage: (filter, after, limit) => {
        const { from, t } = fromClause(filter);
        const { where, params } = conditions(filter, after, t);
        const sql = `SELECT a.* FROM ${from} ${where} ORDER BY ${t}.at, ${t}.position LIMIT ? + 0`;
        return (prepared(sql).all(...params, limit) as Row[]).map(entryOf);
      },
      auditCount: (filter, atMost) => {
        const { from, t } = fromClause(filter);
        const { where, params } = conditions(filter, undefined, t);
        const sql = `SELECT count(*) AS n FROM (SELECT 1 FROM ${from} ${where} LIMIT ? + 0)`;
        return (prepared(sql).get(...params, atMost) as { n: number }).n;
      },
    },
  };
};
