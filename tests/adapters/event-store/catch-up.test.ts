import { afterEach, describe, expect, it } from 'vitest';
import { createSubscriptionHub } from '../../../adapters/event-store/catch-up.ts';
import type { CatchUpBatch, IgnoredStreams, SubscriptionHub } from '../../../adapters/event-store/catch-up.ts';
import type { ReadAllOptions, RecordedEvent, Subscription } from '../../../application/ports/event-store.ts';

/** A log in an array behind a hub, counting the reads the hub makes and able to make the next ones fail. */
const hubOverLog = () => {
  const events: RecordedEvent[] = [];
  const reads: Array<{ after: number; leftOut: ReadonlyArray<string> }> = [];
  let failing: Error | undefined;
  const readBatch = async (options: ReadAllOptions, ignored: IgnoredStreams | undefined): Promise<CatchUpBatch> => {
    if (failing !== undefined) throw failing;
    const after = options.after ?? 0;
    reads.push({ after, leftOut: ignored?.prefixes ?? [] });
    const rows = events.filter((event) => event.position > after).slice(0, options.limit ?? events.length);
    const last = rows[rows.length - 1];
    return {
      events: rows.filter((event) => ignored === undefined || !ignored.test(event.streamName)),
      read: rows.length,
      lastPosition: last?.position ?? 0,
    };
  };
  const hub = createSubscriptionHub({ readBatch });
  const append = (...streams: string[]): void => {
    for (const streamName of streams) {
      const position = events.length + 1;
      events.push({
        id: `e${position}`,
        streamName,
        revision: 0,
        position,
        type: 'Tested',
        data: { position },
        metadata: {},
        recordedAt: '2030-01-01T00:00:00.000Z',
      });
    }
    hub.wakeAll();
  };
  return {
    hub,
    append,
    reads,
    head: () => events.length,
    failNextReads: (error: Error | undefined) => {
      failing = error;
    },
  };
};

const until = async (condition: () => boolean, what: string): Promise<void> => {
  for (let turn = 0; turn < 10_000; turn++) {
    if (condition()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`never got to: ${what}`);
};

interface Follower {
  readonly positions: number[];
  readonly passed: number[];
  readonly errors: unknown[];
  readonly subscription: Subscription;
  /** The highest position handled or passed. */
  readonly reached: () => number;
}

const follow = (
  hub: SubscriptionHub,
  options: { after?: number; ignore?: string[]; handler?: (event: RecordedEvent) => Promise<void> | void } = {},
): Follower => {
  const positions: number[] = [];
  const passed: number[] = [];
  const errors: unknown[] = [];
  const subscription = hub.subscribe(
    {
      ...(options.after !== undefined ? { after: options.after } : {}),
      ...(options.ignore !== undefined
        ? { ignoreStreamPrefixes: options.ignore, onPassed: (p: number) => passed.push(p) }
        : {}),
    },
    async (event) => {
      await options.handler?.(event);
      positions.push(event.position);
    },
    (error) => errors.push(error),
  );
  const reached = () => Math.max(0, ...positions, ...passed);
  return { positions, passed, errors, subscription, reached };
};

describe('the subscription hub of the embedded stores', () => {
  const subscriptions: Subscription[] = [];
  afterEach(async () => {
    await Promise.all(subscriptions.splice(0).map((subscription) => subscription.stop()));
  });
  const keep = (follower: Follower): Follower => {
    subscriptions.push(follower.subscription);
    return follower;
  };

  it('reads new events once for every caught-up subscriber, each leaving out its own ignored streams', async () => {
    const log = hubOverLog();
    const all = keep(follow(log.hub));
    const noSchedules = keep(follow(log.hub, { ignore: ['schedule-'] }));
    const onlyMeetings = keep(follow(log.hub, { ignore: ['schedule-', 'person-'] }));
    await until(() => log.reads.length >= 1, 'the first read');
    await new Promise((resolve) => setImmediate(resolve));
    // The three start together at the same place: one read of the (empty) log for all of them.
    expect(log.reads).toHaveLength(1);
    log.reads.length = 0;

    log.append('meeting-1', 'schedule-a', 'person-1', 'meeting-2', 'schedule-b');
    await until(() => all.reached() === 5 && noSchedules.reached() === 5 && onlyMeetings.reached() === 5, 'all at 5');

    expect(all.positions).toEqual([1, 2, 3, 4, 5]);
    expect(noSchedules.positions).toEqual([1, 3, 4]);
    expect(noSchedules.passed).toEqual([5]);
    expect(onlyMeetings.positions).toEqual([1, 4]);
    expect(onlyMeetings.passed).toEqual([5]);
    // One read of the new events for the three (the reads that find nothing more come after it, also shared).
    const readsAfterZero = log.reads.filter((read) => read.after === 0);
    expect(readsAfterZero).toHaveLength(1);
  });

  it('leaves out in the shared read only the streams every subscriber ignores', async () => {
    const log = hubOverLog();
    keep(follow(log.hub, { ignore: ['schedule-', 'person-'] }));
    keep(follow(log.hub, { ignore: ['schedule-', 'webhook-'] }));
    await until(() => log.reads.length >= 1, 'the first read');
    log.reads.length = 0;
    log.append('meeting-1');
    await until(() => log.reads.length >= 1, 'a read');
    expect(log.reads[0]?.leftOut).toEqual(['schedule-']);
  });

  it('lets a slow subscriber fall behind without holding up the others, and hands it everything once', async () => {
    const log = hubOverLog();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = keep(follow(log.hub, { handler: (event) => (event.position === 1 ? gate : undefined) }));
    const fast = keep(follow(log.hub));
    log.append('meeting-1', 'meeting-2');
    await until(() => fast.reached() === 2, 'the fast one at 2');
    for (let round = 0; round < 5; round++) {
      log.append('meeting-x');
      await until(() => fast.reached() === log.head(), 'the fast one at the head');
    }
    expect(slow.positions).toEqual([]);
    release();
    await until(() => slow.reached() === log.head(), 'the slow one at the head');
    expect(slow.positions).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(fast.positions).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('catches a subscriber that starts behind up on its own, then follows with the others', async () => {
    const log = hubOverLog();
    log.append('meeting-1', 'meeting-2', 'meeting-3');
    const atHead = keep(follow(log.hub, { after: 3 }));
    const behind = keep(follow(log.hub, { after: 1 }));
    await until(() => behind.reached() === 3, 'caught up');
    log.append('meeting-4');
    await until(() => behind.reached() === 4 && atHead.reached() === 4, 'both at 4');
    expect(behind.positions).toEqual([2, 3, 4]);
    expect(atHead.positions).toEqual([4]);
  });

  it('stops only the subscriber whose handler fails; the others go on', async () => {
    const log = hubOverLog();
    const failing = keep(
      follow(log.hub, {
        handler: (event) => {
          if (event.position === 2) throw new Error('boom');
        },
      }),
    );
    const other = keep(follow(log.hub));
    log.append('meeting-1', 'meeting-2', 'meeting-3');
    await until(() => other.reached() === 3 && failing.errors.length === 1, 'the failure and the other at 3');
    log.append('meeting-4');
    await until(() => other.reached() === 4, 'the other at 4');
    expect(failing.positions).toEqual([1]);
    expect(other.positions).toEqual([1, 2, 3, 4]);
  });

  it('tells every subscriber sharing a read that fails, and reads afresh for the next one', async () => {
    const log = hubOverLog();
    const first = keep(follow(log.hub));
    const second = keep(follow(log.hub));
    await until(() => log.reads.length >= 1, 'the first read');
    log.failNextReads(new Error('disk gone'));
    log.append('meeting-1');
    await until(() => first.errors.length === 1 && second.errors.length === 1, 'both told');
    log.failNextReads(undefined);
    const again = keep(follow(log.hub));
    await until(() => again.reached() === 1, 'a new subscriber reads');
    expect(again.positions).toEqual([1]);
  });
});
