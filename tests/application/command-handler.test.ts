import { randomUUID } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { describe, expect, it } from 'vitest';
import { meetings } from '../../application/aggregates.ts';
import { handleCommand } from '../../application/command-handler.ts';
import { createExecutor } from '../../application/execute.ts';
import type { EventStore } from '../../application/ports/event-store.ts';
import { createInMemoryEventStore } from '../../adapters/event-store/memory.ts';
import type * as meeting from '../../domain/meeting.ts';
import { meetingStreamName } from '../../domain/meeting.ts';
import { scheduleStreamPrefix } from '../../domain/schedule.ts';

/** A counter: each command adds its number to the sum so far, so the decision shows what state it was made on. */
const Counted = t.type({ type: t.literal('Counted'), data: t.type({ total: t.number }) });
type Counted = t.TypeOf<typeof Counted>;
const counter = {
  decider: {
    initialState: () => 0,
    evolve: (_: number, event: Counted) => event.data.total,
    decide: (command: number, state: number) =>
      E.right([{ type: 'Counted' as const, data: { total: state + command } }]),
  },
  codec: Counted,
};

/** The memory store, counting how often each stream is read. */
const countingStore = (): { store: EventStore; reads: string[] } => {
  const inner = createInMemoryEventStore();
  const reads: string[] = [];
  const store: EventStore = Object.create(inner, {
    readStream: {
      value: (name: string, options?: Parameters<EventStore['readStream']>[1]) => {
        reads.push(name);
        return inner.readStream(name, options);
      },
    },
  });
  return { store, reads };
};

const totals = async (store: EventStore, stream: string) =>
  (await store.readStream(stream)).map((e) => (e.data as { total: number }).total);

describe('handleCommand on a stream named by a new id', () => {
  it('decides on the empty stream without reading it', async () => {
    const { store, reads } = countingStore();
    const handled = await handleCommand(store, 'counter-new', counter, 5, { newId: randomUUID, newStream: true });
    expect(handled).toMatchObject({ right: { state: 5, revision: 0 } });
    expect(reads).toEqual([]);
    expect(await totals(store, 'counter-new')).toEqual([5]);
  });

  it('reads and decides again when the stream exists after all, so nothing is decided on a wrong state', async () => {
    const { store, reads } = countingStore();
    await handleCommand(store, 'counter-taken', counter, 7, { newId: randomUUID });
    reads.length = 0;
    const handled = await handleCommand(store, 'counter-taken', counter, 5, { newId: randomUUID, newStream: true });
    // The first attempt's `no_stream` append is refused; the retry reads the stream and adds to its 7.
    expect(handled).toMatchObject({ right: { state: 12, revision: 1 } });
    expect(reads).toEqual(['counter-taken']);
    expect(await totals(store, 'counter-taken')).toEqual([7, 12]);
  });

  it('still reads the stream under an idempotency causation, which an earlier attempt may have written', async () => {
    const { store, reads } = countingStore();
    const once = 'claim-1';
    const first = await handleCommand(store, 'counter-keyed', counter, 5, {
      newId: randomUUID,
      newStream: true,
      once,
      metadata: { causationId: once },
    });
    expect(first).toMatchObject({ right: { revision: 0 } });
    expect(reads).toEqual(['counter-keyed']);
    const again = await handleCommand(store, 'counter-keyed', counter, 5, {
      newId: randomUUID,
      newStream: true,
      once,
      metadata: { causationId: once },
    });
    expect(again).toMatchObject({ right: { alreadyApplied: true, revision: 0 } });
    expect(await totals(store, 'counter-keyed')).toEqual([5]);
  });
});

describe('the executor on a meeting booked under a new id', () => {
  const at = '2030-01-01T08:00:00.000Z';
  const admin = { id: 'admin-1', roles: ['admin' as const] };
  const book = (meetingId: string, hour = 10): meeting.MeetingCommand => ({
    type: 'ScheduleMeeting',
    data: {
      meetingId,
      title: 'Strength',
      customerId: 'customer-1',
      instructorId: 'instructor-1',
      start: `2030-01-02T${hour}:00:00.000Z`,
      end: `2030-01-02T${hour}:45:00.000Z`,
      timezone: 'Europe/Amsterdam',
      trainingType: '1-1',
      description: '',
      at,
      by: admin,
    },
  });
  const executorOn = (store: EventStore) =>
    createExecutor({
      store,
      projections: { waitFor: async () => {}, healthy: true, catchingUp: false },
      newId: randomUUID,
      clock: () => new Date(at),
    });

  it('skips reading the meeting stream without an idempotency claim, and reads it under one', async () => {
    const { store, reads } = countingStore();
    const executor = executorOn(store);
    const plain = randomUUID();
    const booked = await executor.execute({ user: admin }, meetings, plain, [book(plain)], { newStream: true });
    expect(E.isRight(booked)).toBe(true);
    expect(reads.filter((name) => name === meetingStreamName(plain))).toEqual([]);
    // Its reservations were still decided on the schedules as read.
    expect(reads.some((name) => name.startsWith(scheduleStreamPrefix))).toBe(true);

    const keyed = randomUUID();
    const claim = { causation: 'claim-2', newId: () => keyed };
    const again = await executor.execute({ user: admin, idempotency: claim }, meetings, keyed, [book(keyed, 12)], {
      newStream: true,
    });
    expect(E.isRight(again)).toBe(true);
    expect(reads.filter((name) => name === meetingStreamName(keyed))).toEqual([meetingStreamName(keyed)]);
  });
});
