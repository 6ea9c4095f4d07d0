import { randomUUID } from 'node:crypto';
import { isLeft, isRight } from 'fp-ts/lib/Either.js';
import type { Either } from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { MultiStreamAppendUnsupportedError } from '../../../application/ports/event-store.ts';
import type {
  EventStore,
  EventToAppend,
  MultiStreamAppendResult,
  RecordedEvent,
  StreamAppend,
  WrongExpectedRevision,
} from '../../../application/ports/event-store.ts';

/**
 * The contract of appendToStreams, run by contract.ts: its cases for stores that say they support it, and the
 * refusal of those that say they do not (a KurrentDB older than 25.1, run on the fake server in kurrentdb.test.ts).
 * Like the rest of the contract it uses fresh stream names and never assumes it owns the log.
 */

type MultiAnswer = Either<WrongExpectedRevision, MultiStreamAppendResult>;

export interface MultiAppendFixture {
  readonly store: () => EventStore;
  /** Another connection to the same log, or undefined when the store has none (it then races with itself). */
  readonly secondConnection: () => Promise<EventStore | undefined>;
}

const WAIT_TIMEOUT_MS = 15_000;

async function waitUntil(condition: () => boolean, description: string): Promise<void> {
  const deadline = Date.now() + WAIT_TIMEOUT_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${WAIT_TIMEOUT_MS} ms waiting until ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const streamName = (label: string) => `contract_${label}-${randomUUID()}`;
const event = (type = 'Tested', data: unknown = { n: 0 }, metadata?: EventToAppend['metadata']): EventToAppend => ({
  id: randomUUID(),
  type,
  data,
  ...(metadata !== undefined ? { metadata } : {}),
});
const events = (count: number): EventToAppend[] => Array.from({ length: count }, (_, n) => event('Tested', { n }));
const ids = (list: ReadonlyArray<{ readonly id: string }>) => list.map((e) => e.id);

function expectWritten(answer: MultiAnswer): MultiStreamAppendResult {
  if (isLeft(answer))
    throw new Error(`expected the multi-stream append to succeed, got ${JSON.stringify(answer.left)}`);
  return answer.right;
}

function expectRefused(answer: MultiAnswer): WrongExpectedRevision {
  if (isRight(answer)) throw new Error(`expected a WrongExpectedRevision, got ${JSON.stringify(answer.right)}`);
  return answer.left;
}

async function ours(store: EventStore, after: number, streams: ReadonlyArray<string>): Promise<RecordedEvent[]> {
  return (await store.readAll({ after })).filter((e) => streams.includes(e.streamName));
}

async function rejection(attempt: Promise<unknown>): Promise<unknown> {
  return attempt.then(
    () => undefined,
    (error: unknown) => error,
  );
}

export function runMultiAppendContract(fixture: MultiAppendFixture): void {
  describe('appendToStreams', () => {
    /** Skips when the store cannot append atomically to several streams (a real KurrentDB before 25.1). */
    const supported = async (context: { skip: () => void }) => {
      if (await fixture.store().supportsMultiStreamAppend()) return true;
      context.skip();
      return false;
    };

    it('where the store cannot append atomically, rejects as it said it would and writes nothing', async (context) => {
      const store = fixture.store();
      if (await store.supportsMultiStreamAppend()) {
        context.skip();
        return;
      }
      const a = streamName('multi-unsupported');
      const b = streamName('multi-unsupported');
      const refused = await rejection(
        store.appendToStreams([
          { streamName: a, events: events(1), expectedRevision: 'no_stream' },
          { streamName: b, events: events(1), expectedRevision: 'any' },
        ]),
      );
      expect(refused).toBeInstanceOf(MultiStreamAppendUnsupportedError);
      expect(await store.supportsMultiStreamAppend()).toBe(false);
      expect(await store.readStream(a)).toEqual([]);
      expect(await store.readStream(b)).toEqual([]);
    });

    it('writes every stream, at consecutive positions, and answers each revision', async (context) => {
      if (!(await supported(context))) return;
      const store = fixture.store();
      const a = streamName('multi-a');
      const b = streamName('multi-b');
      const first = event();
      expect(isRight(await store.appendToStream(a, [first]))).toBe(true);
      const headBefore = await store.headPosition();
      const toA = events(2);
      const toB = events(1);
      const result = expectWritten(
        await store.appendToStreams([
          { streamName: a, events: toA, expectedRevision: 0 },
          { streamName: b, events: toB, expectedRevision: 'no_stream' },
        ]),
      );
      expect(result.streams).toEqual([
        { streamName: a, nextExpectedRevision: 2 },
        { streamName: b, nextExpectedRevision: 0 },
      ]);

      // Nothing of anyone else's between them: the append is one transaction.
      const after = await store.readAll({ after: headBefore });
      const start = after.findIndex((e) => e.id === toA[0]?.id);
      expect(ids(after.slice(start, start + 3))).toEqual(ids([...toA, ...toB]));
      const written = after.slice(start, start + 3);
      expect(written.map((e) => [e.streamName, e.revision])).toEqual([
        [a, 1],
        [a, 2],
        [b, 0],
      ]);
      expect(written.every((e) => e.position > headBefore)).toBe(true);
      expect(result.position).toBe(written[2]?.position);
      if (store.capabilities.gapFreePositions) {
        expect(written.map((e) => e.position)).toEqual([1, 2, 3].map((n) => headBefore + n));
      }
      expect(await store.headPosition()).toBe(result.position);
      expect(ids(await store.readStream(a))).toEqual(ids([first, ...toA]));
      expect((await store.readStream(b)).map((e) => [e.id, e.revision, e.data])).toEqual([[toB[0]?.id, 0, { n: 0 }]]);
    });

    it('writes nothing anywhere when one stream is not at its expected revision, and names it', async (context) => {
      if (!(await supported(context))) return;
      const store = fixture.store();
      const fresh = streamName('multi-fresh');
      const moved = streamName('multi-moved');
      expect(isRight(await store.appendToStream(moved, events(2)))).toBe(true);
      const headBefore = await store.headPosition();
      const refused = expectRefused(
        await store.appendToStreams([
          { streamName: fresh, events: events(2), expectedRevision: 'no_stream' },
          { streamName: moved, events: events(1), expectedRevision: 0 },
        ]),
      );
      expect(refused).toEqual({ _tag: 'WrongExpectedRevision', streamName: moved, expected: 0, actual: 1 });
      expect(await store.readStream(fresh)).toEqual([]);
      expect(await store.readStream(moved)).toHaveLength(2);
      expect(await ours(store, headBefore, [fresh, moved])).toEqual([]);
    });

    it('checks the last event id where it says it does, and refuses to take one where it does not', async (context) => {
      if (!(await supported(context))) return;
      const store = fixture.store();
      const a = streamName('multi-last-id');
      const b = streamName('multi-last-id');
      const own = events(2);
      expect(isRight(await store.appendToStream(a, own))).toBe(true);
      // Another writer's event where a refused append of ours would have put its own: the revision alone matches.
      const theirs = event();
      expect(isRight(await store.appendToStream(a, [theirs], { expectedRevision: 1 }))).toBe(true);
      const ourRefused = randomUUID();
      const attempt = (lastId: string, expectedRevision: number | 'no_stream' = 2, stream = a) =>
        store.appendToStreams([
          { streamName: stream, events: events(1), expectedRevision, expectedLastEventId: lastId },
          { streamName: b, events: events(1), expectedRevision: 'any' },
        ]);
      if (store.capabilities.checksLastEventId !== true) {
        expect(await rejection(attempt(theirs.id))).toBeInstanceOf(RangeError);
        expect(await store.readStream(a)).toHaveLength(3);
        expect(await store.readStream(b)).toEqual([]);
        return;
      }
      expect(expectRefused(await attempt(ourRefused))).toEqual({
        _tag: 'WrongExpectedRevision',
        streamName: a,
        expected: 2,
        actual: 2,
      });
      const fresh = streamName('multi-last-id');
      expect(expectRefused(await attempt(theirs.id, 'no_stream', fresh))).toMatchObject({ streamName: fresh });
      expect(await store.readStream(b)).toEqual([]);
      expect(await store.readStream(fresh)).toEqual([]);
      const written = expectWritten(await attempt(theirs.id));
      expect(written.streams).toEqual([
        { streamName: a, nextExpectedRevision: 3 },
        { streamName: b, nextExpectedRevision: 0 },
      ]);
      expect(ids(await store.readStream(a)).slice(0, 3)).toEqual(ids([...own, theirs]));
    });

    it("checks 'no_stream', 'stream_exists', 'any' and a revision per stream", async (context) => {
      if (!(await supported(context))) return;
      const store = fixture.store();
      const missing = streamName('multi-missing');
      const existing = streamName('multi-existing');
      const anything = streamName('multi-any');
      expect(isRight(await store.appendToStream(existing, events(2)))).toBe(true);
      const written = expectWritten(
        await store.appendToStreams([
          { streamName: missing, events: events(1), expectedRevision: 'no_stream' },
          { streamName: existing, events: events(1), expectedRevision: 'stream_exists' },
          { streamName: anything, events: events(2), expectedRevision: 'any' },
        ]),
      );
      expect(written.streams.map((s) => s.nextExpectedRevision)).toEqual([0, 2, 1]);
      expect(
        expectWritten(
          await store.appendToStreams([
            { streamName: existing, events: events(1), expectedRevision: 2 },
            { streamName: anything, events: events(1), expectedRevision: 'any' },
          ]),
        ).streams.map((s) => s.nextExpectedRevision),
      ).toEqual([3, 2]);

      const ok: StreamAppend = { streamName: streamName('multi-ok'), events: events(1), expectedRevision: 'any' };
      const refusedBy = async (append: StreamAppend) => expectRefused(await store.appendToStreams([ok, append]));
      const nowhere = streamName('multi-nowhere');
      expect(await refusedBy({ streamName: nowhere, events: events(1), expectedRevision: 'stream_exists' })).toEqual({
        _tag: 'WrongExpectedRevision',
        streamName: nowhere,
        expected: 'stream_exists',
        actual: -1,
      });
      expect(await refusedBy({ streamName: existing, events: events(1), expectedRevision: 'no_stream' })).toEqual({
        _tag: 'WrongExpectedRevision',
        streamName: existing,
        expected: 'no_stream',
        actual: 3,
      });
      expect(await refusedBy({ streamName: nowhere, events: events(1), expectedRevision: 0 })).toEqual({
        _tag: 'WrongExpectedRevision',
        streamName: nowhere,
        expected: 0,
        actual: -1,
      });
      expect(await store.readStream(ok.streamName)).toEqual([]);
      expect(await store.readStream(nowhere)).toEqual([]);
      expect(await store.readStream(existing)).toHaveLength(4);
    });

    it('refuses no streams, a stream named twice and a stream without events, writing nothing', async (context) => {
      if (!(await supported(context))) return;
      const store = fixture.store();
      const a = streamName('multi-range');
      const b = streamName('multi-range');
      expect(await rejection(store.appendToStreams([]))).toBeInstanceOf(RangeError);
      const twice = await rejection(
        store.appendToStreams([
          { streamName: a, events: events(1), expectedRevision: 'any' },
          { streamName: b, events: events(1), expectedRevision: 'any' },
          { streamName: a, events: events(1), expectedRevision: 'any' },
        ]),
      );
      expect(twice).toBeInstanceOf(RangeError);
      expect((twice as Error).message).toContain(a);
      const empty = await rejection(
        store.appendToStreams([
          { streamName: a, events: events(1), expectedRevision: 'any' },
          { streamName: b, events: [], expectedRevision: 'any' },
        ]),
      );
      expect(empty).toBeInstanceOf(RangeError);
      expect((empty as Error).message).toContain(b);
      expect(await store.readStream(a)).toEqual([]);
      expect(await store.readStream(b)).toEqual([]);
    });

    it('keeps the correlation and causation ids, and not the actor', async (context) => {
      if (!(await supported(context))) return;
      const store = fixture.store();
      const a = streamName('multi-metadata');
      const b = streamName('multi-metadata');
      const correlationId = randomUUID();
      const causationId = randomUUID();
      const actor = { id: 'coach-42', roles: ['coach'] };
      expectWritten(
        await store.appendToStreams([
          {
            streamName: a,
            events: [event('Meta', {}, { correlationId, causationId, actor })],
            expectedRevision: 'any',
          },
          { streamName: b, events: [event('Bare', {})], expectedRevision: 'any' },
        ]),
      );
      const [withMetadata] = await store.readStream(a);
      const [without] = await store.readStream(b);
      expect(withMetadata?.metadata).toMatchObject({ correlationId, causationId });
      expect(withMetadata?.metadata.actor).toBeUndefined();
      expect(without?.metadata.correlationId).toBeUndefined();
      expect(without?.metadata.causationId).toBeUndefined();
      expect(without?.type).toBe('Bare');
    });

    it('delivers all the events of one multi-stream append to subscribers, in order', async (context) => {
      if (!(await supported(context))) return;
      const store = fixture.store();
      const a = streamName('multi-sub-a');
      const b = streamName('multi-sub-b');
      const received: RecordedEvent[] = [];
      const errors: unknown[] = [];
      const subscription = store.subscribeToAll(
        { after: await store.headPosition() },
        (recorded) => {
          if (recorded.streamName === a || recorded.streamName === b) received.push(recorded);
        },
        (error) => errors.push(error),
      );
      try {
        const toA = events(2);
        const toB = events(3);
        const result = expectWritten(
          await store.appendToStreams([
            { streamName: b, events: toB, expectedRevision: 'no_stream' },
            { streamName: a, events: toA, expectedRevision: 'no_stream' },
          ]),
        );
        await waitUntil(() => received.length >= 5, 'the five events arrived');
        expect(ids(received)).toEqual(ids([...toB, ...toA]));
        expect(received.at(-1)?.position).toBe(result.position);
        for (let i = 1; i < received.length; i++) {
          expect(received[i]?.position).toBeGreaterThan(received[i - 1]?.position ?? Infinity);
        }
        expect(errors).toEqual([]);
      } finally {
        await subscription.stop();
      }
    });

    it('answers a full retry with the same event ids as the first time, and refuses a partial one', async (context) => {
      if (!(await supported(context))) return;
      const store = fixture.store();
      const a = streamName('multi-retry-a');
      const b = streamName('multi-retry-b');
      const appends: StreamAppend[] = [
        { streamName: a, events: events(2), expectedRevision: 'no_stream' },
        { streamName: b, events: events(1), expectedRevision: 'no_stream' },
      ];
      const original = expectWritten(await store.appendToStreams(appends));
      expect(expectWritten(await store.appendToStreams(appends))).toEqual(original);
      expect(await store.readStream(a)).toHaveLength(2);
      expect(await store.readStream(b)).toHaveLength(1);

      // One stream's events are there already, another's are new: not a retry of anything that was written.
      const c = streamName('multi-retry-c');
      const partial = expectRefused(
        await store.appendToStreams([
          { streamName: c, events: events(1), expectedRevision: 'no_stream' },
          appends[0] as StreamAppend,
        ]),
      );
      expect(partial).toEqual({ _tag: 'WrongExpectedRevision', streamName: a, expected: 'no_stream', actual: 1 });
      expect(await store.readStream(c)).toEqual([]);
    });

    it('lets exactly one of two multi-stream appends racing on a shared stream win', async (context) => {
      if (!(await supported(context))) return;
      const store = fixture.store();
      const other = (await fixture.secondConnection()) ?? store;
      const shared = streamName('multi-race-shared');
      expect(isRight(await store.appendToStream(shared, [event()]))).toBe(true);
      const mine = streamName('multi-race-mine');
      const theirs = streamName('multi-race-theirs');
      const results = await Promise.all([
        store.appendToStreams([
          { streamName: mine, events: events(1), expectedRevision: 'no_stream' },
          { streamName: shared, events: events(1), expectedRevision: 0 },
        ]),
        other.appendToStreams([
          { streamName: theirs, events: events(1), expectedRevision: 'no_stream' },
          { streamName: shared, events: events(1), expectedRevision: 0 },
        ]),
      ]);
      expect(results.filter(isRight)).toHaveLength(1);
      expect(results.find(isLeft)?.left).toEqual({
        _tag: 'WrongExpectedRevision',
        streamName: shared,
        expected: 0,
        actual: 1,
      });
      const winner = isRight(results[0] as MultiAnswer) ? mine : theirs;
      const loser = winner === mine ? theirs : mine;
      expect(await store.readStream(winner)).toHaveLength(1);
      expect(await store.readStream(loser)).toEqual([]);
      expect(await other.readStream(loser)).toEqual([]);
      expect(await store.readStream(shared)).toHaveLength(2);
    });
  });
}
