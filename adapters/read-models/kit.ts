import { closeSync, existsSync, fsyncSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
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

/** Past this size of write-ahead log, a commit is followed at once by a checkpoint, however busy the file. */
export const WAL_CHECKPOINT_BYTES = 8 * 1024 * 1024;
/** How long the file sees no commit before its write-ahead log is checkpointed (the runner is idle). */
export const IDLE_CHECKPOINT_MS = 200;

/**
 * The file every projection's tables live in.
 *
 * Its commits are not synced to disk (`synchronous = OFF`): the read models are derived data, rebuilt from the log,
 * and each sink's checkpoint commits in the same transaction as its rows, so whatever a commit holds is consistent
 * and a process killed at any point (kill -9) loses nothing the operating system was handed. What OFF gives up is
 * the machine going down (power loss, kernel panic) before the page cache reached the disk: the file may then be
 * torn, not merely behind. So a marker file beside it (`<path>-open`) holds the boot it was opened in, written
 * durably before the first unsynced write and removed after a clean close has synced everything; a file found still
 * open from an earlier boot is discarded and rebuilt from the log. Where the boot cannot be told (not Linux), commits
 * keep `synchronous = NORMAL`, which in WAL mode syncs only at checkpoints.
 *
 * SQLite's automatic checkpoint (every 1000 pages, inside the commit that crosses it) would run in the middle of a
 * request; here checkpoints run after the runner has been idle for IDLE_CHECKPOINT_MS, or right after the commit
 * that grew the log past WAL_CHECKPOINT_BYTES (see walKeeper). The automatic one stays, four times further, as a
 * backstop for writes that tell no keeper.
 *
 * The file has one connection, this one (a node claims its READ_MODELS_DIR, see apps/node-files.ts), so it is opened
 * in exclusive locking mode: its write-ahead log is indexed in this process's memory instead of a shared-memory file,
 * and a read takes no file lock. In the default mode every read on its own (a booking's conflict check, a meeting
 * looked up) took and released a lock on the `-shm` file, two system calls and a shared-memory check per statement.
 * Another connection, even read-only, is refused until this one closes.
 */
export const openReadModelDatabase = (path: string, version: number): Db => {
  const file = path !== '' && path !== ':memory:' ? path : undefined;
  const boot = file !== undefined ? bootId() : undefined;
  if (file !== undefined && boot !== undefined) claimMarker(file, boot);
  const db = new Database(path);
  // Before the first access in WAL mode: only then does SQLite keep the log's index in memory instead of `-shm`.
  db.pragma('locking_mode = EXCLUSIVE');
  db.pragma('journal_mode = WAL');
  db.pragma(boot !== undefined ? 'synchronous = OFF' : 'synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma(
    `wal_autocheckpoint = ${(4 * WAL_CHECKPOINT_BYTES) / (db.pragma('page_size', { simple: true }) as number)}`,
  );
  // A checkpointed log is cut back to the size that calls for a checkpoint, not below: it is written again from its
  // start, and growing a file costs the kernel block allocations that overwriting it does not.
  db.pragma(`journal_size_limit = ${WAL_CHECKPOINT_BYTES}`);
  resetIfOutdated(db, version);
  db.exec('CREATE TABLE IF NOT EXISTS checkpoints (name TEXT PRIMARY KEY, position INTEGER NOT NULL);');
  if (file !== undefined) keepers.set(db, walKeeper(db, file, boot !== undefined ? `${file}-open` : undefined));
  return db;
};

/** This boot of the machine, as Linux names it; undefined elsewhere. */
const bootId = (): string | undefined => {
  try {
    const id = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return id === '' ? undefined : id;
  } catch {
    return undefined;
  }
};

/** Discards a file left open by an earlier boot, then records durably that this boot has the file open. */
const claimMarker = (file: string, boot: string): void => {
  const marker = `${file}-open`;
  const left = existsSync(marker) ? readFileSync(marker, 'utf8').trim() : undefined;
  if (left !== undefined && left !== boot) {
    for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
  }
  const fd = openSync(marker, 'w');
  try {
    writeFileSync(fd, boot);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  const dir = openSync(dirname(marker), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
};

interface WalKeeper {
  /** A transaction committed: checkpoint once idle, or now if the log grew past its bound. */
  committed(): void;
  /** Every page into the database file, synced, and the log emptied (`flushWal`). */
  flush(): void;
  close(): void;
}

const keepers = new WeakMap<Db, WalKeeper>();

/**
 * When the file's write-ahead log is moved into the database: PASSIVE checkpoints, which never wait for a reader,
 * after IDLE_CHECKPOINT_MS without a commit (the timer does not keep the process alive), or in the turn after the
 * commit that grew the log past WAL_CHECKPOINT_BYTES, so that no request's commit pays for it.
 */
const walKeeper = (db: Db, file: string, marker: string | undefined): WalKeeper => {
  let idle: NodeJS.Timeout | undefined;
  let soon: NodeJS.Immediate | undefined;
  // The log's size at the last checkpoint. SQLite writes a checkpointed log again from its start, so the file only
  // grows past this once it holds that much since: growth past it, and past the bound, calls for the next one.
  let checkpointedAt = 0;
  const walBytes = (): number => {
    try {
      return statSync(`${file}-wal`).size;
    } catch {
      return 0;
    }
  };
  const passive = (): void => {
    if (soon !== undefined) clearImmediate(soon);
    soon = undefined;
    if (db.open && !db.inTransaction) {
      db.pragma('wal_checkpoint(PASSIVE)');
      checkpointedAt = walBytes();
    }
  };
  const flush = (): boolean => {
    db.pragma('synchronous = FULL');
    try {
      const [result] = db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
      checkpointedAt = walBytes();
      return result?.busy === 0;
    } finally {
      db.pragma(marker !== undefined ? 'synchronous = OFF' : 'synchronous = NORMAL');
    }
  };
  return {
    committed: () => {
      if (idle === undefined) {
        idle = setTimeout(passive, IDLE_CHECKPOINT_MS);
        idle.unref();
      } else idle.refresh();
      if (soon !== undefined) return;
      const size = walBytes();
      if (size >= WAL_CHECKPOINT_BYTES && size > checkpointedAt) soon = setImmediate(passive);
    },
    flush: () => {
      flush();
    },
    close: () => {
      if (idle !== undefined) clearTimeout(idle);
      if (soon !== undefined) clearImmediate(soon);
      const synced = db.open && flush();
      db.close();
      // Still open in the marker's eyes unless every page is synced into the file.
      if (synced && marker !== undefined) rmSync(marker, { force: true });
    },
  };
};

/** Tells the file's keeper that a transaction committed outside `runInTransaction`. */
const committed = (db: Db): void => keepers.get(db)?.committed();

/** Moves what the write-ahead log holds into the database file, synced, and empties the log. */
export const flushReadModelWal = (db: Db): void => {
  const keeper = keepers.get(db);
  if (keeper !== undefined) keeper.flush();
  else db.pragma('wal_checkpoint(TRUNCATE)');
};

/** Closes the file cleanly: synced and checkpointed, its marker removed. */
export const closeReadModelDatabase = (db: Db): void => {
  const keeper = keepers.get(db);
  if (keeper !== undefined) keeper.close();
  else db.close();
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
  const applyInOwnTransaction = db.transaction(applyEvents);
  const applyAll = (events: ReadonlyArray<RecordedEvent>) => {
    const position = applyInOwnTransaction(events);
    committed(db);
    return position;
  };
  return {
    name,
    checkpoint: () => cached,
    apply: (events) => {
      // Inside the runner's batch transaction already: a savepoint per sink would only add cost.
      cached = db.inTransaction ? applyEvents(events) : applyAll(events);
    },
    reset: () => {
      db.transaction(() => {
        clear();
        db.prepare('DELETE FROM checkpoints WHERE name = ?').run(name);
        cached = 0;
      })();
      committed(db);
    },
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
  committed(db);
};
