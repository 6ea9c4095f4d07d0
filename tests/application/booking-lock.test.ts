import { afterEach, describe, expect, it } from 'vitest';
import { createInMemoryEventStore } from '../../adapters/event-store/memory.ts';
import type { EventStore, StreamAppend } from '../../application/ports/event-store.ts';
import { scheduleStreamPrefix } from '../../domain/schedule.ts';
import { aMeeting } from '../support/builders.ts';
import { activeMeetings, allEvents, doubleBookings, scheduleMismatch } from '../support/bookings.ts';
import { startTestSystem } from '../support/system.ts';
import type { Client, TestSystem } from '../support/system.ts';

/**
 * The booking lock covers only the decision: a person's bookings on one node are decided one at a time, but each lets
 * the lock go once its append is handed to the store, long before the read models show it. What it decided still
 * counts in the next one's pre-check, and each answer is visible to its caller's next read.
 */

const running: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of running.splice(0).reverse()) await stop();
});

const CUSTOMERS = Array.from({ length: 30 }, (_, i) => `member-${i}`);

const start = async (store?: EventStore): Promise<{ node: TestSystem; admin: Client }> => {
  const node = await startTestSystem(store === undefined ? {} : { system: { store } });
  running.push(() => node.destroy());
  await node.people('ivan', ...CUSTOMERS);
  return { node, admin: await node.as('ada', ['admin']) };
};

const at = (day: number, minutes: number, length = 60) => ({
  start: new Date(Date.UTC(2031, 4, day, 0, minutes)).toISOString(),
  end: new Date(Date.UTC(2031, 4, day, 0, minutes + length)).toISOString(),
});

const book = (admin: Client, customerId: string, slot: { start: string; end: string }) =>
  admin.request('POST', '/meetings', aMeeting({ customerId, instructorId: 'ivan', ...slot }));

const expectNoDoubleBooking = async (store: EventStore) => {
  const events = await allEvents(store);
  expect(doubleBookings(activeMeetings(events))).toEqual([]);
  expect(scheduleMismatch(events)).toEqual({ missing: [], extra: [] });
};

describe('one trainer, many bookings at once on one node', () => {
  it('at distinct slots: every one is booked, and each is in the meeting and the calendar as soon as it answers', async () => {
    const { node, admin } = await start();
    // 25 hours apart from 1 May: into June, so the trainer's bookings fall into two schedule buckets.
    const slots = CUSTOMERS.map((_, i) => at(1, 25 * 60 * i));
    const seen = await Promise.all(
      CUSTOMERS.map(async (customerId, i) => {
        const booked = await book(admin, customerId, slots[i]!);
        expect(booked.status, JSON.stringify(booked.body)).toBe(201);
        // Read at once after this answer, while the others are still being booked.
        const read = await admin.request('GET', `/meetings/${booked.body.id}`);
        const range = `from=${encodeURIComponent(slots[i]!.start)}&to=${encodeURIComponent(slots[i]!.end)}`;
        const calendar = await admin.request('GET', `/calendar?userId=ivan&${range}`);
        return { id: booked.body.id, read, calendar };
      }),
    );
    for (const [i, { id, read, calendar }] of seen.entries()) {
      expect(read.status).toBe(200);
      expect(new Date(read.body.start).toISOString()).toBe(slots[i]!.start);
      expect(calendar.body.items.map((m: { meetingId: string }) => m.meetingId)).toContain(id);
    }
    await expectNoDoubleBooking(node.system.store);
  }, 60_000);

  it('overlapping each other: exactly one is booked, every other is the 409 naming it and the slot asked for', async () => {
    const { node, admin } = await start();
    // Starts three minutes apart, an hour each: every pair overlaps (all hold 08:57 to 09:00).
    const slots = CUSTOMERS.slice(0, 20).map((_, i) => at(6, 8 * 60 + 3 * i));
    const answers = await Promise.all(CUSTOMERS.slice(0, 20).map((c, i) => book(admin, c, slots[i]!)));
    const booked = answers.filter((a) => a.status === 201);
    expect(booked).toHaveLength(1);
    for (const [i, answer] of answers.entries()) {
      if (answer.status === 201) continue;
      expect(answer.status).toBe(409);
      expect(answer.body.conflicts).toEqual([
        expect.objectContaining({ meetingId: booked[0]!.body.id, participant: 'instructor', userId: 'ivan' }),
      ]);
      const slot = answer.body.conflicts[0].slot;
      expect({ start: new Date(slot.start).toISOString(), end: new Date(slot.end).toISOString() }).toEqual(slots[i]);
    }
    await expectNoDoubleBooking(node.system.store);
  }, 60_000);
});

describe('a booking racing a move of the same trainer', () => {
  it('onto the slot the move takes: one of them wins; the slot the move leaves is free at once after it', async () => {
    const { node, admin } = await start();
    for (let round = 0; round < 6; round++) {
      const day = 1 + round;
      const moved = await book(admin, 'member-0', at(day, 9 * 60));
      expect(moved.status).toBe(201);
      const target = at(day, 14 * 60);
      const moving = () => admin.request('PATCH', `/meetings/${moved.body.id}`, target);
      const booking = () => book(admin, 'member-1', target);
      // Sent in either order: which one the server decides first is up to it.
      const [move, rival] =
        round % 2 === 0
          ? await Promise.all([moving(), booking()])
          : await Promise.all([booking(), moving()]).then(([b, m]) => [m, b] as const);
      expect([move.status, rival.status].sort()).toEqual(move.status === 200 ? [200, 409] : [201, 409]);
      if (move.status === 200) {
        expect(rival.body.conflicts[0]).toMatchObject({ meetingId: moved.body.id, userId: 'ivan' });
        // The slot it left: free for the next booking at once; the one it took: taken.
        expect((await book(admin, 'member-2', at(day, 9 * 60))).status).toBe(201);
        expect((await book(admin, 'member-3', target)).status).toBe(409);
      } else {
        expect(move.body.conflicts[0]).toMatchObject({ meetingId: rival.body.id, userId: 'ivan' });
        expect((await admin.request('GET', `/meetings/${moved.body.id}`)).body.start).toBe(at(day, 9 * 60).start);
      }
    }
    await expectNoDoubleBooking(node.system.store);
  }, 60_000);

  it('moves of two meetings onto one slot while a booking takes it too: one of the three wins', async () => {
    const { node, admin } = await start();
    const a = await book(admin, 'member-0', at(12, 8 * 60));
    const b = await book(admin, 'member-1', at(12, 10 * 60));
    expect([a.status, b.status]).toEqual([201, 201]);
    const target = at(12, 15 * 60 + 30);
    const answers = await Promise.all([
      admin.request('PATCH', `/meetings/${a.body.id}`, target),
      book(admin, 'member-2', target),
      admin.request('PATCH', `/meetings/${b.body.id}`, target),
    ]);
    expect(answers.filter((x) => x.status === 200 || x.status === 201)).toHaveLength(1);
    expect(answers.filter((x) => x.status === 409)).toHaveLength(2);
    await expectNoDoubleBooking(node.system.store);
  }, 60_000);
});

/**
 * The store appends what it is handed one after another, in the order asked (as every store does); `first` runs in
 * the turn of the first booking's append, before it reaches the store. `decidingNext` resolves when another booking
 * reads a schedule after that (its customer's: it is deciding, under the lock the first one let go; a new meeting's
 * own stream is not read, see HandleOptions.newStream). `checks`: whether it
 * says it checks the last event id of an append (the embedded stores do, KurrentDB does not).
 */
const inOrder = (
  inner: EventStore,
  checks: boolean,
  first: (streams: ReadonlyArray<StreamAppend>) => Promise<void>,
) => {
  let armed = false;
  let firstOut = false;
  const atStore: string[] = [];
  let nextDeciding!: () => void;
  const decidingNext = new Promise<void>((resolve) => (nextDeciding = resolve));
  let chain: Promise<unknown> = Promise.resolve();
  const store: EventStore = {
    ...inner,
    capabilities: { ...inner.capabilities, checksLastEventId: checks },
    appendToStreams: (streams) => {
      if (!checks && streams.some((a) => a.expectedLastEventId !== undefined)) throw new RangeError('not checked here');
      const booking = armed && streams[0]!.streamName.startsWith('meeting-');
      const isFirst = booking && !firstOut;
      if (booking) atStore.push(streams[0]!.streamName);
      if (isFirst) firstOut = true;
      const turn = chain.then(async () => {
        if (isFirst) await first(streams);
        return inner.appendToStreams(streams);
      });
      chain = turn.catch(() => undefined);
      return turn;
    },
    readStream: (name, options) => {
      if (firstOut && (name.startsWith('meeting-') || name.startsWith(scheduleStreamPrefix))) nextDeciding();
      return inner.readStream(name, options);
    },
  };
  return {
    store,
    atStore,
    decidingNext,
    arm: () => (armed = true),
    firstOut: async () => {
      while (!firstOut) await pause(5);
    },
  };
};

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each([
  { checks: true, store: 'a store that checks the last event id' },
  { checks: false, store: 'a store that checks revisions only' },
])('the lock is let go when the append is handed to the store ($store)', ({ checks }) => {
  it("a trainer's next booking is decided while the first one's append is unanswered, and appended at once or after its answer", async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    // The first booking's append is held back at the store.
    const held = inOrder(createInMemoryEventStore(), checks, () => gate);
    const { node, admin } = await start(held.store);
    held.arm();
    const first = book(admin, CUSTOMERS[0]!, at(3, 60 * 8));
    await held.firstOut();
    const rest = Promise.all(CUSTOMERS.slice(1, 5).map((c, i) => book(admin, c, at(3, 60 * (9 + i)))));
    // With the lock held until an append is answered, no other booking of the trainer would get to decide.
    await held.decidingNext;
    if (checks) {
      // Each append builds on where the one before leaves the trainer's schedule, and says so with its last event id:
      // all of them are handed to the store behind the first, before its answer.
      while (held.atStore.length < 5) await pause(5);
    } else {
      await pause(50);
      // Its append builds on where the first one leaves the trainer's schedule: it waits for that answer.
      expect(held.atStore).toHaveLength(1);
    }
    open();
    const booked = [await first, ...(await rest)];
    expect(booked.map((b) => b.status)).toEqual(Array(5).fill(201));
    expect(held.atStore).toHaveLength(5);
    for (const b of booked) expect((await admin.request('GET', `/meetings/${b.body.id}`)).status).toBe(200);
    await expectNoDoubleBooking(node.system.store);
  }, 60_000);

  it('when the first append is refused because another node took its schedule revision, the next is decided on that', async () => {
    const inner = createInMemoryEventStore();
    const taken = at(5, 10 * 60);
    // Once the next booking is deciding, another node reserves the trainer's 10:00 in the bucket of the first
    // booking's append, with as many events as it has there (one): the bucket is at the revision that a decision built
    // on the first booking would expect.
    const held = inOrder(inner, checks, async (streams) => {
      await held.decidingNext;
      await pause(50);
      const bucket = streams.find((s) => s.streamName.startsWith('schedule-ivan-'))!;
      const reservation = {
        ...{ personId: 'ivan', month: taken.start.slice(0, 7), meetingId: 'elsewhere', ...taken },
        ...{ customerId: 'member-29', instructorId: 'ivan', at: new Date().toISOString() },
        owner: { stream: 'meeting-elsewhere', eventId: 'elsewhere-1' },
      };
      const foreign = await inner.appendToStream(
        bucket.streamName,
        [{ id: crypto.randomUUID(), type: 'SlotReserved', data: reservation }],
        { expectedRevision: bucket.expectedRevision },
      );
      expect(foreign._tag).toBe('Right');
    });
    const { node, admin } = await start(held.store);
    held.arm();
    const first = book(admin, 'member-0', at(5, 8 * 60));
    await held.firstOut();
    const second = await book(admin, 'member-1', taken);
    // Never decided on the bucket as the refused append would have left it: the other node's reservation refuses it.
    expect(second.status, JSON.stringify(second.body)).toBe(409);
    expect(second.body.conflicts).toEqual([
      expect.objectContaining({
        participant: 'instructor',
        userId: 'ivan',
        slot: { start: taken.start, end: taken.end },
      }),
    ]);
    // The first is decided again on the bucket as it is, and booked.
    expect((await first).status).toBe(201);
    const reserved = (await allEvents(node.system.store)).filter(
      (e) => e.type === 'SlotReserved' && (e.data as { start: string }).start === taken.start,
    );
    expect(reserved).toHaveLength(1);
  }, 60_000);

  it('a booking whose clash is with an append that then fails is decided again, and booked', async () => {
    const inner = createInMemoryEventStore();
    let failNext = false;
    let firstOut = false;
    let fail!: () => void;
    const failing = new Promise<void>((resolve) => (fail = resolve));
    let secondDeciding!: () => void;
    const deciding = new Promise<void>((resolve) => (secondDeciding = resolve));
    let entered!: () => void;
    const firstAtStore = new Promise<void>((resolve) => (entered = resolve));
    // The first booking's append gets to the store and then fails there (a store error: nothing written), once the
    // second booking has read its meeting's stream (it is deciding, its pre-check next). The second is made under an
    // Idempotency-Key so that it reads that stream: a booking without one takes its new stream to be empty.
    const store: EventStore = {
      ...inner,
      appendToStreams: async (streams) => {
        if (failNext && streams[0]?.streamName.startsWith('meeting-')) {
          failNext = false;
          firstOut = true;
          entered();
          await failing;
          throw new Error('the store failed');
        }
        return inner.appendToStreams(streams);
      },
      readStream: (name, options) => {
        if (firstOut && name.startsWith('meeting-')) secondDeciding();
        return inner.readStream(name, options);
      },
    };
    const { node, admin } = await start(store);
    failNext = true;
    const slot = at(4, 9 * 60);
    const first = book(admin, 'member-0', slot);
    await firstAtStore;
    // Decided while the first one's append is out: its pre-check sees that decision, and waits for its answer
    // (without waiting, it would answer 409 naming a meeting that never came to be).
    const second = admin.request(
      'POST',
      '/meetings',
      aMeeting({ customerId: 'member-1', instructorId: 'ivan', ...slot }),
      { 'idempotency-key': 'second-booking' },
    );
    await deciding;
    await new Promise((resolve) => setTimeout(resolve, 50));
    fail();
    expect((await first).status).toBeGreaterThanOrEqual(500);
    const answer = await second;
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    await expectNoDoubleBooking(node.system.store);
  }, 60_000);
});
