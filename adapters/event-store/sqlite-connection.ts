import Database from 'better-sqlite3';

/**
 * Opening a connection to the embedded store's file, shared by the store (its reads, and its writes on the main
 * thread) and the commit worker (sqlite-commit-worker.ts), so that both run with the same settings and schema check.
 */

const SCHEMA_VERSION = 1;
export const BUSY_TIMEOUT_MS = 5_000;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS events (
    position    INTEGER PRIMARY KEY AUTOINCREMENT,
    stream_name TEXT    NOT NULL,
    revision    INTEGER NOT NULL,
    event_id    TEXT    NOT NULL UNIQUE,
    type        TEXT    NOT NULL,
    data        TEXT    NOT NULL,
    metadata    TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL,
    UNIQUE (stream_name, revision)
  ) STRICT;
`;

export interface SqliteConnectionSettings {
  readonly journalMode: string;
  readonly synchronous: 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA' | 'UNKNOWN';
  readonly busyTimeoutMs: number;
}

const SYNCHRONOUS_LEVELS: ReadonlyArray<SqliteConnectionSettings['synchronous']> = ['OFF', 'NORMAL', 'FULL', 'EXTRA'];

/** A connection in WAL mode with synchronous=FULL and a busy timeout, the schema created or checked. */
export function openDatabase(path: string): Database.Database {
  const db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
  try {
    configure(db, path);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/**
 * `journal_mode = WAL` on a file another process is creating or holds locked answers SQLITE_BUSY at once, without the
 * busy handler (two nodes starting together on a new file): it is asked again for up to the busy timeout.
 */
function switchToWal(db: Database.Database): unknown {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (;;) {
    try {
      return db.pragma('journal_mode = WAL', { simple: true });
    } catch (error) {
      const busy = error instanceof Database.SqliteError && error.code.startsWith('SQLITE_BUSY');
      if (!busy || Date.now() >= deadline) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 25);
    }
  }
}

function configure(db: Database.Database, path: string): void {
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  const journalMode = switchToWal(db);
  if (journalMode !== 'wal') {
    throw new Error(`Could not switch ${path} to WAL journal mode (got ${String(journalMode)})`);
  }
  db.pragma('synchronous = FULL');
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true });
    if (version === 0) {
      db.exec(SCHEMA);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    } else if (version !== SCHEMA_VERSION) {
      throw new Error(`${path} has event store schema version ${String(version)}; this build knows ${SCHEMA_VERSION}`);
    }
  }).immediate();
}

export function connectionSettingsOf(db: Database.Database): SqliteConnectionSettings {
  const synchronous = db.pragma('synchronous', { simple: true });
  return {
    journalMode: String(db.pragma('journal_mode', { simple: true })),
    synchronous: SYNCHRONOUS_LEVELS[Number(synchronous)] ?? 'UNKNOWN',
    busyTimeoutMs: Number(db.pragma('busy_timeout', { simple: true })),
  };
}
