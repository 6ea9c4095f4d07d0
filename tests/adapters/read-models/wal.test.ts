import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../../application/ports/event-store.ts';
import { openSqliteReadModels } from '../../../adapters/read-models/index.ts';
import { WAL_CHECKPOINT_BYTES } from '../../../adapters/read-models/kit.ts';
import { recordedPeople } from '../../support/builders.ts';
import { tempDir } from '../../support/system.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const recordedPerson = recordedPeople();
/** A person with a long name, so that a thousand of them write the log several times past its bound. */
const person = (id: string): RecordedEvent => recordedPerson(id, `${id} ${'x'.repeat(600)}`);

const fileSize = (path: string): number => (existsSync(path) ? statSync(path).size : 0);
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const bootId = (): string | undefined =>
  existsSync('/proc/sys/kernel/random/boot_id')
    ? readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
    : undefined;

describe('the read models’ write-ahead log', () => {
  it('stays bounded under a stream of commits, checkpointed between them, and every read stays right', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const path = join(dir, 'rm.db');
    const models = openSqliteReadModels(path);
    const ids = Array.from({ length: 1000 }, (_, i) => `p${String(i).padStart(5, '0')}`);
    let largest = 0;
    let shrank = 0;
    let last = 0;
    let smallestOnceFull = Infinity;
    let databaseGrew = 0;
    for (const id of ids) {
      models.transaction(() => {
        for (const sink of models.sinks) sink.apply([person(id)]);
      });
      const size = fileSize(`${path}-wal`);
      largest = Math.max(largest, size);
      if (size < last) shrank += 1;
      if (largest >= WAL_CHECKPOINT_BYTES) smallestOnceFull = Math.min(smallestOnceFull, size);
      const database = fileSize(path);
      if (database > databaseGrew) databaseGrew = database;
      last = size;
      await nextTurn();
    }
    // The log reached its bound and was cut back several times, yet it never held much more than the bound.
    expect(shrank).toBeGreaterThanOrEqual(3);
    expect(largest).toBeLessThan(WAL_CHECKPOINT_BYTES + 1024 * 1024);
    // Cut back to the bound, not below: a checkpointed log is written again from its start (growing a file costs the
    // kernel block allocations), while the checkpoints moved the pages into the database file.
    expect(smallestOnceFull).toBe(WAL_CHECKPOINT_BYTES);
    expect(databaseGrew).toBeGreaterThan(1024 * 1024);
    for (const id of [ids[0], ids[499], ids[999]] as string[])
      expect(models.getPerson(id)?.name).toBe(`${id} ${'x'.repeat(600)}`);
    expect(models.listPeople({ limit: 10_000 }).items).toHaveLength(ids.length);
    models.close();
    // A clean close leaves the whole file in the database, the log gone.
    expect(fileSize(`${path}-wal`)).toBe(0);
    const raw = new Database(path, { readonly: true });
    expect(raw.prepare('SELECT count(*) AS n FROM people').get()).toEqual({ n: ids.length });
    raw.close();
  });

  it('is checkpointed once the file sees no commit for a while', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const path = join(dir, 'rm.db');
    const models = openSqliteReadModels(path);
    const before = fileSize(path);
    for (let i = 0; i < 50; i++)
      models.transaction(() => {
        for (const sink of models.sinks) sink.apply([person(`idle-${i}`)]);
      });
    expect(fileSize(path)).toBe(before);
    // Eventually, not by a deadline: the checkpoint moves the pages into the database file.
    while (fileSize(path) === before) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(models.getPerson('idle-49')?.email).toBe('idle-49@example.com');
    models.close();
  });

  it('is held by its one connection: the log indexed in memory, no -shm file, any other reader refused until close', () => {
    const dir = tempDir();
    dirs.push(dir);
    const path = join(dir, 'rm.db');
    const models = openSqliteReadModels(path);
    models.transaction(() => {
      for (const sink of models.sinks) sink.apply([person('held')]);
    });
    expect(models.getPerson('held')?.email).toBe('held@example.com');
    expect(existsSync(`${path}-wal`)).toBe(true);
    expect(existsSync(`${path}-shm`)).toBe(false);
    const other = new Database(path, { readonly: true, timeout: 0 });
    expect(() => other.prepare('SELECT count(*) AS n FROM people').get()).toThrow(/locked|busy/i);
    other.close();
    models.close();
    const after = new Database(path, { readonly: true, timeout: 0 });
    expect(after.prepare('SELECT count(*) AS n FROM people').get()).toEqual({ n: 1 });
    after.close();
  });

  it.runIf(bootId() !== undefined)(
    'a file left open by an earlier boot of the machine is discarded, one left by this boot is kept',
    () => {
      const dir = tempDir();
      dirs.push(dir);
      const path = join(dir, 'rm.db');
      const first = openSqliteReadModels(path);
      expect(readFileSync(`${path}-open`, 'utf8')).toBe(bootId());
      first.transaction(() => {
        for (const sink of first.sinks) sink.apply([person('kept')]);
      });
      first.close();
      expect(existsSync(`${path}-open`)).toBe(false);

      // As a process killed in this boot leaves it: its unsynced writes are in the page cache, so the file is whole.
      writeFileSync(`${path}-open`, bootId() as string);
      const second = openSqliteReadModels(path);
      expect(second.getPerson('kept')?.email).toBe('kept@example.com');
      second.close();

      // As the machine going down leaves it: the file may be torn, so it is rebuilt from the log.
      writeFileSync(`${path}-open`, 'an-earlier-boot');
      const third = openSqliteReadModels(path);
      expect(third.getPerson('kept')).toBeUndefined();
      expect(third.sinks.every((s) => s.checkpoint() === 0)).toBe(true);
      third.close();
    },
  );
});
