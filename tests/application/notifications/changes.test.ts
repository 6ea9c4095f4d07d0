import { randomUUID } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { createInMemoryEventStore } from '../../../adapters/event-store/memory.ts';
import { createIcsCancellationBuilder } from '../../../adapters/mail/ics.ts';
import { changeWindows } from '../../../application/aggregates.ts';
import { ChangeReaction } from '../../../application/notifications/changes.ts';
import { createRecorder } from '../../../application/execute.ts';
import { createRoundPreparer } from '../../../application/notifications/prepare.ts';
import type { EventStore } from '../../../application/ports/event-store.ts';
import type { PersonView } from '../../../application/ports/read-models.ts';
import { defaultSettings } from '../../../domain/settings.ts';
import { aMeetingScheduled } from '../../support/builders.ts';

/**
 * The change reaction on an in-memory store with its own clock: history is never announced, a change costs a few
 * reads however many windows its subject had, and a change that joins while another node closes the window is sent.
 */

const NOW = Date.parse('2030-03-01T12:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const by = { id: 'ada', roles: ['admin'] };
const WAIT_MS = 20_000;

const waitUntil = async (condition: () => boolean | Promise<boolean>, what: string) => {
  const deadline = Date.now() + WAIT_MS;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

const people: Record<string, PersonView> = {
  cora: { id: 'cora', name: 'Cora', email: 'cora@example.com', roles: [], active: true, updatedAt: iso(NOW) },
  ivan: { id: 'ivan', name: 'Ivan', email: 'ivan@example.com', roles: [], active: true, updatedAt: iso(NOW) },
};

const reactionOn = (
  store: EventStore,
  options: { clock?: () => Date; coalesceSeconds?: number; checkpoints?: Map<string, number> } = {},
) => {
  const checkpoints = options.checkpoints ?? new Map<string, number>();
  const clock = options.clock ?? (() => new Date(NOW));
  return new ChangeReaction({
    store,
    checkpoints: { get: (name) => checkpoints.get(name) ?? 0, set: (name, p) => checkpoints.set(name, p) },
    queries: { getSettings: () => defaultSettings },
    prepare: createRoundPreparer({
      queries: { getSettings: () => defaultSettings, getPerson: (id) => people[id] },
      buildCalendar: createIcsCancellationBuilder({
        publicBaseUrl: 'https://coaching.example.com',
        sender: 'Virtual Y <no-reply@example.com>',
      }),
      config: { siteName: 'Virtual Y', mailFrom: 'Virtual Y <no-reply@example.com>' },
    }),
    schedule: () => {},
    clock,
    newId: randomUUID,
    log: { info: () => {}, warn: () => {}, debug: () => {}, error: () => {} },
    restartDelayMs: 10,
    coalesceSeconds: options.coalesceSeconds ?? 1,
  });
};

const append = async (store: EventStore, stream: string, type: string, data: unknown) => {
  const r = await store.appendToStream(stream, [{ id: randomUUID(), type, data }]);
  if (E.isLeft(r)) throw new Error('append failed');
  return r.right.position;
};

const sessionStart = (day: number) => iso(Date.UTC(2030, 3, 1 + day, 15));

/** A booking made at `at` (the change's own instant), of a session in April 2030. */
const schedule = (
  store: EventStore,
  meetingId: string,
  at: number,
  { day = 1, ...extra }: { day?: number; seriesId?: string } = {},
) =>
  append(
    store,
    `meeting-${meetingId}`,
    'MeetingScheduled',
    aMeetingScheduled(meetingId, sessionStart(day), { at: iso(at), by, ...extra }),
  );

const move = (store: EventStore, meetingId: string, from: string, to: string, at: number) =>
  append(store, `meeting-${meetingId}`, 'MeetingRescheduled', {
    meetingId,
    start: to,
    end: iso(Date.parse(to) + 3_600_000),
    timezone: 'America/New_York',
    previous: { start: from, end: iso(Date.parse(from) + 3_600_000), timezone: 'America/New_York' },
    origin: 'meeting',
    at: iso(at),
    by,
  });

const claims = async (store: EventStore) =>
  (await store.readAll())
    .filter((e) => e.type === 'NotificationRequested')
    .map((e) => e.data as { key: string; meetingIds: string[]; recipient: { personId: string } });

describe('the change reaction', () => {
  it('sends nothing for history on a first start (old changes open no window) and still sends a fresh change', async () => {
    const store = createInMemoryEventStore();
    // A site's history: bookings and a move made days ago, never announced (the follower did not exist then).
    await schedule(store, 'old-1', NOW - 3 * 86_400_000);
    await schedule(store, 'old-2', NOW - 2 * 3_600_000, { day: 2 });
    await move(store, 'old-2', sessionStart(2), sessionStart(3), NOW - 2 * 3_600_000 + 1_000);
    const reaction = reactionOn(store);
    reaction.start();
    try {
      await schedule(store, 'fresh', NOW, { day: 4 });
      await waitUntil(async () => (await claims(store)).length >= 2, 'the fresh booking was claimed');
      const claimed = await claims(store);
      expect(claimed.map((c) => c.meetingIds)).toEqual([['fresh'], ['fresh']]);
      await waitUntil(async () => (await reaction.status()).lag === 0, 'the reaction caught up');
      expect((await store.readAll()).filter((e) => e.streamName.includes('old-'))).toHaveLength(3);
      expect(await claims(store)).toHaveLength(2);
    } finally {
      await reaction.stop();
    }
  });

  it('closes a window recorded before a restart even when the restart comes after it was due', async () => {
    const store = createInMemoryEventStore();
    const checkpoints = new Map<string, number>();
    const first = reactionOn(store, { coalesceSeconds: 600, checkpoints });
    first.start();
    await schedule(store, 'm', NOW);
    await waitUntil(
      async () => (await store.readStream('change-window-meeting-m')).length > 0,
      'the change recorded in its window',
    );
    await first.stop();
    expect(await claims(store)).toHaveLength(0);
    // Restarted 20 minutes later: the window was due 10 minutes ago, the change is within the grace.
    const second = reactionOn(store, { coalesceSeconds: 600, checkpoints, clock: () => new Date(NOW + 1_200_000) });
    second.start();
    try {
      await waitUntil(async () => (await claims(store)).length === 2, 'the open window closed');
      expect((await claims(store)).every((c) => c.meetingIds.join() === 'm')).toBe(true);
    } finally {
      await second.stop();
    }
  });

  it('a change reads only what its window stream gained: many windows on one subject cost the same each', async () => {
    const inner = createInMemoryEventStore();
    let windowEventsRead = 0;
    const store: EventStore = {
      ...inner,
      readStream: async (name, options) => {
        const read = await inner.readStream(name, options);
        if (name.startsWith('change-window-')) windowEventsRead += read.length;
        return read;
      },
    };
    const changes = 40;
    // One series, one booking per 61 s with a 60 s window: every booking is a window of its own.
    const firstAt = NOW - 45 * 60_000;
    for (let i = 0; i < changes; i++)
      await schedule(inner, `s-${i}`, firstAt + i * 61_000, { seriesId: 'long', day: 1 + i });
    const reaction = reactionOn(store, { coalesceSeconds: 60 });
    reaction.start();
    try {
      await waitUntil(async () => (await claims(inner)).length === 2 * changes, 'every window claimed');
      // Each window's stream gains four events (opened, joined, closed, sent); reading them all again for each change
      // would cost about 2·changes² events.
      expect(windowEventsRead).toBeLessThanOrEqual(8 * changes);
      const keys = new Set((await claims(inner)).map((c) => c.key));
      expect(keys.size).toBe(2 * changes);
    } finally {
      await reaction.stop();
    }
  });

  it('a change that joins while another node closes the window is in its email, never lost', async () => {
    const inner = createInMemoryEventStore();
    const nodeB = createRecorder({ store: inner, newId: randomUUID });
    let raced = false;
    // Node B records its change in the window just as this node is about to append the close.
    const store: EventStore = {
      ...inner,
      appendToStream: async (name, events, options) => {
        if (!raced && events.some((e) => e.type === 'ChangeWindowClosed')) {
          raced = true;
          const position = await schedule(inner, 'b', NOW, { seriesId: 'race', day: 2 });
          const recorded = await nodeB.record(changeWindows, 'series-race', {
            type: 'RecordChange',
            data: {
              subject: 'series-race',
              eventId: 'b-event',
              position,
              topic: 'booked',
              meetingId: 'b',
              at: iso(NOW),
              windowSeconds: 1,
              now: iso(NOW),
            },
          });
          expect(E.isRight(recorded)).toBe(true);
        }
        return inner.appendToStream(name, events, options);
      },
    };
    await schedule(inner, 'a', NOW, { seriesId: 'race', day: 1 });
    const reaction = reactionOn(store, { clock: () => new Date(NOW + 5_000) });
    reaction.start();
    try {
      await waitUntil(async () => (await claims(inner)).length >= 2, 'the window claimed');
      await waitUntil(async () => (await reaction.status()).lag === 0, 'the reaction caught up');
      expect(raced).toBe(true);
      const claimed = await claims(inner);
      expect(claimed.map((c) => c.meetingIds)).toEqual([
        ['a', 'b'],
        ['a', 'b'],
      ]);
    } finally {
      await reaction.stop();
    }
  });

  it("keeps its checkpoint before the earliest open window when another node closed an earlier subject's window", async () => {
    const store = createInMemoryEventStore();
    const checkpoints = new Map<string, number>();
    let now = NOW;
    const reaction = reactionOn(store, { coalesceSeconds: 600, checkpoints, clock: () => new Date(now) });
    reaction.start();
    const windowOf = async (id: string) => (await store.readStream(`change-window-meeting-${id}`)).map((e) => e.type);
    try {
      await schedule(store, 'a', NOW);
      const b = await schedule(store, 'b', NOW + 300_000, { day: 2 });
      await waitUntil(async () => (await windowOf('b')).length > 0, "b's window opened");
      // Another node, ten minutes on, closes a's window (due) and leaves b's open (due five minutes later).
      const other = reactionOn(store, { coalesceSeconds: 600, clock: () => new Date(NOW + 700_000) });
      other.start();
      await waitUntil(async () => (await windowOf('a')).includes('ChangeWindowClosed'), "a's window closed there");
      await other.stop();
      // Then a moves: this node opens a's next window while it still holds the first.
      now = NOW + 700_000;
      const before = checkpoints.get('change-notices');
      await move(store, 'a', sessionStart(1), sessionStart(4), NOW + 700_000);
      await waitUntil(() => checkpoints.get('change-notices') !== before, 'the move handled and its checkpoint saved');
      // Held before b's booking, whose window is still open (not at the move, whose window opened last).
      expect(checkpoints.get('change-notices')).toBe(b - 1);
      expect((await windowOf('a')).filter((t) => t === 'ChangeWindowOpened')).toHaveLength(2);
    } finally {
      await reaction.stop();
    }
  });

  it('puts the windows it holds back in log order when one is tracked before another (a replay after a restart)', async () => {
    const reaction = reactionOn(createInMemoryEventStore());
    const openAt = (position: number) => ({
      windows: 1,
      lastPosition: position,
      open: { window: 1, openedAt: iso(NOW), dueAt: iso(NOW + 3_600_000), changes: [] },
    });
    // White-box: the order the reaction tracks windows in, and how far it may then save its checkpoint.
    const inside = reaction as unknown as {
      track(subject: string, state: ReturnType<typeof openAt>, position: number): void;
      advanceHeld(save: boolean): void;
      lastPosition: number;
    };
    try {
      inside.track('meeting-later', openAt(50), 50);
      inside.track('meeting-earlier', openAt(20), 20);
      inside.lastPosition = 60;
      inside.advanceHeld(false);
      expect((await reaction.status()).position).toBe(19);
    } finally {
      await reaction.stop();
    }
  });

  it('a session moved and moved back within the window is not announced as moved', async () => {
    const store = createInMemoryEventStore();
    await schedule(store, 'back', NOW - 3 * 86_400_000); // booked long ago: history
    await schedule(store, 'other', NOW - 3 * 86_400_000, { day: 5 });
    const reaction = reactionOn(store, { coalesceSeconds: 2 });
    reaction.start();
    try {
      await move(store, 'back', sessionStart(1), sessionStart(3), NOW);
      await move(store, 'back', sessionStart(3), sessionStart(1), NOW + 500);
      await move(store, 'other', sessionStart(5), sessionStart(6), NOW + 600);
      await waitUntil(async () => (await claims(store)).length >= 2, 'the real move claimed');
      await waitUntil(async () => (await reaction.status()).lag === 0, 'the reaction caught up');
      await waitUntil(
        async () => (await store.readStream('change-window-meeting-back')).some((e) => e.type === 'ChangeWindowClosed'),
        'the moved-back window closed',
      );
      // Stopping waits for the close under way: whatever it claims is in the store after this.
      await reaction.stop();
      const claimed = await claims(store);
      expect(claimed.map((c) => c.meetingIds)).toEqual([['other'], ['other']]);
    } finally {
      await reaction.stop();
    }
  });
});
