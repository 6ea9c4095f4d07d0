import * as E from 'fp-ts/lib/Either.js';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createInMemoryEventStore } from '../../adapters/event-store/memory.ts';
import { openSqliteEventStore } from '../../adapters/event-store/sqlite.ts';
import { MultiStreamAppendUnsupportedError } from '../../application/ports/event-store.ts';
import type { EventStore } from '../../application/ports/event-store.ts';
import { aMeeting, aSeriesBody } from '../support/builders.ts';
import {
  activeMeetings,
  activeReservations,
  allEvents,
  doubleBookings,
  scheduleMismatch,
  withoutMultiStreamAppend,
} from '../support/bookings.ts';
import { startTestSystem, tempDir } from '../support/system.ts';
import type { Client, TestSystem } from '../support/system.ts';

/**
 * Two nodes in one process on one event store, each with its own read models and its own booking lock (as two API
 * nodes on one KurrentDB, or two processes on one SQLite file): only the schedule streams stand between colliding
 * bookings sent to different nodes. Both paths: the atomic multi-stream append, and the saga of a store without one.
 */

const running: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of running.splice(0).reverse()) await stop();
});

const PEOPLE = ['ivan', 'iris', 'cora', 'cam', 'cleo', 'carl'];

/** Nodes on one store; the store is closed once, after them. */
const nodes = async (inner: EventStore, count = 2): Promise<TestSystem[]> => {
  const shared: EventStore = { ...inner, close: async () => {} };
  running.push(() => inner.close());
  const started: TestSystem[] = [];
  for (let i = 0; i < count; i++) {
    const node = await startTestSystem({
      system: { store: shared },
      env: { SCHEDULE_RESERVATION_GRACE_SECONDS: '1' },
    });
    running.push(() => node.destroy());
    started.push(node);
  }
  await started[0]?.people(...PEOPLE);
  for (const node of started) await node.system.projections.waitFor(await inner.headPosition());
  return started;
};

const stores: Array<[string, () => EventStore]> = [
  ['memory, atomic', () => createInMemoryEventStore()],
  ['SQLite, atomic', () => openSqliteEventStore({ path: join(tempDir(), 'events.db') })],
  ['memory, saga', () => withoutMultiStreamAppend(createInMemoryEventStore())],
];

const hour = (day: number, h: number) => ({
  start: new Date(Date.UTC(2031, 2, day, h)).toISOString(),
  end: new Date(Date.UTC(2031, 2, day, h + 1)).toISOString(),
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const eventually = async (check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> => {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await pause(50);
  }
};

/**
 * No double booking, and the schedules hold exactly the active meetings' slots: at once where appends are atomic; on
 * the saga path a release that lost a race may be left to the reaction, so extra reservations are waited out there.
 */
const expectConsistent = async (store: EventStore) => {
  const events = await allEvents(store);
  expect(doubleBookings(activeMeetings(events))).toEqual([]);
  expect(scheduleMismatch(events).missing).toEqual([]);
  if (!(await store.supportsMultiStreamAppend()))
    await eventually(async () => scheduleMismatch(await allEvents(store)).extra.length === 0, 'no stray reservation');
  expect(scheduleMismatch(await allEvents(store))).toEqual({ missing: [], extra: [] });
};

/** Exactly one of a colliding pair is booked; the other is the 409 naming the slot asked for. */
const expectOneWins = (answers: ReadonlyArray<{ status: number; body: any }>, slot: { start: string; end: string }) => {
  expect(answers.map((a) => a.status).sort()).toEqual([201, 409]);
  const refused = answers.find((a) => a.status === 409);
  expect(refused?.body.conflicts.length).toBeGreaterThan(0);
  for (const c of refused?.body.conflicts ?? []) {
    expect(c.userId).toBe('ivan');
    expect(new Date(c.slot.start).toISOString()).toBe(slot.start);
    expect(new Date(c.slot.end).toISOString()).toBe(slot.end);
  }
};

describe.each(stores)('bookings across two nodes (%s)', (_name, open) => {
  it('of colliding bookings sent to different nodes at once, in a burst and with small offsets, one wins', async () => {
    const store = open();
    const [a, b] = await nodes(store);
    const [adminA, adminB] = [await a!.as('ada', ['admin']), await b!.as('ada', ['admin'])];
    const pairs = Array.from({ length: 30 }, (_, i) => hour(2 + Math.floor(i / 10), 8 + (i % 10)));
    const answers = await Promise.all(
      pairs.map(async (slot, i) => {
        const offset = i % 3 === 0 ? 0 : i % 20;
        return Promise.all([
          adminA.request('POST', '/meetings', aMeeting({ customerId: 'cora', ...slot })),
          pause(offset).then(() => adminB.request('POST', '/meetings', aMeeting({ customerId: 'cam', ...slot }))),
        ]);
      }),
    );
    for (const [i, pair] of answers.entries()) expectOneWins(pair, pairs[i]!);
    await expectConsistent(store);
  }, 60_000);

  it('moves and reinstatements collide like bookings; a cancellation frees the slot for the other node', async () => {
    const store = open();
    const [a, b] = await nodes(store);
    const [adminA, adminB] = [await a!.as('ada', ['admin']), await b!.as('ada', ['admin'])];
    const x = await adminA.request('POST', '/meetings', aMeeting({ customerId: 'cora', ...hour(10, 9) }));
    const y = await adminB.request('POST', '/meetings', aMeeting({ customerId: 'cam', ...hour(10, 11) }));
    expect([x.status, y.status]).toEqual([201, 201]);
    await b!.system.projections.waitFor(await store.headPosition());
    const target = hour(10, 14);
    const moves = await Promise.all([
      adminA.request('PATCH', `/meetings/${x.body.id}`, target),
      adminB.request('PATCH', `/meetings/${y.body.id}`, target),
    ]);
    expect(moves.map((m) => m.status).sort()).toEqual([200, 409]);
    await expectConsistent(store);

    // The winner cancels on one node; the slot is free on the other at once (read-your-writes of the schedule).
    const winner = moves[0]!.status === 200 ? x : y;
    const loser = moves[0]!.status === 200 ? y : x;
    expect((await adminA.request('POST', `/meetings/${winner.body.id}/cancel`, {})).status).toBe(200);
    expect((await adminB.request('PATCH', `/meetings/${loser.body.id}`, target)).status).toBe(200);
    // Bringing the cancelled one back would double-book: refused on either node.
    for (const admin of [adminA, adminB])
      expect((await admin.request('POST', `/meetings/${winner.body.id}/reinstate`, {})).status).toBe(409);
    await expectConsistent(store);
  }, 60_000);

  it('a series and single meetings on its sessions, sent to different nodes at once: never both', async () => {
    const store = open();
    const [a, b] = await nodes(store);
    const [adminA, adminB] = [await a!.as('ada', ['admin']), await b!.as('ada', ['admin'])];
    for (let round = 0; round < 4; round++) {
      const startDate = `2032-0${round + 1}-05`;
      // A weekly series of four at 10:00 UTC; a single meeting on its second session, through the other node.
      const second = new Date(Date.parse(`${startDate}T10:00:00Z`) + 7 * 86_400_000);
      const single = { start: second.toISOString(), end: new Date(second.getTime() + 3_600_000).toISOString() };
      const [seriesAnswer, singleAnswer] = await Promise.all([
        (round % 2 === 0 ? adminA : adminB).request(
          'POST',
          '/series',
          aSeriesBody({ customerId: 'cora', startDate, rrule: 'FREQ=WEEKLY;COUNT=4' }),
        ),
        (round % 2 === 0 ? adminB : adminA).request('POST', '/meetings', aMeeting({ customerId: 'cam', ...single })),
      ]);
      expect([seriesAnswer.status, singleAnswer.status].sort()).toEqual([201, 409]);
    }
    await expectConsistent(store);
  }, 60_000);
});

describe.each(stores)('series on the schedules (%s)', (_name, open) => {
  it('recurrence changes move the reservations with the sessions, onto siblings too; a cancellation frees them', async () => {
    const store = open();
    const [a, b] = await nodes(store);
    const [adminA, adminB] = [await a!.as('ada', ['admin']), await b!.as('ada', ['admin'])];
    const created = await adminA.request(
      'POST',
      '/series',
      aSeriesBody({ customerId: 'cora', startDate: '2033-03-07', rrule: 'FREQ=WEEKLY;COUNT=6' }),
    );
    expect(created.status).toBe(201);
    await expectConsistent(store);
    // Later in the day, then a week later (each session onto the slot of the next one), then longer.
    for (const patch of [{ startTime: '14:00' }, { startDate: '2033-03-14' }, { durationMinutes: 90 }]) {
      const changed = await adminB.request('PATCH', `/series/${created.body.id}`, patch);
      expect(changed.status, JSON.stringify(changed.body)).toBe(200);
      await expectConsistent(store);
    }
    // A single meeting on a session's slot is refused on either node, and booked once the series is cancelled.
    const slot = { start: '2033-03-21T14:00:00.000Z', end: '2033-03-21T15:00:00.000Z' };
    expect((await adminA.request('POST', '/meetings', aMeeting({ customerId: 'cam', ...slot }))).status).toBe(409);
    expect((await adminB.request('POST', `/series/${created.body.id}/cancel`, {})).status).toBe(200);
    await expectConsistent(store);
    expect((await adminA.request('POST', '/meetings', aMeeting({ customerId: 'cam', ...slot }))).status).toBe(201);
    await expectConsistent(store);
  }, 60_000);
});

describe('a pinned If-Match on the atomic path', () => {
  it('pins the meeting only: a schedule bucket that moved meanwhile is read again, a meeting that moved is 412', async () => {
    const inner = createInMemoryEventStore();
    let moveFirst: string | undefined;
    // The first multi-stream append that names this prefix finds that stream moved (another node booked there).
    const store: EventStore = {
      ...inner,
      appendToStreams: async (appends) => {
        const moved = appends.find((a) => moveFirst !== undefined && a.streamName.startsWith(moveFirst));
        if (moved === undefined) return inner.appendToStreams(appends);
        moveFirst = undefined;
        return E.left({
          _tag: 'WrongExpectedRevision',
          streamName: moved.streamName,
          expected: moved.expectedRevision,
          actual: 7,
        });
      },
    };
    const [node] = await nodes(store, 1);
    const admin = await node!.as('ada', ['admin']);
    const booked = await admin.request('POST', '/meetings', aMeeting({ customerId: 'cora', ...hour(6, 9) }));
    expect(booked.status).toBe(201);
    const etag = booked.headers.get('etag') ?? '';
    moveFirst = 'schedule-ivan-';
    const moved = await admin.request('PATCH', `/meetings/${booked.body.id}`, hour(6, 11), { 'if-match': etag });
    expect(moved.status).toBe(200);
    expect(moveFirst).toBeUndefined();
    moveFirst = 'meeting-';
    const stale = await admin.request('PATCH', `/meetings/${booked.body.id}`, hour(6, 13), {
      'if-match': moved.headers.get('etag') ?? '',
    });
    expect(stale.status).toBe(412);
    await expectConsistent(inner);
  });
});

/** A store whose appends can be made to fail: `fault` is asked for every single-stream append. */
const faulty = (inner: EventStore) => {
  let fault: ((streamName: string) => 'refuse' | 'throw' | undefined) | undefined;
  const store: EventStore = {
    ...withoutMultiStreamAppend(inner),
    appendToStream: async (streamName, events, options) => {
      const what = fault?.(streamName);
      if (what === 'throw') throw new Error('disk unplugged');
      if (what === 'refuse')
        return E.left({
          _tag: 'WrongExpectedRevision',
          streamName,
          expected: options?.expectedRevision ?? 'any',
          actual: 99,
        });
      return inner.appendToStream(streamName, events, options);
    },
  };
  return { store, set: (f: typeof fault) => (fault = f) };
};

/** `fault` once, for the first append to a stream with this prefix. */
const once = (prefix: string, what: 'refuse' | 'throw') => {
  let done = false;
  return (streamName: string) => {
    if (done || !streamName.startsWith(prefix)) return undefined;
    done = true;
    return what;
  };
};

describe('the booking saga (no atomic append across streams)', () => {
  const setUp = async () => {
    const inner = createInMemoryEventStore();
    const { store, set } = faulty(inner);
    const [node] = await nodes(store, 1);
    const admin: Client = await node!.as('ada', ['admin']);
    return { inner, set, admin };
  };

  it('takes its reservations back when the meeting stream refuses, and decides again', async () => {
    const { inner, set, admin } = await setUp();
    set(once('meeting-', 'refuse'));
    const booked = await admin.request('POST', '/meetings', aMeeting({ customerId: 'cora', ...hour(3, 9) }));
    expect(booked.status).toBe(201);
    const events = await allEvents(inner);
    // Reserved twice (two people), taken back once, reserved again.
    expect(events.filter((e) => e.type === 'SlotReleased')).toHaveLength(2);
    await expectConsistent(inner);
  });

  it('stopped part-way through its reservations (a second bucket moved), takes back the first and retries', async () => {
    const { inner, set, admin } = await setUp();
    // Across the end of March: two buckets per person; the April one refuses once.
    set(once('schedule-ivan-2031-04', 'refuse'));
    const slot = { start: '2031-03-31T23:30:00.000Z', end: '2031-04-01T00:30:00.000Z' };
    expect((await admin.request('POST', '/meetings', aMeeting({ customerId: 'cora', ...slot }))).status).toBe(201);
    await expectConsistent(inner);
    expect(activeReservations(await allEvents(inner))).toHaveLength(4);
  });

  it('a meeting write that failed leaves an orphan the reaction releases after the grace period', async () => {
    const { inner, set, admin } = await setUp();
    set(once('meeting-', 'throw'));
    const slot = hour(4, 9);
    expect((await admin.request('POST', '/meetings', aMeeting({ customerId: 'cora', ...slot }))).status).toBe(500);
    await eventually(async () => activeReservations(await allEvents(inner)).length === 0, 'the orphan released');
    expect((await admin.request('POST', '/meetings', aMeeting({ customerId: 'cam', ...slot }))).status).toBe(201);
    await expectConsistent(inner);
  });

  it("a cancellation's release that failed is made by the reaction after the cancellation", async () => {
    const { inner, set, admin } = await setUp();
    const booked = await admin.request('POST', '/meetings', aMeeting({ customerId: 'cora', ...hour(5, 9) }));
    set((streamName) => (streamName.startsWith('schedule-') ? 'throw' : undefined));
    expect((await admin.request('POST', `/meetings/${booked.body.id}/cancel`, {})).status).toBe(200);
    set(undefined);
    await eventually(async () => activeReservations(await allEvents(inner)).length === 0, 'the release');
    await expectConsistent(inner);
  });
});

describe('a store that says it appends atomically, then answers it cannot (an older leader during an upgrade)', () => {
  it('books through the saga on that very request, with nothing double-booked', async () => {
    const inner = createInMemoryEventStore();
    let refusals = 0;
    const store: EventStore = {
      ...inner,
      appendToStreams: async () => {
        refusals += 1;
        throw new MultiStreamAppendUnsupportedError('test');
      },
      supportsMultiStreamAppend: async () => true,
    };
    const [node, other] = await nodes(store, 2);
    const slot = hour(6, 9);
    const answers = await Promise.all(
      [node!, other!].map(async (n, i) =>
        (await n.as('ada', ['admin'])).request(
          'POST',
          '/meetings',
          aMeeting({ customerId: i === 0 ? 'cora' : 'cam', ...slot }),
        ),
      ),
    );
    expectOneWins(answers, slot);
    expect(refusals).toBeGreaterThan(0);
    expect(activeReservations(await allEvents(inner))).toHaveLength(2);
    const events = await allEvents(inner);
    expect(doubleBookings(activeMeetings(events))).toEqual([]);
  });
});
