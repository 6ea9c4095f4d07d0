import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { afterEach, describe, expect, it } from 'vitest';
import { LogFollower } from '../../../application/log-follower.ts';
import type { LogFollowerDeps } from '../../../application/log-follower.ts';
import type { EventStore, RecordedEvent } from '../../../application/ports/event-store.ts';
import type { ProjectionSink } from '../../../application/ports/read-models.ts';
import { ProjectionRunner } from '../../../application/projections/runner.ts';
import { createInMemoryEventStore } from '../../../adapters/event-store/memory.ts';
import { openSqliteEventStore } from '../../../adapters/event-store/sqlite.ts';

/**
 * Subscribers that ignore some streams (the schedules) are not handed their events by the embedded stores, and still
 * reach every position: a write whose last event is left out is visible to read-your-writes, and checkpoints move on.
 */

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const stores: ReadonlyArray<[string, () => EventStore]> = [
  ['memory', () => createInMemoryEventStore()],
  [
    'sqlite',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'ignored-streams-'));
      dirs.push(dir);
      return openSqliteEventStore({ path: join(dir, 'events.db') });
    },
  ],
];

const event = (id: string) => ({ id, type: 'Thing', data: { id } });

/** A meeting's event with two schedule events after it, in one atomic append, as a booking writes them. */
const book = async (store: EventStore, n: number): Promise<number> => {
  const appended = await store.appendToStreams([
    { streamName: `meeting-${n}`, events: [event(`m${n}`)], expectedRevision: 'no_stream' },
    { streamName: `schedule-a-${n}`, events: [event(`a${n}`)], expectedRevision: 'no_stream' },
    { streamName: `schedule-b-${n}`, events: [event(`b${n}`)], expectedRevision: 'no_stream' },
  ]);
  if (E.isLeft(appended)) throw new Error('append refused');
  return appended.right.position;
};

const recordingSink = () => {
  let checkpoint = 0;
  const seen: string[] = [];
  const sink: ProjectionSink = {
    name: 'recording',
    checkpoint: () => checkpoint,
    apply: (events) => {
      for (const e of events) {
        if (e.position <= checkpoint) continue;
        seen.push(e.streamName);
        checkpoint = e.position;
      }
    },
    reset: () => {
      checkpoint = 0;
    },
  };
  return { sink, seen };
};

class IgnoringFollower extends LogFollower {
  readonly seen: string[] = [];
  constructor(deps: LogFollowerDeps) {
    super(deps, 'ignoring', 'ignoring follower paused');
  }
  protected override ignoredStreamPrefixes(): ReadonlyArray<string> {
    return ['schedule-'];
  }
  protected handle(recorded: RecordedEvent): Promise<void> {
    this.seen.push(recorded.streamName);
    this.advance(recorded.position, false);
    return Promise.resolve();
  }
}

describe.each(stores)('streams a subscriber ignores (%s store)', (_name, open) => {
  it('are left out, and the subscriber is told it passed them once the events before them are handled', async () => {
    const store = open();
    const handled: Array<string | number> = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const head = await book(store, 1);
    const passed = new Promise<number>((resolve) => {
      const subscription = store.subscribeToAll(
        {
          ignoreStreamPrefixes: ['schedule-'],
          onPassed: (position) => {
            handled.push(position);
            void subscription.stop().then(() => resolve(position));
          },
        },
        async (e) => {
          await gate;
          handled.push(e.streamName);
        },
      );
    });
    release();
    expect(await passed).toBe(head);
    expect(handled).toEqual(['meeting-1', head]);
    await store.close();
  });

  it('let a projection runner reach a write whose last event no sink reads, at once and after a restart', async () => {
    const store = open();
    const { sink, seen } = recordingSink();
    const runner = new ProjectionRunner(store, [sink], undefined, undefined, ['schedule-']);
    runner.start();
    const first = await book(store, 1);
    await runner.waitFor(first);
    const second = await book(store, 2);
    await runner.waitFor(second);
    expect(seen).toEqual(['meeting-1', 'meeting-2']);
    expect(runner.appliedPosition).toBe(second);
    expect(Object.values(await runner.status()).map((s) => s.lag)).toEqual([0]);
    await runner.stop();

    // Started again over a log that ends with left-out events: it catches up to the head and takes writes.
    const again = new ProjectionRunner(store, [sink], undefined, undefined, ['schedule-']);
    again.start();
    await again.whenHealthy(10_000);
    expect(again.appliedPosition).toBe(second);
    expect(seen).toEqual(['meeting-1', 'meeting-2']);
    await again.stop();
    await store.close();
  });

  it('move a log follower checkpoint past them', async () => {
    const store = open();
    const saved = new Map<string, number>();
    const checkpoints = {
      get: (name: string) => saved.get(name) ?? 0,
      set: (name: string, p: number) => saved.set(name, p),
    };
    const log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
    const follower = new IgnoringFollower({ store, checkpoints, log });
    follower.start();
    const head = await book(store, 1);
    for (;;) {
      const status = await follower.status();
      if (status.position === head) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await follower.stop();
    expect(follower.seen).toEqual(['meeting-1']);
    expect(saved.get('ignoring')).toBe(head);
    await store.close();
  });

  it('leave out every prefix named, and hand the rest over whole', async () => {
    const store = open();
    await book(store, 1);
    const appended = await store.appendToStreams([
      { streamName: 'other-1', events: [event('o1')], expectedRevision: 'no_stream' },
      { streamName: 'series-1', events: [event('s1')], expectedRevision: 'no_stream' },
    ]);
    if (E.isLeft(appended)) throw new Error('append refused');
    const seen: RecordedEvent[] = [];
    await new Promise<void>((resolve) => {
      const subscription = store.subscribeToAll(
        {
          ignoreStreamPrefixes: ['schedule-', 'other-'],
          onPassed: (position) => {
            if (position === appended.right.position) void subscription.stop().then(resolve);
          },
        },
        async (e) => {
          seen.push(e);
          if (e.position === appended.right.position) void subscription.stop().then(resolve);
        },
      );
    });
    expect(seen.map((e) => [e.streamName, e.data])).toEqual([
      ['meeting-1', { id: 'm1' }],
      ['series-1', { id: 's1' }],
    ]);
    await store.close();
  });

  it('read past batches of nothing but left-out events to the ones after them', async () => {
    const store = open();
    // More left-out events than one catch-up batch holds, before and between the ones handed over.
    for (let n = 1; n <= 400; n++) await book(store, n);
    const last = await book(store, 401);
    const seen: string[] = [];
    await new Promise<void>((resolve) => {
      const subscription = store.subscribeToAll({ ignoreStreamPrefixes: ['schedule-', 'meeting-1'] }, async (e) => {
        seen.push(e.streamName);
        if (e.position === last - 2) void subscription.stop().then(resolve);
      });
    });
    const expected = Array.from({ length: 401 }, (_, i) => `meeting-${i + 1}`).filter(
      (m) => !m.startsWith('meeting-1'),
    );
    expect(seen).toEqual(expected);
    await store.close();
  });
});
