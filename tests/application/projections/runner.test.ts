import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { people } from '../../../application/aggregates.ts';
import { createExecutor } from '../../../application/execute.ts';
import type { RecordedEvent } from '../../../application/ports/event-store.ts';
import type { ProjectionSink } from '../../../application/ports/read-models.ts';
import { ProjectionRunner } from '../../../application/projections/runner.ts';
import { personStreamName } from '../../../domain/person.ts';
import { createInMemoryEventStore } from '../../../adapters/event-store/memory.ts';

const eventually = async (check: () => boolean, what: string, timeoutMs = 10_000) => {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

/** A sink that records what it applied and throws while `broken` is set, without advancing. */
const flakySink = () => {
  let checkpoint = 0;
  const applied: number[] = [];
  const sink = {
    broken: false,
    applied,
    name: 'flaky',
    checkpoint: () => checkpoint,
    apply: (events: ReadonlyArray<RecordedEvent>) => {
      if (sink.broken) throw new Error('disk on fire');
      for (const e of events) {
        if (e.position <= checkpoint) continue;
        applied.push(e.position);
        checkpoint = e.position;
      }
    },
    reset: () => {
      checkpoint = 0;
    },
  };
  return sink satisfies ProjectionSink & { broken: boolean };
};

const person = (id: string) => ({
  type: 'RecordPerson' as const,
  data: {
    personId: id,
    name: id,
    email: `${id}@example.com`,
    at: new Date().toISOString(),
    by: { id: 'ada', roles: ['admin' as const] },
  },
});

describe('projection runner', () => {
  it('refuses writes while stopped by an error, restarts from the last good checkpoint, and applies every event once', async () => {
    const store = createInMemoryEventStore();
    const sink = flakySink();
    const errors: unknown[] = [];
    const runner = new ProjectionRunner(store, [sink], (error) => errors.push(error));
    runner.start();
    await runner.whenHealthy();
    const { execute } = createExecutor({
      store,
      projections: runner,
      newId: () => crypto.randomUUID(),
      clock: () => new Date(),
    });
    const ctx = { user: { id: 'ada', roles: ['admin' as const] } };
    const write = (id: string) => execute(ctx, people, id, [person(id)]);

    expect(E.isRight(await write('a'))).toBe(true);
    sink.broken = true;
    // This write lands in the log, but its projection fails: the writer is told, and the runner stops.
    await expect(write('b')).rejects.toThrow('disk on fire');
    expect(runner.healthy).toBe(false);
    expect((await runner.status()).flaky).toMatchObject({ error: expect.stringContaining('restarting') });
    expect(JSON.stringify(await runner.status())).not.toContain('disk on fire');
    const refused = await write('c');
    expect(refused).toEqual(E.left(expect.objectContaining({ _tag: 'Unavailable' })));
    expect(await store.headPosition()).toBe(2);

    sink.broken = false;
    await eventually(() => runner.healthy && sink.applied.length === 2, 'the runner to restart and catch up');
    expect(sink.applied).toEqual([1, 2]);
    expect(E.isRight(await write('c'))).toBe(true);
    expect(sink.applied).toEqual([1, 2, 3]);
    expect(errors.length).toBeGreaterThan(0);
    await runner.stop();
  });

  it('a listener that throws does not stop the projections', async () => {
    const store = createInMemoryEventStore();
    const sink = flakySink();
    const errors: unknown[] = [];
    const runner = new ProjectionRunner(store, [sink], (error) => errors.push(error));
    runner.onProjected(() => {
      throw new Error('listener bug');
    });
    runner.start();
    await runner.whenHealthy();
    const { execute } = createExecutor({
      store,
      projections: runner,
      newId: () => crypto.randomUUID(),
      clock: () => new Date(),
    });
    const ctx = { user: { id: 'ada', roles: ['admin' as const] } };
    for (const id of ['a', 'b']) {
      expect(E.isRight(await execute(ctx, people, id, [person(id)]))).toBe(true);
    }
    expect(runner.healthy).toBe(true);
    expect(sink.applied).toEqual([1, 2]);
    expect(errors.map((e) => (e as Error).message)).toEqual(['listener bug', 'listener bug']);
    await runner.stop();
  });

  it('refuses writes until the read models have caught up with the log head as of the start, then takes them', async () => {
    const store = createInMemoryEventStore();
    const ctx = { user: { id: 'ada', roles: ['admin' as const] } };
    for (let i = 0; i < 3; i++) {
      await store.appendToStream(personStreamName(`p${i}`), [
        { id: crypto.randomUUID(), type: 'PersonRecorded', data: { personId: `p${i}` } },
      ]);
    }
    // A new (or deleted) read model: it starts from nothing, and its sink is slow to apply what is already in the log.
    const sink = flakySink();
    let gate: (() => void) | undefined;
    const held = new Promise<void>((resolve) => {
      gate = resolve;
    });
    const blockingStore = {
      ...store,
      capabilities: store.capabilities,
      appendToStream: store.appendToStream.bind(store),
      readStream: store.readStream.bind(store),
      readAll: store.readAll.bind(store),
      headPosition: store.headPosition.bind(store),
      close: store.close.bind(store),
      subscribeToAll: (
        options: { after?: number },
        handler: (e: RecordedEvent) => Promise<void> | void,
        onError?: (error: unknown) => void,
      ) =>
        store.subscribeToAll(
          options,
          async (event) => {
            await held;
            await handler(event);
          },
          onError,
        ),
    };
    const runner = new ProjectionRunner(blockingStore, [sink]);
    runner.start();
    const { execute } = createExecutor({
      store: blockingStore,
      projections: runner,
      newId: () => crypto.randomUUID(),
      clock: () => new Date(),
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(runner.healthy).toBe(false);
    expect(runner.catchingUp).toBe(true);
    const refused = await execute(ctx, people, 'late', [person('late')]);
    expect(refused).toEqual(
      E.left(expect.objectContaining({ _tag: 'Unavailable', message: expect.stringContaining('catching up') })),
    );
    expect(await store.headPosition()).toBe(3);

    gate?.();
    await runner.whenHealthy(10_000);
    expect(runner.catchingUp).toBe(false);
    expect(sink.applied).toEqual([1, 2, 3]);
    expect(E.isRight(await execute(ctx, people, 'late', [person('late')]))).toBe(true);
    await runner.stop();
  });
});
