import { randomUUID } from 'node:crypto';
import { isLeft, isRight } from 'fp-ts/lib/Either.js';
import type { Either } from 'fp-ts/lib/Either.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  AppendResult,
  EventStore,
  EventToAppend,
  RecordedEvent,
  Subscription,
  WrongExpectedRevision,
} from '../../../application/ports/event-store.ts';
import { runMultiAppendContract } from './contract-multi-append.ts';

/**
 * One behavioural contract for every EventStore adapter. It never assumes the log starts empty or that it owns the
 * whole log (a shared KurrentDB may hold other streams): every test uses fresh stream names, measures positions
 * relative to the head it found, and ignores events of streams it did not create.
 */

export interface EventStoreFixture {
  readonly store: EventStore;
  /** Closes nothing by itself: opens another store over the same durable log (after the test closed `store`). */
  readonly reopen?: () => Promise<EventStore>;
  /** Another, independent connection to the same log, usable at the same time as `store`. */
  readonly secondConnection?: () => Promise<EventStore>;
  /** Closes every store the fixture handed out and removes what it created. */
  readonly cleanup: () => Promise<void>;
}

const WAIT_TIMEOUT_MS = 15_000;

async function waitUntil(condition: () => boolean, description: string): Promise<void> {
  const deadline = Date.now() + WAIT_TIMEOUT_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${WAIT_TIMEOUT_MS} ms waiting until ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Lets every already-queued callback run, without waiting for any particular duration. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function streamName(label: string): string {
  return `contract_${label}-${randomUUID()}`;
}

function event(type = 'Tested', data: unknown = { n: 0 }, metadata?: EventToAppend['metadata']): EventToAppend {
  return { id: randomUUID(), type, data, ...(metadata !== undefined ? { metadata } : {}) };
}

function events(count: number, type = 'Tested'): EventToAppend[] {
  return Array.from({ length: count }, (_, n) => event(type, { n }));
}

function expectRight(result: Either<WrongExpectedRevision, AppendResult>): AppendResult {
  if (isLeft(result)) throw new Error(`expected the append to succeed, got ${JSON.stringify(result.left)}`);
  return result.right;
}

function expectLeft(result: Either<WrongExpectedRevision, AppendResult>): WrongExpectedRevision {
  if (isRight(result)) throw new Error(`expected a WrongExpectedRevision, got ${JSON.stringify(result.right)}`);
  return result.left;
}

interface Collector {
  readonly received: RecordedEvent[];
  readonly errors: unknown[];
  readonly subscription: Subscription;
}

/** Subscribes and keeps the events of the given streams only. */
function collect(store: EventStore, streams: ReadonlyArray<string>, after?: number): Collector {
  const received: RecordedEvent[] = [];
  const errors: unknown[] = [];
  const subscription = store.subscribeToAll(
    after === undefined ? {} : { after },
    (recorded) => {
      if (streams.includes(recorded.streamName)) received.push(recorded);
    },
    (error) => errors.push(error),
  );
  return { received, errors, subscription };
}

function ids(recorded: ReadonlyArray<{ readonly id: string }>): string[] {
  return recorded.map((e) => e.id);
}

function expectStrictlyIncreasing(positions: ReadonlyArray<number>): void {
  for (let i = 1; i < positions.length; i++) {
    expect(positions[i]).toBeGreaterThan(positions[i - 1] as number);
  }
}

export function runEventStoreContract(name: string, factory: () => Promise<EventStoreFixture>): void {
  describe(`EventStore contract: ${name}`, () => {
    let fixture: EventStoreFixture;
    let store: EventStore;

    beforeEach(async () => {
      fixture = await factory();
      store = fixture.store;
    });

    afterEach(async () => {
      await fixture.cleanup();
    });

    describe('appending and reading', () => {
      it('reads a stream back in append order with all fields', async () => {
        const stream = streamName('order');
        const toAppend = [event('First', { n: 1 }), event('Second', { n: 2 }), event('Third', { n: 3 })];
        expectRight(await store.appendToStream(stream, toAppend));

        const read = await store.readStream(stream);
        expect(ids(read)).toEqual(ids(toAppend));
        expect(read.map((e) => e.type)).toEqual(['First', 'Second', 'Third']);
        expect(read.map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
        for (const recorded of read) {
          expect(recorded.streamName).toBe(stream);
          expect(Number.isNaN(Date.parse(recorded.recordedAt))).toBe(false);
        }
      });

      it('counts revisions from 0 across appends and reports the last one', async () => {
        const stream = streamName('revisions');
        const first = expectRight(await store.appendToStream(stream, [event()]));
        expect(first.nextExpectedRevision).toBe(0);
        const second = expectRight(await store.appendToStream(stream, events(2)));
        expect(second.nextExpectedRevision).toBe(2);

        const read = await store.readStream(stream);
        expect(read.map((e) => e.revision)).toEqual([0, 1, 2]);
      });

      it('gives strictly increasing global positions across streams, and reports the last one', async () => {
        const headBefore = await store.headPosition();
        const a = streamName('pos-a');
        const b = streamName('pos-b');
        const results = [
          expectRight(await store.appendToStream(a, events(2))),
          expectRight(await store.appendToStream(b, events(1))),
          expectRight(await store.appendToStream(a, events(3))),
        ];

        const all = (await store.readAll({ after: headBefore })).filter(
          (e) => e.streamName === a || e.streamName === b,
        );
        expect(all).toHaveLength(6);
        const positions = all.map((e) => e.position);
        expect(positions[0]).toBeGreaterThan(headBefore);
        expectStrictlyIncreasing(positions);
        expect(results.map((r) => r.position)).toEqual([positions[1], positions[2], positions[5]]);
        expect(all.map((e) => e.streamName)).toEqual([a, a, b, a, a, a]);

        if (store.capabilities.gapFreePositions) {
          expect(positions).toEqual([1, 2, 3, 4, 5, 6].map((n) => headBefore + n));
        }
      });

      it('returns an empty array for a stream that does not exist', async () => {
        expect(await store.readStream(streamName('missing'))).toEqual([]);
        expect(await store.readStream(streamName('missing'), { fromRevision: 3 })).toEqual([]);
      });

      it('reads a stream from a revision', async () => {
        const stream = streamName('from-revision');
        const toAppend = events(5);
        expectRight(await store.appendToStream(stream, toAppend));

        const fromTwo = await store.readStream(stream, { fromRevision: 2 });
        expect(fromTwo.map((e) => e.revision)).toEqual([2, 3, 4]);
        expect(ids(fromTwo)).toEqual(ids(toAppend.slice(2)));
        expect(await store.readStream(stream, { fromRevision: 5 })).toEqual([]);
      });

      it('reads all events after a position, with a limit', async () => {
        const headBefore = await store.headPosition();
        const a = streamName('all-a');
        const b = streamName('all-b');
        const appended = [event(), event(), event(), event(), event()];
        expectRight(await store.appendToStream(a, appended.slice(0, 2)));
        expectRight(await store.appendToStream(b, appended.slice(2, 3)));
        expectRight(await store.appendToStream(a, appended.slice(3)));

        const ours = (list: ReadonlyArray<RecordedEvent>) =>
          list.filter((e) => e.streamName === a || e.streamName === b);
        const everything = ours(await store.readAll({ after: headBefore }));
        expect(ids(everything)).toEqual(ids(appended));

        const firstTwo = await store.readAll({ after: headBefore, limit: 2 });
        expect(ids(firstTwo)).toEqual(ids(appended.slice(0, 2)));

        const secondPosition = everything[1]?.position as number;
        const nextTwo = await store.readAll({ after: secondPosition, limit: 2 });
        expect(ids(nextTwo)).toEqual(ids(appended.slice(2, 4)));

        const lastPosition = everything[4]?.position as number;
        expect(ours(await store.readAll({ after: lastPosition }))).toEqual([]);

        const fromStart = ours(await store.readAll());
        expect(ids(fromStart)).toEqual(ids(appended));
      });

      it('reports the head position as the position of the newest event', async () => {
        const before = await store.headPosition();
        expect(before).toBeGreaterThanOrEqual(0);
        const result = expectRight(await store.appendToStream(streamName('head'), events(3)));
        expect(result.position).toBeGreaterThan(before);
        expect(await store.headPosition()).toBe(result.position);
      });

      it('round-trips metadata', async () => {
        const stream = streamName('metadata');
        const metadata = {
          actor: { id: 'coach-42', roles: ['coach', 'admin'] },
          correlationId: randomUUID(),
          causationId: randomUUID(),
        };
        expectRight(await store.appendToStream(stream, [event('WithMetadata', {}, metadata), event('Without', {})]));

        const [withMetadata, without] = await store.readStream(stream);
        expect(withMetadata?.metadata).toEqual(metadata);
        expect(without?.metadata.actor).toBeUndefined();
        expect(without?.metadata.correlationId).toBeUndefined();
        expect(without?.metadata.causationId).toBeUndefined();
      });

      it('round-trips unicode and nested data', async () => {
        const stream = streamName('unicode');
        const data = {
          name: 'Zoë Ångström 日本語 עברית العربية',
          emoji: '🧘‍♀️👩🏽‍💻🎉',
          combining: 'e\u0301 n\u0303',
          separators: 'line\u2028para\u2029tab\tnewline\n',
          quotes: `"double" 'single' \\backslash`,
          nested: { list: [1, -2.5, 1e21, true, false, null, 'ünï'], empty: {}, none: [] },
        };
        expectRight(await store.appendToStream(stream, [event('Unicode', data)]));
        const [read] = await store.readStream(stream);
        expect(read?.data).toEqual(data);
      });
    });

    describe('expected revision', () => {
      it("'no_stream' succeeds on a new stream", async () => {
        const result = expectRight(
          await store.appendToStream(streamName('ns-new'), [event()], { expectedRevision: 'no_stream' }),
        );
        expect(result.nextExpectedRevision).toBe(0);
      });

      it("'no_stream' fails on an existing stream", async () => {
        const stream = streamName('ns-existing');
        expectRight(await store.appendToStream(stream, [event()]));
        const error = expectLeft(await store.appendToStream(stream, [event()], { expectedRevision: 'no_stream' }));
        expect(error).toEqual({ _tag: 'WrongExpectedRevision', streamName: stream, expected: 'no_stream', actual: 0 });
      });

      it("'stream_exists' fails on a new stream", async () => {
        const stream = streamName('se-new');
        const error = expectLeft(await store.appendToStream(stream, [event()], { expectedRevision: 'stream_exists' }));
        expect(error).toEqual({
          _tag: 'WrongExpectedRevision',
          streamName: stream,
          expected: 'stream_exists',
          actual: -1,
        });
        expect(await store.readStream(stream)).toEqual([]);
      });

      it("'stream_exists' succeeds on an existing stream", async () => {
        const stream = streamName('se-existing');
        expectRight(await store.appendToStream(stream, events(2)));
        const result = expectRight(
          await store.appendToStream(stream, [event()], { expectedRevision: 'stream_exists' }),
        );
        expect(result.nextExpectedRevision).toBe(2);
      });

      it("'any' (and no option at all) succeeds on new and existing streams", async () => {
        const stream = streamName('any');
        expect(expectRight(await store.appendToStream(stream, [event()], { expectedRevision: 'any' }))).toMatchObject({
          nextExpectedRevision: 0,
        });
        expect(expectRight(await store.appendToStream(stream, [event()], { expectedRevision: 'any' }))).toMatchObject({
          nextExpectedRevision: 1,
        });
        expect(expectRight(await store.appendToStream(stream, [event()]))).toMatchObject({ nextExpectedRevision: 2 });
      });

      it('an exact revision that matches succeeds', async () => {
        const stream = streamName('exact-right');
        expectRight(await store.appendToStream(stream, events(2)));
        const result = expectRight(await store.appendToStream(stream, events(2), { expectedRevision: 1 }));
        expect(result.nextExpectedRevision).toBe(3);
        expect((await store.readStream(stream)).map((e) => e.revision)).toEqual([0, 1, 2, 3]);
      });

      it('an exact revision that does not match fails with stream, expected and actual revision', async () => {
        const stream = streamName('exact-wrong');
        expectRight(await store.appendToStream(stream, events(2)));

        const behind = expectLeft(await store.appendToStream(stream, [event()], { expectedRevision: 0 }));
        expect(behind).toEqual({ _tag: 'WrongExpectedRevision', streamName: stream, expected: 0, actual: 1 });
        const ahead = expectLeft(await store.appendToStream(stream, [event()], { expectedRevision: 5 }));
        expect(ahead).toEqual({ _tag: 'WrongExpectedRevision', streamName: stream, expected: 5, actual: 1 });

        const missing = streamName('exact-missing');
        const onMissing = expectLeft(await store.appendToStream(missing, [event()], { expectedRevision: 0 }));
        expect(onMissing).toEqual({ _tag: 'WrongExpectedRevision', streamName: missing, expected: 0, actual: -1 });

        expect(await store.readStream(stream)).toHaveLength(2);
        expect(await store.readStream(missing)).toEqual([]);
      });
    });

    describe('atomicity and concurrency', () => {
      it('writes nothing of a multi-event append that conflicts', async () => {
        const stream = streamName('atomic-conflict');
        expectRight(await store.appendToStream(stream, [event()]));
        const headBefore = await store.headPosition();
        expectLeft(await store.appendToStream(stream, events(3), { expectedRevision: 'no_stream' }));
        expect(await store.readStream(stream)).toHaveLength(1);
        expect((await store.readAll({ after: headBefore })).filter((e) => e.streamName === stream)).toEqual([]);
      });

      it('keeps the events of a multi-event append together in the global log', async () => {
        const headBefore = await store.headPosition();
        const a = streamName('together-a');
        const b = streamName('together-b');
        const [resultA, resultB] = await Promise.all([
          store.appendToStream(a, events(4)),
          store.appendToStream(b, events(4)),
        ]);
        expectRight(resultA as Either<WrongExpectedRevision, AppendResult>);
        expectRight(resultB as Either<WrongExpectedRevision, AppendResult>);

        const order = (await store.readAll({ after: headBefore }))
          .filter((e) => e.streamName === a || e.streamName === b)
          .map((e) => e.streamName);
        expect(order).toHaveLength(8);
        expect([
          [a, a, a, a, b, b, b, b],
          [b, b, b, b, a, a, a, a],
        ]).toContainEqual(order);
      });

      it('lets exactly one of two concurrent appends with the same expected revision win', async () => {
        const fresh = streamName('race-new');
        const first = event();
        const second = event();
        const results = await Promise.all([
          store.appendToStream(fresh, [first], { expectedRevision: 'no_stream' }),
          store.appendToStream(fresh, [second], { expectedRevision: 'no_stream' }),
        ]);
        expect(results.filter(isRight)).toHaveLength(1);
        const loser = results.find(isLeft);
        expect(loser?.left).toMatchObject({ streamName: fresh, expected: 'no_stream', actual: 0 });
        const stored = await store.readStream(fresh);
        expect(stored).toHaveLength(1);
        expect([first.id, second.id]).toContain(stored[0]?.id);

        const existing = streamName('race-existing');
        expectRight(await store.appendToStream(existing, [event()]));
        const exact = await Promise.all([
          store.appendToStream(existing, events(2), { expectedRevision: 0 }),
          store.appendToStream(existing, events(2), { expectedRevision: 0 }),
        ]);
        expect(exact.filter(isRight)).toHaveLength(1);
        expect(exact.find(isLeft)?.left).toMatchObject({ streamName: existing, expected: 0, actual: 2 });
        expect(await store.readStream(existing)).toHaveLength(3);
      });

      it('lets exactly one of two conflicting appends from two connections win', async (context) => {
        if (fixture.secondConnection === undefined) {
          context.skip();
          return;
        }
        const other = await fixture.secondConnection();
        const stream = streamName('two-connections');
        const results = await Promise.all([
          store.appendToStream(stream, events(2), { expectedRevision: 'no_stream' }),
          other.appendToStream(stream, events(2), { expectedRevision: 'no_stream' }),
        ]);
        expect(results.filter(isRight)).toHaveLength(1);
        expect(results.find(isLeft)?.left).toMatchObject({ streamName: stream, expected: 'no_stream', actual: 1 });
        expect(await store.readStream(stream)).toHaveLength(2);
        expect(ids(await other.readStream(stream))).toEqual(ids(await store.readStream(stream)));
      });

      it('treats a retried append with the same event ids as the original success', async () => {
        const fresh = streamName('retry-new');
        const batch = events(2);
        const original = expectRight(await store.appendToStream(fresh, batch, { expectedRevision: 'no_stream' }));
        const retried = expectRight(await store.appendToStream(fresh, batch, { expectedRevision: 'no_stream' }));
        expect(retried.nextExpectedRevision).toBe(original.nextExpectedRevision);
        expect(ids(await store.readStream(fresh))).toEqual(ids(batch));

        const existing = streamName('retry-exact');
        expectRight(await store.appendToStream(existing, [event()]));
        const next = [event()];
        const first = expectRight(await store.appendToStream(existing, next, { expectedRevision: 0 }));
        const again = expectRight(await store.appendToStream(existing, next, { expectedRevision: 0 }));
        expect(again.nextExpectedRevision).toBe(first.nextExpectedRevision);
        expect(await store.readStream(existing)).toHaveLength(2);
      });
    });

    runMultiAppendContract({
      store: () => store,
      secondConnection: async () => fixture.secondConnection?.(),
    });

    describe('subscriptions', () => {
      it('catches up, then follows live appends, in order and without duplicates', async () => {
        const headBefore = await store.headPosition();
        const a = streamName('sub-a');
        const b = streamName('sub-b');
        const appended: EventToAppend[] = [];
        const append = async (stream: string, batch: EventToAppend[]) => {
          appended.push(...batch);
          expectRight(await store.appendToStream(stream, batch));
        };
        await append(a, events(3));
        await append(b, events(2));

        const collector = collect(store, [a, b], headBefore);
        try {
          await waitUntil(() => collector.received.length >= 5, 'the subscription caught up');

          await append(a, events(2));
          await append(b, [event()]);
          await waitUntil(() => collector.received.length >= 8, 'live events arrived');
          // Appends racing with delivery: issued without waiting for the subscriber.
          await Promise.all([append(a, events(3)), append(b, events(3))]);
          await waitUntil(() => collector.received.length >= 14, 'concurrent live events arrived');

          const expectedOrder = (await store.readAll({ after: headBefore })).filter(
            (e) => e.streamName === a || e.streamName === b,
          );
          expect(ids(collector.received)).toEqual(ids(expectedOrder));
          expect(new Set(ids(collector.received)).size).toBe(appended.length);
          expectStrictlyIncreasing(collector.received.map((e) => e.position));
          expect(collector.errors).toEqual([]);
        } finally {
          await collector.subscription.stop();
        }
      });

      it('starting from a checkpoint delivers only later events', async () => {
        const stream = streamName('sub-checkpoint');
        const before = [event(), event(), event()];
        expectRight(await store.appendToStream(stream, before));
        const stored = await store.readStream(stream);
        const checkpoint = stored[1]?.position as number;

        const collector = collect(store, [stream], checkpoint);
        try {
          await waitUntil(() => collector.received.length >= 1, 'the event after the checkpoint arrived');
          const later = event();
          expectRight(await store.appendToStream(stream, [later]));
          await waitUntil(() => collector.received.length >= 2, 'the live event arrived');
          expect(ids(collector.received)).toEqual([before[2]?.id, later.id]);
          expect(collector.received.every((e) => e.position > checkpoint)).toBe(true);
        } finally {
          await collector.subscription.stop();
        }
      });

      it('delivers events appended through another connection', async (context) => {
        if (fixture.secondConnection === undefined) {
          context.skip();
          return;
        }
        const other = await fixture.secondConnection();
        const stream = streamName('sub-other-connection');
        const collector = collect(store, [stream], await store.headPosition());
        try {
          const batch = events(3);
          expectRight(await other.appendToStream(stream, batch));
          await waitUntil(() => collector.received.length >= 3, 'events from the other connection arrived');
          expect(ids(collector.received)).toEqual(ids(batch));
        } finally {
          await collector.subscription.stop();
        }
      });

      it('resumes after a restart from the last checkpoint with only new events', async (context) => {
        if (fixture.reopen === undefined) {
          context.skip();
          return;
        }
        const headBefore = await store.headPosition();
        const stream = streamName('sub-restart');
        const beforeRestart = events(3);
        expectRight(await store.appendToStream(stream, beforeRestart));

        let checkpoint = headBefore;
        const first = store.subscribeToAll({ after: headBefore }, (recorded) => {
          checkpoint = recorded.position;
        });
        const lastBefore = (await store.readStream(stream))[2]?.position as number;
        await waitUntil(() => checkpoint >= lastBefore, 'the first subscription reached the last event');
        await first.stop();
        await store.close();

        const reopened = await fixture.reopen();
        expect(ids(await reopened.readStream(stream))).toEqual(ids(beforeRestart));
        const afterRestart = events(2);
        expectRight(await reopened.appendToStream(stream, afterRestart));

        const collector = collect(reopened, [stream], checkpoint);
        try {
          await waitUntil(() => collector.received.length >= 2, 'the new events arrived after the restart');
          const more = event();
          expectRight(await reopened.appendToStream(stream, [more]));
          await waitUntil(() => collector.received.length >= 3, 'a live event arrived after the restart');
          expect(ids(collector.received)).toEqual([...ids(afterRestart), more.id]);
        } finally {
          await collector.subscription.stop();
        }
      });

      it('stop() ends delivery', async () => {
        const stream = streamName('sub-stop');
        const collector = collect(store, [stream], await store.headPosition());
        const first = event();
        expectRight(await store.appendToStream(stream, [first]));
        await waitUntil(() => collector.received.length >= 1, 'the first event arrived');
        await collector.subscription.stop();

        const second = event();
        expectRight(await store.appendToStream(stream, [second]));
        // A second subscription seeing the event shows it was deliverable; the stopped one must still not get it.
        const witness = collect(store, [stream], collector.received[0]?.position);
        try {
          await waitUntil(() => witness.received.length >= 1, 'the witness subscription got the later event');
        } finally {
          await witness.subscription.stop();
        }
        await settle();
        expect(ids(witness.received)).toEqual([second.id]);
        expect(ids(collector.received)).toEqual([first.id]);
      });

      it('stop() resolves only after the in-flight handler has finished', async () => {
        const stream = streamName('sub-in-flight');
        let release: () => void = () => undefined;
        const gate = new Promise<void>((resolve) => {
          release = resolve;
        });
        let started = 0;
        let finished = 0;
        const subscription = store.subscribeToAll({ after: await store.headPosition() }, async (recorded) => {
          if (recorded.streamName !== stream) return;
          started++;
          await gate;
          finished++;
        });
        expectRight(await store.appendToStream(stream, events(2)));
        await waitUntil(() => started === 1, 'the handler started');

        let stopped = false;
        const stopping = subscription.stop().then(() => {
          stopped = true;
        });
        await settle();
        expect(stopped).toBe(false);
        release();
        await stopping;
        expect(finished).toBe(1);
        expect(started).toBe(1);
      });

      it('a handler error stops the subscription and reaches onError', async () => {
        const stream = streamName('sub-error');
        const failure = new Error('projection failed');
        const seen: string[] = [];
        const errors: unknown[] = [];
        const batch = events(3);
        const headBefore = await store.headPosition();
        const written = expectRight(await store.appendToStream(stream, batch));
        const subscription = store.subscribeToAll(
          { after: headBefore },
          (recorded) => {
            if (recorded.streamName !== stream) return;
            seen.push(recorded.id);
            if (seen.length === 2) throw failure;
          },
          (error) => errors.push(error),
        );
        try {
          await waitUntil(() => errors.length >= 1, 'onError was called');
          expect(errors).toEqual([failure]);
          expectRight(await store.appendToStream(stream, [event()]));
          const witness = collect(store, [stream], written.position);
          try {
            await waitUntil(() => witness.received.length >= 1, 'the witness got the later event');
          } finally {
            await witness.subscription.stop();
          }
          await settle();
          expect(seen).toEqual(ids(batch.slice(0, 2)));
        } finally {
          await subscription.stop();
        }
      });
    });
  });
}
