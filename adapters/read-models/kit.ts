import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import { decodeRecorded } from '../../application/decode.ts';
import type { RecordedEvent } from '../../application/ports/event-store.ts';
import type { ProjectionSink } from '../../application/ports/read-models.ts';

/**
 * What every SQLite projection shares: the database file, sinks whose apply and checkpoint commit together, and
 * one transaction across all of them. No projection lives here, so each projection's file can import it.
 */

export type Db = Database.Database;

/** The file every projection's tables live in. */
export const openReadModelDatabase = (path: string, version: number): Db => {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // Read models are rebuilt from the log, so they do not need the event store's fsync on every commit.
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  resetIfOutdated(db, version);
  db.exec('CREATE TABLE IF NOT EXISTS checkpoints (name TEXT PRIMARY KEY, position INTEGER NOT NULL);');
  return db;
};

/** A file of another shape (an older `version`) is emptied, to be rebuilt from the log. */
const resetIfOutdated = (db: Db, version: number): void => {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current === version) return;
  const tables = db
    .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    .all();
  db.transaction(() => {
    for (const { name } of tables) db.exec(`DROP TABLE "${name.replace(/"/g, '""')}"`);
  })();
  db.pragma(`user_version = ${version}`);
};

/** Decodes an event a projection needs; one it cannot read stops the projection rather than being skipped. */
export const decodeOrThrow = <A>(codec: t.Decoder<unknown, A>, recorded: RecordedEvent): A => {
  const decoded = decodeRecorded(codec, recorded);
  if (E.isLeft(decoded)) throw new Error(decoded.left.message);
  return decoded.right;
};

/** A row's JSON document, or undefined when there is no row. */
export const docOf = <A>(row: { readonly doc: string } | undefined): A | undefined =>
  row === undefined ? undefined : (JSON.parse(row.doc) as A);

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

/** Runs work in one transaction across every sink of the file; a rollback puts their checkpoints back too. */
export const runInTransaction = (db: Db, work: () => void): void => {
  try {
    db.transaction(work)();
  } catch (error) {
    for (const resync of resyncs.get(db) ?? []) resync();
    throw error;
  }
};
