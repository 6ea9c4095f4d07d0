import { randomBytes, randomUUID } from 'node:crypto';
import { accessSync, constants, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { join, resolve } from 'node:path';
import { ConfigError } from './config.ts';

/**
 * The files a server keeps beside its data. DATA_DIR may be shared by several processes on one host (they share its
 * embedded event store, `events.db`, and in dev mode its generated secret); READ_MODELS_DIR (default DATA_DIR) is
 * one node's own: its read models with their checkpoints, and its node id. A second process on the same
 * READ_MODELS_DIR is refused at start-up, because two writers of one read model would corrupt each other's checkpoints.
 */

export const prepareDir = (name: string, dir: string): string => {
  const path = resolve(dir);
  try {
    mkdirSync(path, { recursive: true });
    accessSync(path, constants.R_OK | constants.W_OK);
  } catch (error) {
    throw new ConfigError(`${name} '${path}' is not a readable and writable directory: ${(error as Error).message}`);
  }
  return path;
};

/**
 * Reads a file created once with `create()`; when several processes start at once, the first to create it wins. The
 * content is written to a file of this process's own and then linked into place, which fails if the name exists: so
 * the file appears whole or not at all, and a crash halfway leaves nothing behind (a file created empty and written
 * afterwards would be read empty by a second process, or left empty by a crash, refusing every later start).
 */
const createOnce = (file: string, create: () => string): string => {
  const own = `${file}.${process.pid}.${randomUUID()}.tmp`;
  writeFileSync(own, create(), { mode: 0o600, flag: 'wx' });
  try {
    linkSync(own, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    rmSync(own, { force: true });
  }
  const content = readFileSync(file, 'utf8').trim();
  if (content === '') throw new ConfigError(`${file} is empty; delete it and start again`);
  return content;
};

/** Dev mode: no configured secret, so one is generated once into DATA_DIR (shared by its processes, never printed). */
export const devSecret = (dataDir: string): Uint8Array =>
  new TextEncoder().encode(createOnce(join(dataDir, 'dev-jwt-secret'), () => randomBytes(32).toString('base64url')));

/**
 * This node's id, kept in READ_MODELS_DIR: an idempotency claim of an earlier process of this node, still unanswered,
 * is one that died with it and is taken over at once (another node's waits for its lease).
 */
export const nodeId = (nodeDir: string): string => createOnce(join(nodeDir, 'node-id'), () => randomUUID());

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** An earlier version's lock, a file with its holder's pid, whose holder is gone: it is removed (true). */
const legacyLockGone = (file: string): boolean => {
  let pid: number;
  try {
    pid = Number(readFileSync(file, 'utf8').trim());
  } catch {
    return true;
  }
  if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) return false;
  rmSync(file, { force: true });
  return true;
};

/** This process's claims, by lock file: a claim it makes again (a system it never closed) takes its own over. */
const held = new Map<string, Database.Database>();

const holderOf = (nodeDir: string, name = 'node.pid'): string => {
  try {
    const pid = readFileSync(join(nodeDir, name), 'utf8').trim();
    return /^\d+$/.test(pid) ? `process ${pid}` : 'another process';
  } catch {
    return 'another process';
  }
};

/**
 * Claims READ_MODELS_DIR for this process and returns the release. The claim is an exclusive SQLite lock on
 * `node.lock`, held open for the life of the claim: the kernel drops it when the process ends, however it ends, so a
 * killed node's directory is free at once, no pid can be mistaken for a holder, and of processes that start at the
 * same instant exactly one gets it (a pid file checked and replaced by its readers let several in). `node.pid` only
 * names the holder in the refusal.
 */
export const claimNodeDir = (nodeDir: string): (() => void) => {
  const file = join(nodeDir, 'node.lock');
  held.get(file)?.close();
  held.delete(file);
  // A wait, not none: of two starting at once, both may hold a read lock on the way to the write lock, and SQLite
  // then refuses one at once and lets the other wait for it to let go; without a wait both would be refused.
  const db = new Database(file, { timeout: 1_000 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    // The first write takes the exclusive lock; in this locking mode it is kept until the connection closes.
    db.exec(`BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL); DELETE FROM holder;
      INSERT INTO holder VALUES (${process.pid}); COMMIT;`);
  } catch (error) {
    db.close();
    const code = (error as { code?: unknown }).code;
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
      throw new ConfigError(
        `READ_MODELS_DIR '${nodeDir}' is in use by ${holderOf(nodeDir)}; every node needs its own READ_MODELS_DIR (DATA_DIR may be shared)`,
      );
    }
    if (code === 'SQLITE_NOTADB' && legacyLockGone(file)) return claimNodeDir(nodeDir);
    if (code === 'SQLITE_NOTADB') {
      throw new ConfigError(
        `READ_MODELS_DIR '${nodeDir}' is in use by ${holderOf(nodeDir, 'node.lock')}; every node needs its own READ_MODELS_DIR (DATA_DIR may be shared)`,
      );
    }
    throw error;
  }
  held.set(file, db);
  writeFileSync(join(nodeDir, 'node.pid'), String(process.pid));
  return () => {
    if (held.get(file) !== db) return;
    held.delete(file);
    rmSync(join(nodeDir, 'node.pid'), { force: true });
    db.close();
  };
};
