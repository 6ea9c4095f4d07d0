import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { isLeft, isRight } from 'fp-ts/lib/Either.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventToAppend, RecordedEvent } from '../../../application/ports/event-store.ts';
import { openSqliteEventStore } from '../../../adapters/event-store/sqlite.ts';
import type { SqliteCommitSite, SqliteEventStore } from '../../../adapters/event-store/sqlite.ts';
import { runEventStoreContract } from './contract.ts';
import { runEmbeddedStoreBehaviour } from './embedded-behaviour.ts';

const POLL_INTERVAL_MS = 25;
const projectRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** A fresh directory per fixture; every store opened on it is closed, then the directory removed. */
function sqliteFixture(commitOn: SqliteCommitSite, now?: () => Date) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'event-store-'));
  const file = path.join(dir, 'events.sqlite');
  const opened: SqliteEventStore[] = [];
  const open = (): SqliteEventStore => {
    const store = openSqliteEventStore({
      path: file,
      pollIntervalMs: POLL_INTERVAL_MS,
      commitOn,
      ...(now ? { now } : {}),
    });
    opened.push(store);
    return store;
  };
  return {
    dir,
    file,
    open,
    cleanup: async () => {
      for (const store of opened) await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function event(data: unknown = {}, id: string = randomUUID()): EventToAppend {
  return { id, type: 'Tested', data };
}

async function waitUntil(condition: () => boolean, description: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting until ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

for (const commitOn of ['main-thread', 'worker'] as const) {
  runEventStoreContract(`sqlite (commit on ${commitOn})`, async () => {
    const fixture = sqliteFixture(commitOn);
    return {
      store: fixture.open(),
      reopen: async () => fixture.open(),
      secondConnection: async () => fixture.open(),
      cleanup: fixture.cleanup,
    };
  });

  runEmbeddedStoreBehaviour(`sqlite (commit on ${commitOn})`, async (options) => {
    const fixture = sqliteFixture(commitOn, options.now);
    return { store: fixture.open(), cleanup: fixture.cleanup };
  });

  describe(`SQLite event store (commit on ${commitOn})`, () => {
    const fixtures: Array<ReturnType<typeof sqliteFixture>> = [];
    const newFixture = (now?: () => Date) => {
      const fixture = sqliteFixture(commitOn, now);
      fixtures.push(fixture);
      return fixture;
    };
    afterEach(async () => {
      for (const fixture of fixtures.splice(0)) await fixture.cleanup();
    });

    it('runs in WAL mode with synchronous=FULL and a busy timeout', () => {
      const fixture = newFixture();
      const store = fixture.open();
      expect(store.connectionSettings()).toEqual({ journalMode: 'wal', synchronous: 'FULL', busyTimeoutMs: 5_000 });

      const raw = new Database(fixture.file, { readonly: true });
      try {
        expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
        expect(raw.pragma('user_version', { simple: true })).toBe(1);
      } finally {
        raw.close();
      }
    });

    it('keeps its events in the file across a reopen and continues the positions', async () => {
      const fixture = newFixture();
      const first = fixture.open();
      const appended = [event({ n: 1 }), event({ n: 2 })];
      expect(isRight(await first.appendToStream('durable', appended, { expectedRevision: 'no_stream' }))).toBe(true);
      await first.close();
      expect(fs.statSync(fixture.file).size).toBeGreaterThan(0);

      const second = fixture.open();
      const read = await second.readStream('durable');
      expect(read.map((e) => e.id)).toEqual(appended.map((e) => e.id));
      expect(read.map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }]);
      expect(await second.headPosition()).toBe(2);
      const next = await second.appendToStream('durable', [event()], { expectedRevision: 1 });
      expect(next).toEqual({ _tag: 'Right', right: { nextExpectedRevision: 2, position: 3 } });
    });

    it('commits appends made in the same tick in one transaction, and a lone append in its own', async () => {
      let clockReads = 0;
      const fixture = newFixture(() => {
        clockReads++;
        return new Date('2030-05-06T07:08:09.000Z');
      });
      const store = fixture.open();

      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          store.appendToStream(`group-${i}`, [event({ i })], { expectedRevision: 'no_stream' }),
        ),
      );
      // The clock is read once per transaction.
      expect(clockReads).toBe(1);
      const positions = results.map((result) => {
        if (isLeft(result)) throw new Error(`append failed: ${JSON.stringify(result.left)}`);
        expect(result.right.nextExpectedRevision).toBe(0);
        return result.right.position;
      });
      expect(new Set(positions).size).toBe(100);
      expect([...positions].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
      const all = await store.readAll();
      expect(all.map((e) => e.streamName)).toEqual(Array.from({ length: 100 }, (_, i) => `group-${i}`));

      expect(isRight(await store.appendToStream('lone', [event()]))).toBe(true);
      expect(clockReads).toBe(2);
      expect(isRight(await store.appendToStream('lone', [event()]))).toBe(true);
      expect(clockReads).toBe(3);
    });

    it('applies each append of a group on its own: conflicts and failures do not affect the others', async () => {
      const fixture = newFixture();
      const store = fixture.open();
      const used = event();
      expect(isRight(await store.appendToStream('taken', [used]))).toBe(true);

      const [ok1, conflict, duplicate, sameStreamFirst, sameStreamSecond, ok2] = await Promise.allSettled([
        store.appendToStream('a', [event(), event()], { expectedRevision: 'no_stream' }),
        store.appendToStream('taken', [event()], { expectedRevision: 'no_stream' }),
        store.appendToStream('b', [event(), used]),
        store.appendToStream('c', [event()], { expectedRevision: 'no_stream' }),
        store.appendToStream('c', [event()], { expectedRevision: 0 }),
        store.appendToStream('d', [event(), event(), event()]),
      ]);
      expect(ok1).toEqual({
        status: 'fulfilled',
        value: { _tag: 'Right', right: { nextExpectedRevision: 1, position: 3 } },
      });
      expect(conflict).toMatchObject({ status: 'fulfilled', value: { _tag: 'Left', left: { actual: 0 } } });
      expect(duplicate.status).toBe('rejected');
      expect(sameStreamFirst).toEqual({
        status: 'fulfilled',
        value: { _tag: 'Right', right: { nextExpectedRevision: 0, position: 4 } },
      });
      expect(sameStreamSecond).toEqual({
        status: 'fulfilled',
        value: { _tag: 'Right', right: { nextExpectedRevision: 1, position: 5 } },
      });
      expect(ok2).toEqual({
        status: 'fulfilled',
        value: { _tag: 'Right', right: { nextExpectedRevision: 2, position: 8 } },
      });

      const all = await store.readAll();
      expect(all.map((e) => e.position)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(all.map((e) => e.streamName)).toEqual(['taken', 'a', 'a', 'c', 'c', 'd', 'd', 'd']);
    });

    it('keeps positions gap-free and revisions contiguous under concurrent writers on two connections', async () => {
      const fixture = newFixture();
      const [one, two] = [fixture.open(), fixture.open()];
      const rounds = 20;
      for (let round = 0; round < rounds; round++) {
        const results = await Promise.all([
          one.appendToStream('shared', [event(), event()]),
          two.appendToStream('shared', [event()]),
          one.appendToStream(`one-${round}`, [event()]),
          two.appendToStream(`two-${round}`, [event(), event()]),
        ]);
        expect(results.every(isRight)).toBe(true);
      }
      const all = await two.readAll();
      expect(all.map((e) => e.position)).toEqual(Array.from({ length: rounds * 6 }, (_, i) => i + 1));
      const shared = await one.readStream('shared');
      expect(shared.map((e) => e.revision)).toEqual(Array.from({ length: rounds * 3 }, (_, i) => i));
    });

    it('delivers, in order, events appended by another process to the same file', async () => {
      const fixture = newFixture();
      const store = fixture.open();
      const received: RecordedEvent[] = [];
      const errors: unknown[] = [];
      const subscription = store.subscribeToAll(
        {},
        (recorded) => {
          received.push(recorded);
        },
        (error) => errors.push(error),
      );

      const script = path.join(fixture.dir, 'child-writer.mts');
      fs.writeFileSync(
        script,
        [
          `import { randomUUID } from 'node:crypto';`,
          `import { openSqliteEventStore } from ${JSON.stringify(path.join(projectRoot, 'adapters/event-store/sqlite.ts'))};`,
          `const store = openSqliteEventStore({ path: process.argv[2] });`,
          `for (let i = 0; i < 40; i++) {`,
          `  const result = await store.appendToStream('child', [{ id: randomUUID(), type: 'Child', data: { i } }], {`,
          `    expectedRevision: i === 0 ? 'no_stream' : i - 1,`,
          `  });`,
          `  if (result._tag !== 'Right') throw new Error('append ' + i + ' failed: ' + JSON.stringify(result.left));`,
          `}`,
          `await store.close();`,
        ].join('\n'),
      );
      try {
        const child = promisify(execFile)(process.execPath, ['--import', 'tsx', script, fixture.file], {
          cwd: projectRoot,
        });
        for (let i = 0; i < 40; i++) {
          expect(isRight(await store.appendToStream('parent', [event({ i })]))).toBe(true);
        }
        await child;

        await waitUntil(() => received.length >= 80, 'all 80 events were delivered');
        expect(errors).toEqual([]);
        expect(received.map((e) => e.position)).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
        for (const stream of ['child', 'parent']) {
          const ofStream = received.filter((e) => e.streamName === stream);
          expect(ofStream.map((e) => (e.data as { i: number }).i)).toEqual(Array.from({ length: 40 }, (_, i) => i));
          expect(ofStream.map((e) => e.revision)).toEqual(Array.from({ length: 40 }, (_, i) => i));
        }
      } finally {
        await subscription.stop();
      }
    });

    it('names the stream and position of a row it cannot decode', async () => {
      const fixture = newFixture();
      const store = fixture.open();
      expect(isRight(await store.appendToStream('fine', [event()]))).toBe(true);
      expect(isRight(await store.appendToStream('booking-7', [event({ ok: true }), event()]))).toBe(true);

      const raw = new Database(fixture.file);
      try {
        raw.prepare(`UPDATE events SET data = '{"ok": tru' WHERE position = 2`).run();
        raw.prepare(`UPDATE events SET metadata = '{"actor": "not-an-actor"}' WHERE position = 3`).run();
      } finally {
        raw.close();
      }

      const corruptData = /booking-7.*position 2|position 2.*booking-7/;
      await expect(store.readAll()).rejects.toThrow(corruptData);
      await expect(store.readStream('booking-7')).rejects.toThrow(corruptData);
      await expect(store.readStream('booking-7', { fromRevision: 1 })).rejects.toThrow(
        /position 3.*booking-7.*metadata/,
      );
      expect(await store.readStream('fine')).toHaveLength(1);

      const errors: unknown[] = [];
      const received: RecordedEvent[] = [];
      const subscription = store.subscribeToAll(
        {},
        (recorded) => {
          received.push(recorded);
        },
        (error) => errors.push(error),
      );
      try {
        await waitUntil(() => errors.length > 0, 'the subscription reported the corrupt row');
        expect(String(errors[0])).toMatch(corruptData);
        expect(received).toEqual([]);
      } finally {
        await subscription.stop();
      }
    });

    it('refuses a file written by a newer schema', () => {
      const fixture = newFixture();
      const raw = new Database(fixture.file);
      raw.pragma('user_version = 99');
      raw.close();
      expect(() => fixture.open()).toThrow(/schema version 99/);
    });

    it('rejects a non-positive poll interval', () => {
      const fixture = newFixture();
      expect(() => openSqliteEventStore({ path: fixture.file, pollIntervalMs: 0, commitOn })).toThrow(RangeError);
    });
  });
}
