import { randomUUID } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { createInMemoryEventStore } from '../../../adapters/event-store/memory.ts';
import { createIcsCancellationBuilder } from '../../../adapters/mail/ics.ts';
import { createRoundPreparer } from '../../../application/notifications/prepare.ts';
import { CancellationReaction } from '../../../application/notifications/reaction.ts';
import { AppendTooLargeError } from '../../../application/ports/event-store.ts';
import type { EventStore } from '../../../application/ports/event-store.ts';
import type { PersonView } from '../../../application/ports/read-models.ts';
import { defaultSettings } from '../../../domain/settings.ts';
import { aMeetingScheduled } from '../../support/builders.ts';

const at = '2030-03-01T12:00:00.000Z';
const by = { id: 'ada', roles: ['admin'] };
const WAIT_MS = 20_000;

const waitUntil = async (condition: () => boolean, what: string) => {
  const deadline = Date.now() + WAIT_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

/** A store whose limit refuses every append mentioning POISON, as KurrentDB refuses one over its max append size. */
const limitedStore = (inner: EventStore): EventStore => ({
  ...inner,
  appendToStream: async (streamName, events, options) => {
    if (JSON.stringify(events).includes('POISON')) throw new AppendTooLargeError(streamName, 2_000_000, 1_048_576);
    return inner.appendToStream(streamName, events, options);
  },
});

const scheduleAndCancel = async (store: EventStore, meetingId: string, title: string, day: number) => {
  const start = new Date(Date.UTC(2030, 2, 2 + day, 15)).toISOString();
  const stream = `meeting-${meetingId}`;
  const scheduled = await store.appendToStream(stream, [
    {
      id: randomUUID(),
      type: 'MeetingScheduled',
      data: aMeetingScheduled(meetingId, start, { title, at, by }),
    },
  ]);
  if (E.isLeft(scheduled)) throw new Error('append failed');
  const cancelled = await store.appendToStream(stream, [
    { id: randomUUID(), type: 'SessionCancelled', data: { meetingId, origin: 'meeting', reason: 'ill', at, by } },
  ]);
  if (E.isLeft(cancelled)) throw new Error('append failed');
};

describe('the cancellation reaction', () => {
  it('parks a cancellation whose notices can never be stored, says so, and goes on with the next ones', async () => {
    const inner = createInMemoryEventStore();
    const store = limitedStore(inner);
    const people: Record<string, PersonView> = {
      cora: { id: 'cora', name: 'Cora', email: 'cora@example.com', roles: [], active: true, updatedAt: at },
      ivan: { id: 'ivan', name: 'Ivan', email: 'ivan@example.com', roles: [], active: true, updatedAt: at },
    };
    const errors: Array<{ details: object; message: string }> = [];
    const scheduled: string[] = [];
    const checkpoints = new Map<string, number>();
    const reaction = new CancellationReaction({
      store,
      checkpoints: {
        get: (name) => checkpoints.get(name) ?? 0,
        set: (name, position) => checkpoints.set(name, position),
      },
      queries: { getSettings: () => defaultSettings },
      prepare: createRoundPreparer({
        queries: { getSettings: () => defaultSettings, getPerson: (id) => people[id] },
        buildCalendar: createIcsCancellationBuilder({
          publicBaseUrl: 'https://coaching.example.com',
          sender: 'Virtual Y <no-reply@example.com>',
        }),
        config: { siteName: 'Virtual Y', mailFrom: 'Virtual Y <no-reply@example.com>' },
      }),
      schedule: (notificationId) => scheduled.push(notificationId),
      clock: () => new Date(at),
      newId: randomUUID,
      log: {
        info: () => {},
        warn: () => {},
        debug: () => {},
        error: (details, message) => errors.push({ details, message }),
      },
      restartDelayMs: 10,
    });
    await scheduleAndCancel(inner, 'poisoned', 'POISON', 1);
    await scheduleAndCancel(inner, 'later', 'Strength', 2);
    reaction.start();
    try {
      await waitUntil(() => scheduled.length >= 1, 'the later cancellation was claimed');
      const claimed = (await inner.readAll()).filter((e) => e.type === 'NotificationRequested');
      expect(claimed.map((e) => (e.data as { meetingIds: string[] }).meetingIds)).toEqual([['later']]);
      expect(
        errors.some(
          (e) => /cancellation parked/.test(e.message) && /limit of 1048576 bytes/.test(JSON.stringify(e.details)),
        ),
      ).toBe(true);
      const status = await reaction.status();
      expect(status).toMatchObject({ parked: 1, lag: 0 });
      expect(status).not.toHaveProperty('error');
      expect(reaction.healthy).toBe(true);
    } finally {
      await reaction.stop();
    }
  });
});
