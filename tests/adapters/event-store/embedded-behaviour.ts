import { randomUUID } from 'node:crypto';
import { isLeft, isRight } from 'fp-ts/lib/Either.js';
import type { Either } from 'fp-ts/lib/Either.js';
import { afterEach, describe, expect, it } from 'vitest';
import type {
  AppendResult,
  EventStore,
  EventToAppend,
  RecordedEvent,
  WrongExpectedRevision,
} from '../../../application/ports/event-store.ts';
import { DuplicateEventIdError, EventStoreClosedError } from '../../../adapters/event-store/embedded-support.ts';

/**
 * Behaviour the two embedded stores (memory, SQLite) promise beyond the shared contract: an empty log starts at 0,
 * retries return the original position, reused ids are refused without leaving gaps, inputs are snapshotted.
 */

export interface EmbeddedFixture {
  readonly store: EventStore;
  readonly cleanup: () => Promise<void>;
}

function event(data: unknown = { n: 0 }, id: string = randomUUID()): EventToAppend {
  return { id, type: 'Tested', data };
}

function right(result: Either<WrongExpectedRevision, AppendResult>): AppendResult {
  if (isLeft(result)) throw new Error(`expected success, got ${JSON.stringify(result.left)}`);
  return result.right;
}

async function waitUntil(condition: () => boolean, description: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting until ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function runEmbeddedStoreBehaviour(
  name: string,
  open: (options: { readonly now?: () => Date }) => Promise<EmbeddedFixture>,
): void {
  describe(`embedded event store behaviour: ${name}`, () => {
    const fixtures: EmbeddedFixture[] = [];
    const openStore = async (options: { readonly now?: () => Date } = {}): Promise<EventStore> => {
      const fixture = await open(options);
      fixtures.push(fixture);
      return fixture.store;
    };
    afterEach(async () => {
      for (const fixture of fixtures.splice(0)) await fixture.cleanup();
    });

    it('starts empty at position 0', async () => {
      const store = await openStore();
      expect(await store.headPosition()).toBe(0);
      expect(await store.readAll()).toEqual([]);
      expect(await store.readAll({ after: 5, limit: 10 })).toEqual([]);
      expect(store.capabilities.gapFreePositions).toBe(true);
    });

    it('stamps events with the injected clock', async () => {
      const store = await openStore({ now: () => new Date('2030-01-02T03:04:05.678Z') });
      right(await store.appendToStream('clock', [event()]));
      const [recorded] = await store.readStream('clock');
      expect(recorded?.recordedAt).toBe('2030-01-02T03:04:05.678Z');
    });

    it('answers a retried append with the original revision and position, whatever the expected revision', async () => {
      const store = await openStore();
      const batch = [event({ n: 1 }), event({ n: 2 })];
      const original = right(await store.appendToStream('retry', batch, { expectedRevision: 'no_stream' }));
      right(await store.appendToStream('retry', [event()]));
      right(await store.appendToStream('elsewhere', [event()]));

      for (const expectedRevision of ['no_stream', 'any', 'stream_exists', -1] as const) {
        const retried = right(await store.appendToStream('retry', batch, { expectedRevision }));
        expect(retried).toEqual(original);
      }
      expect(await store.readStream('retry')).toHaveLength(3);
      expect(await store.headPosition()).toBe(4);
    });

    it('does not treat a partial match as a retry', async () => {
      const store = await openStore();
      const [a, b] = [event(), event()];
      right(await store.appendToStream('partial', [a, b]));
      const conflict = await store.appendToStream('partial', [a, event()], { expectedRevision: 'no_stream' });
      expect(isLeft(conflict) && conflict.left).toMatchObject({ actual: 1 });
      await expect(store.appendToStream('partial', [a, event()])).rejects.toBeInstanceOf(DuplicateEventIdError);
      expect(await store.readStream('partial')).toHaveLength(2);
    });

    it('refuses an event id already used in another stream or twice in one append, without leaving a gap', async () => {
      const store = await openStore();
      const used = event();
      right(await store.appendToStream('first', [used]));
      await expect(store.appendToStream('second', [event(), used])).rejects.toBeInstanceOf(DuplicateEventIdError);
      await expect(store.appendToStream('second', [used])).rejects.toBeInstanceOf(DuplicateEventIdError);
      const twice = event();
      await expect(store.appendToStream('third', [twice, event(), twice])).rejects.toBeInstanceOf(
        DuplicateEventIdError,
      );
      expect(await store.readStream('second')).toEqual([]);
      expect(await store.readStream('third')).toEqual([]);

      const next = right(await store.appendToStream('second', [event()]));
      expect(next).toEqual({ nextExpectedRevision: 0, position: 2 });
    });

    it('stores what was passed at call time, and hands out fresh objects', async () => {
      const store = await openStore();
      const data = { list: [1, 2], when: new Date('2030-01-01T00:00:00.000Z') };
      const appending = store.appendToStream('snapshot', [event(data)]);
      data.list.push(3);
      right(await appending);

      const [first] = await store.readStream('snapshot');
      expect(first?.data).toEqual({ list: [1, 2], when: '2030-01-01T00:00:00.000Z' });
      (first?.data as { list: number[] }).list.push(99);
      const [again] = await store.readAll();
      expect(again?.data).toEqual({ list: [1, 2], when: '2030-01-01T00:00:00.000Z' });
    });

    it('rejects events that cannot be stored', async () => {
      const store = await openStore();
      await expect(
        store.appendToStream('bad', [{ id: randomUUID(), type: 'T', data: undefined }]),
      ).rejects.toBeInstanceOf(TypeError);
      await expect(store.appendToStream('bad', [event(10n)])).rejects.toBeInstanceOf(TypeError);
      await expect(store.appendToStream('', [event()])).rejects.toBeInstanceOf(TypeError);
      await expect(store.appendToStream('bad', [{ id: '', type: 'T', data: {} }])).rejects.toBeInstanceOf(TypeError);
      expect(await store.headPosition()).toBe(0);
    });

    it('checks the expected revision of an empty append without writing', async () => {
      const store = await openStore();
      expect(right(await store.appendToStream('empty', [], { expectedRevision: 'no_stream' }))).toEqual({
        nextExpectedRevision: -1,
        position: 0,
      });
      right(await store.appendToStream('other', [event()]));
      right(await store.appendToStream('empty', [event(), event()]));
      expect(right(await store.appendToStream('empty', [], { expectedRevision: 1 }))).toEqual({
        nextExpectedRevision: 1,
        position: 3,
      });
      expect(isLeft(await store.appendToStream('empty', [], { expectedRevision: 0 }))).toBe(true);
      expect(await store.headPosition()).toBe(3);
    });

    it('reads with a zero limit as nothing and clamps negative checkpoints', async () => {
      const store = await openStore();
      right(await store.appendToStream('s', [event(), event()]));
      expect(await store.readAll({ limit: 0 })).toEqual([]);
      expect((await store.readAll({ after: -10 })).map((e) => e.position)).toEqual([1, 2]);
      expect((await store.readStream('s', { fromRevision: -1 })).map((e) => e.revision)).toEqual([0, 1]);
    });

    it('catches up across many batches while appends keep arriving', async () => {
      const store = await openStore();
      const total = 1_300;
      for (let start = 0; start < 1_000; start += 100) {
        right(
          await store.appendToStream(
            `bulk-${start % 300}`,
            Array.from({ length: 100 }, (_, i) => event({ n: start + i })),
          ),
        );
      }
      const received: RecordedEvent[] = [];
      const subscription = store.subscribeToAll({}, async (recorded) => {
        received.push(recorded);
        if (received.length % 97 === 0) await new Promise((resolve) => setImmediate(resolve));
      });
      try {
        const live = Array.from({ length: 300 }, (_, i) =>
          store.appendToStream(`live-${i % 7}`, [event({ n: 1_000 + i })]),
        );
        expect((await Promise.all(live)).every(isRight)).toBe(true);
        await waitUntil(() => received.length >= total, 'all events were delivered');
        expect(received.map((e) => e.position)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
        expect(received.map((e) => (e.data as { n: number }).n)).toEqual(Array.from({ length: total }, (_, i) => i));
      } finally {
        await subscription.stop();
      }
    });

    it('hands every one of several subscriptions its own events in order, whatever each ignores and however fast', async () => {
      const store = await openStore();
      right(await store.appendToStream('early-1', [event({ n: -1 })]));
      const setups: ReadonlyArray<{ after?: number; ignore?: string[]; slow?: boolean }> = [
        {},
        { ignore: ['skip-'] },
        { ignore: ['skip-'], slow: true },
        { ignore: ['skip-', 'other-'] },
        { after: 1, ignore: ['other-'] },
      ];
      const followers = setups.map((setup) => {
        const received: number[] = [];
        const passed: number[] = [];
        const subscription = store.subscribeToAll(
          {
            ...(setup.after !== undefined ? { after: setup.after } : {}),
            ...(setup.ignore !== undefined
              ? { ignoreStreamPrefixes: setup.ignore, onPassed: (p: number) => passed.push(p) }
              : {}),
          },
          async (recorded) => {
            if (setup.slow === true) await new Promise((resolve) => setTimeout(resolve, 1));
            received.push(recorded.position);
          },
        );
        return { setup, received, passed, subscription };
      });
      try {
        const streams = ['keep-a', 'skip-b', 'other-c', 'keep-d', 'skip-e'];
        const appends = Array.from({ length: 120 }, (_, i) =>
          store.appendToStream(streams[i % streams.length] ?? 'keep-a', [event({ n: i })]),
        );
        expect((await Promise.all(appends)).every(isRight)).toBe(true);
        const log = await store.readAll();
        const head = log.length;
        const reached = (f: (typeof followers)[number]) => Math.max(0, ...f.received, ...f.passed);
        await waitUntil(() => followers.every((f) => reached(f) === head), 'every subscription reached the head');
        for (const follower of followers) {
          const ignored = follower.setup.ignore ?? [];
          const expected = log
            .filter((e) => e.position > (follower.setup.after ?? 0))
            .filter((e) => !ignored.some((prefix) => e.streamName.startsWith(prefix)))
            .map((e) => e.position);
          expect(follower.received).toEqual(expected);
        }
      } finally {
        await Promise.all(followers.map((f) => f.subscription.stop()));
      }
    });

    it('refuses work once closed, and closes more than once', async () => {
      const store = await openStore();
      const received: RecordedEvent[] = [];
      store.subscribeToAll({}, (recorded) => {
        received.push(recorded);
      });
      await store.close();
      await store.close();
      await expect(store.appendToStream('s', [event()])).rejects.toBeInstanceOf(EventStoreClosedError);
      await expect(store.readAll()).rejects.toBeInstanceOf(EventStoreClosedError);
      await expect(store.readStream('s')).rejects.toBeInstanceOf(EventStoreClosedError);
      await expect(store.headPosition()).rejects.toBeInstanceOf(EventStoreClosedError);
      expect(() => store.subscribeToAll({}, () => undefined)).toThrow(EventStoreClosedError);
    });
  });
}
