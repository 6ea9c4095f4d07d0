import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { mintToken } from '../../adapters/http/auth.ts';
import { openSqliteEventStore } from '../../adapters/event-store/sqlite.ts';
import { openSqliteReadModels } from '../../adapters/read-models/index.ts';
import { aMeeting } from '../support/builders.ts';
import { TEST_SECRET, tempDir } from '../support/system.ts';
import { startServerProcess } from '../support/server-process.ts';
import type { ServerProcess } from '../support/server-process.ts';

const children: ChildProcessWithoutNullStreams[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Writers at once, each booking for its own pair of people. */
const WRITERS = 6;
/** Acknowledged bookings of each round before its SIGKILL, with the writers' next requests in flight. */
const KILL_AFTER = [4, 15, 30];
/** Reactions keep their own place in the log in this table: not projected, so no rebuild makes it. */
const NOT_PROJECTED = new Set(['reaction_checkpoints']);

type Dump = Record<string, unknown[]>;

/** Every projected table's rows, in one order, and the position the sinks' checkpoints say they hold. */
const dump = (path: string): { tables: Dump; position: number } => {
  const db = new Database(path, { readonly: true });
  try {
    const names = db
      .prepare<[], { name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
      )
      .all()
      .map((row) => row.name)
      .filter((name) => !NOT_PROJECTED.has(name));
    const tables: Dump = {};
    for (const name of names) {
      const rows = db.prepare(`SELECT * FROM "${name}"`).raw(true).all() as unknown[][];
      tables[name] = rows.map((row) => JSON.stringify(row)).sort();
    }
    const positions = db.prepare<[], { position: number }>('SELECT DISTINCT position FROM checkpoints').all();
    // One transaction applies a batch to every sink: a kill leaves them all at one position.
    expect(positions.length).toBeLessThanOrEqual(1);
    return { tables, position: positions[0]?.position ?? 0 };
  } finally {
    db.close();
  }
};

/** A fresh read-model file projected from the log up to `position`, as `npm run projections:rebuild` would. */
const rebuiltTo = async (dataDir: string, position: number, scratch: string): Promise<Dump> => {
  const store = openSqliteEventStore({ path: join(dataDir, 'events.db') });
  const path = join(scratch, `rebuilt-${position}.db`);
  const models = openSqliteReadModels(path);
  try {
    for (let after = 0; after < position;) {
      const batch = (await store.readAll({ after, limit: 500 })).filter((e) => e.position <= position);
      const last = batch[batch.length - 1];
      if (last === undefined) break;
      models.transaction(() => {
        for (const sink of models.sinks) sink.apply(batch);
      });
      after = last.position;
    }
  } finally {
    models.close();
    await store.close();
  }
  return dump(path).tables;
};

/** The node's read-model file as the killed process left it, copied so that opening it changes nothing there. */
const snapshot = (dataDir: string, scratch: string, round: number): string => {
  const copy = join(scratch, `killed-${round}.db`);
  for (const suffix of ['', '-wal']) {
    const file = join(dataDir, `read-models.db${suffix}`);
    if (existsSync(file)) copyFileSync(file, copy + suffix);
  }
  return copy;
};

const expectSameAsRebuild = async (path: string, dataDir: string, scratch: string) => {
  const found = dump(path);
  expect(found.position).toBeGreaterThan(0);
  expect(found.tables).toEqual(await rebuiltTo(dataDir, found.position, scratch));
  return found;
};

const admin = () => mintToken(new TextEncoder().encode(TEST_SECRET), { sub: 'ada', roles: ['admin'] }, 3600);

const call = async (server: ServerProcess, method: string, path: string, token: string, body?: unknown) => {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

/** Until the read models and every follower have caught up with a log that stopped moving. */
const settled = async (server: ServerProcess) => {
  for (let quiet = 0; quiet < 2;) {
    const health = (await (await fetch(`${server.url}/health`)).json()) as {
      node: { caughtUp: boolean };
      projections: Record<string, { lag: number }>;
    };
    quiet = health.node.caughtUp && Object.values(health.projections).every((p) => p.lag === 0) ? quiet + 1 : 0;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
};

describe('read models under kill -9', () => {
  it('a node killed while it projects a stream of writes restarts on its files with the read models a rebuild from the log makes', async () => {
    const dataDir = tempDir();
    const scratch = tempDir();
    dirs.push(dataDir, scratch);
    const token = await admin();
    const acked: string[] = [];
    const refused: unknown[] = [];
    let slot = 0;
    for (const [round, killAfter] of KILL_AFTER.entries()) {
      const server = await startServerProcess(dataDir, children);
      if (round === 0)
        for (let w = 0; w < WRITERS; w++)
          for (const id of [`cust-${w}`, `inst-${w}`])
            expect(
              (await call(server, 'PUT', `/people/${id}`, token, { name: id, email: `${id}@example.com` })).status,
            ).toBe(200);
      const target = acked.length + killAfter;
      let killed = false;
      await Promise.all(
        Array.from({ length: WRITERS }, async (_, w) => {
          while (!killed) {
            const start = Date.UTC(2031, 0, 1) + slot++ * 3_600_000;
            const body = aMeeting({
              title: `Round ${round}`,
              customerId: `cust-${w}`,
              instructorId: `inst-${w}`,
              start: new Date(start).toISOString(),
              end: new Date(start + 1_800_000).toISOString(),
            });
            let created: Awaited<ReturnType<typeof call>>;
            try {
              created = await call(server, 'POST', '/meetings', token, body);
            } catch {
              return; // the kill cut it off
            }
            // Just started, it may still be catching up (503): asked again after a pause.
            if (created.status === 503) {
              await new Promise((resolve) => setTimeout(resolve, 100));
              continue;
            }
            if (created.status !== 201) {
              refused.push(created);
              return;
            }
            try {
              acked.push(created.body.id as string);
              // Every third is cancelled: rows changed in place, not only added.
              if (acked.length % 3 === 0)
                await call(server, 'POST', `/meetings/${created.body.id as string}/cancel`, token, { reason: 'moved' });
            } catch {
              return; // the kill cut it off
            }
            if (acked.length >= target && !killed) {
              killed = true;
              server.child.kill('SIGKILL');
            }
          }
        }),
      );
      expect(refused).toEqual([]);
      expect(await server.ended).toEqual({ code: null, signal: 'SIGKILL' });
      await expectSameAsRebuild(snapshot(dataDir, scratch, round), dataDir, scratch);
    }

    // Restarted on the same files, it catches up and stops cleanly: still what a rebuild makes, every booking in it.
    const last = await startServerProcess(dataDir, children);
    await settled(last);
    last.child.kill('SIGTERM');
    expect((await last.ended).code).toBe(0);
    const final = await expectSameAsRebuild(join(dataDir, 'read-models.db'), dataDir, scratch);
    const meetings = new Set((final.tables.meetings as string[]).map((row) => (JSON.parse(row) as string[])[0]));
    for (const id of acked) expect(meetings.has(id), id).toBe(true);
  }, 300_000);
});
