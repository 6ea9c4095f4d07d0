import { randomUUID } from 'node:crypto';
import { copyFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../../application/ports/event-store.ts';
import { callTicketStreamName } from '../../../domain/call-ticket.ts';
import { openSqliteReadModels } from '../../../adapters/read-models/index.ts';
import { recordedPeople } from '../../support/builders.ts';
import { tempDir } from '../../support/system.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const log = { position: 0 };
const person = recordedPeople(log);

describe('SQLite read models', () => {
  it('a batch that fails leaves every sink at its last good checkpoint, in memory as on disk', () => {
    const dir = tempDir();
    dirs.push(dir);
    const models = openSqliteReadModels(join(dir, 'rm.db'));
    const good = person('a');
    models.transaction(() => {
      for (const sink of models.sinks) sink.apply([good]);
    });
    const before = models.sinks.map((s) => s.checkpoint());
    const corrupt = { ...person('b'), data: { personId: 'b' } };
    expect(() =>
      models.transaction(() => {
        for (const sink of models.sinks) sink.apply([corrupt]);
      }),
    ).toThrow(/cannot decode PersonRegistered at person-b/);
    expect(models.sinks.map((s) => s.checkpoint())).toEqual(before);
    expect(models.getPerson('b')).toBeUndefined();
    // The same position applies cleanly once the event is readable.
    const fixed = { ...person('b', 'Bea'), position: corrupt.position };
    models.transaction(() => {
      for (const sink of models.sinks) sink.apply([fixed]);
    });
    expect(models.getPerson('b')?.name).toBe('Bea');
    models.close();
  });

  it('answers a person from memory only until their next event, and hands out an entry nobody can change', () => {
    const dir = tempDir();
    dirs.push(dir);
    const models = openSqliteReadModels(join(dir, 'rm.db'));
    const apply = (...events: RecordedEvent[]) =>
      models.transaction(() => {
        for (const sink of models.sinks) sink.apply(events);
      });
    const renamed = (id: string, name: string): RecordedEvent => ({ ...person(id, name), type: 'PersonUpdated' });
    // Asked before they are known: the answer "nobody" must not outlive their registration.
    expect(models.getPerson('ann')).toBeUndefined();
    apply(person('ann', 'Ann'));
    const ann = models.getPerson('ann');
    expect(ann?.name).toBe('Ann');
    expect(Object.isFrozen(ann) && Object.isFrozen(ann?.roles)).toBe(true);
    expect(() => {
      (ann as { name: string }).name = 'Mallory';
    }).toThrow(TypeError);
    expect(models.getPerson('ann')?.name).toBe('Ann');
    apply(renamed('ann', 'Anna'));
    expect(models.getPerson('ann')?.name).toBe('Anna');
    // A batch that renames her and then fails is rolled back: she keeps the name the file keeps.
    const annie = renamed('ann', 'Annie');
    const corrupt = { ...person('bob'), data: { personId: 'bob' } };
    expect(() => apply(annie, corrupt)).toThrow(/cannot decode PersonRegistered at person-bob/);
    expect(models.getPerson('ann')?.name).toBe('Anna');
    const people = models.sinks.find((sink) => sink.name === 'people');
    people?.reset();
    expect(models.getPerson('ann')).toBeUndefined();
    models.close();
  });

  it('passes over redeemed join tickets: every sink moves past them', () => {
    const dir = tempDir();
    dirs.push(dir);
    const models = openSqliteReadModels(join(dir, 'rm.db'));
    const redeemed: RecordedEvent = {
      id: randomUUID(),
      streamName: callTicketStreamName('3q7z0fNrXB5eKhXwpDyZxg'),
      revision: 0,
      position: ++log.position,
      type: 'CallTicketRedeemed',
      recordedAt: new Date().toISOString(),
      metadata: {},
      data: {
        ticketId: '3q7z0fNrXB5eKhXwpDyZxg',
        meetingId: 'm1',
        userId: 'u1',
        role: 'customer',
        redeemedAt: new Date().toISOString(),
      },
    };
    const after = person('d');
    models.transaction(() => {
      for (const sink of models.sinks) sink.apply([redeemed, after]);
    });
    expect(models.sinks.every((s) => s.checkpoint() === after.position)).toBe(true);
    models.close();
  });

  it('counts each user’s feed enables and disables as their feed epoch, which join links carry', () => {
    const dir = tempDir();
    dirs.push(dir);
    const models = openSqliteReadModels(join(dir, 'rm.db'));
    const feed = (type: 'CalendarFeedEnabled' | 'CalendarFeedDisabled', userId: string, revision: number) => ({
      id: randomUUID(),
      streamName: `feed-${userId}`,
      revision,
      position: ++log.position,
      type,
      recordedAt: new Date().toISOString(),
      metadata: {},
      data: {
        userId,
        ...(type === 'CalendarFeedEnabled' ? { tokenHash: 'a'.repeat(64) } : {}),
        at: new Date().toISOString(),
        by: { id: userId, roles: ['customer'] },
      },
    });
    expect(models.feedEpoch('cora')).toBe(0);
    models.transaction(() => {
      for (const sink of models.sinks)
        sink.apply([
          feed('CalendarFeedEnabled', 'cora', 0),
          feed('CalendarFeedDisabled', 'cora', 1),
          feed('CalendarFeedEnabled', 'ivan', 0),
        ]);
    });
    expect(models.feedEpoch('cora')).toBe(2);
    expect(models.feedEpoch('ivan')).toBe(1);
    expect(models.feedOwner('a'.repeat(64))).toBe('ivan');
    models.close();
  });

  it('a file from an older read-model version is emptied on open, so it is rebuilt from the log', () => {
    const dir = tempDir();
    dirs.push(dir);
    const path = join(dir, 'rm.db');
    const models = openSqliteReadModels(path);
    models.transaction(() => {
      for (const sink of models.sinks) sink.apply([person('c')]);
    });
    models.close();
    const raw = new Database(path);
    raw.pragma('user_version = 1');
    raw.close();
    const reopened = openSqliteReadModels(path);
    expect(reopened.getPerson('c')).toBeUndefined();
    expect(reopened.sinks.every((s) => s.checkpoint() === 0)).toBe(true);
    reopened.close();
  });

  it('flushWal leaves the write-ahead log empty and the file alone holding the read models', () => {
    const dir = tempDir();
    dirs.push(dir);
    const path = join(dir, 'rm.db');
    const models = openSqliteReadModels(path);
    models.transaction(() => {
      for (const sink of models.sinks) sink.apply([person('d', 'Dee')]);
    });
    expect(statSync(`${path}-wal`).size).toBeGreaterThan(0);
    models.flushWal();
    expect(statSync(`${path}-wal`).size).toBe(0);
    // The main file on its own, without its -wal, has everything.
    const copy = join(dir, 'copy.db');
    copyFileSync(path, copy);
    models.close();
    const copied = openSqliteReadModels(copy);
    expect(copied.getPerson('d')?.name).toBe('Dee');
    copied.close();
  });
});
