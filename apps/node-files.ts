import { randomBytes, randomUUID } from 'node:crypto';
import { accessSync, constants, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/** Reads a file created once with `create()`; when several processes start at once, the first to create it wins. */
const createOnce = (file: string, create: () => string): string => {
  try {
    writeFileSync(file, create(), { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  let content = readFileSync(file, 'utf8').trim();
  // A winner that has created the file but not yet written it: its write is one syscall away.
  for (let attempt = 0; content === '' && attempt < 50; attempt++) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    content = readFileSync(file, 'utf8').trim();
  }
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
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Claims READ_MODELS_DIR for this process (a `node.lock` file with its pid) and returns the release. A lock left by
 * a process that is gone (killed) is taken over; one held by a live process refuses the start.
 */
export const claimNodeDir = (nodeDir: string): (() => void) => {
  const file = join(nodeDir, 'node.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number(readFileSync(file, 'utf8').trim());
    if (Number.isInteger(holder) && holder > 0 && alive(holder)) {
      throw new ConfigError(
        `READ_MODELS_DIR '${nodeDir}' is in use by process ${holder}; every node needs its own READ_MODELS_DIR (DATA_DIR may be shared)`,
      );
    }
    rmSync(file, { force: true });
  }
  throw new ConfigError(`could not claim READ_MODELS_DIR '${nodeDir}' (node.lock keeps changing)`);
};
