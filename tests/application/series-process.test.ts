import { randomUUID } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createInMemoryEventStore } from '../../adapters/event-store/memory.ts';
import { openSqliteReadModels } from '../../adapters/read-models/index.ts';
import { createCore } from '../../application/core.ts';
import { defaultAccessProvider } from '../../application/default-access.ts';
import type { RequestContext } from '../../application/execute.ts';
import type { CheckpointStore } from '../../application/ports/notifications.ts';
import type { SeriesStep } from '../../application/series-probe.ts';
import { BookingGuard } from '../../application/booking.ts';
import { createExecutor } from '../../application/execute.ts';
import { SeriesProcessManager, UnreadableStream, createSeriesProcess } from '../../application/series-process.ts';
import { aSeriesBody } from '../support/builders.ts';

const now = new Date('2030-01-01T00:00:00Z');
const clock = () => now;
const admin: RequestContext = { user: { id: 'ada', roles: ['admin'] } };
const quiet = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} };

class Crash extends Error {}

const checkpoints = (): CheckpointStore & { positions: Map<string, number> } => {
  const positions = new Map<string, number>();
  return {
    positions,
    get: (name) => positions.get(name) ?? 0,
    set: (name, position) => void positions.set(name, position),
  };
};

/** The application on the in-memory store; `crashAt` makes a series operation stop dead at that step (no code after it runs). */
const start = (crashAt?: (step: SeriesStep) => boolean) => {
  const store = createInMemoryEventStore({ now: clock });
  const readModels = openSqliteReadModels(':memory:');
  const core = createCore({
    store,
    readModels,
    // The directory is not what these tests are about: every person exists.
    access: { ...defaultAccessProvider(readModels), personExists: async () => true },
    clock,
    newId: randomUUID,
    log: quiet,
    seriesProbe: (step) => {
      if (crashAt?.(step) === true) throw new Crash(`${step.operation}:${step.step}`);
    },
  });
  const stoppers: Array<() => Promise<void>> = [];
  const manager = (cp: CheckpointStore = checkpoints()) => {
    const m = new SeriesProcessManager({
      store,
      process: core.seriesProcess,
      checkpoints: cp,
      log: quiet,
      restartDelayMs: 10,
    });
    stoppers.push(() => m.stop());
    return m;
  };
  const close = async () => {
    for (const stop of stoppers) await stop();
    await core.projections.stop();
    await store.close();
    readModels.close();
  };
  opened.push(close);
  return { store, readModels, core, manager };
};

const opened: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of opened.splice(0)) await close();
});

const eventually = async <A>(
  check: () => A | undefined | Promise<A | undefined>,
  what: string,
  timeoutMs = 20_000,
): Promise<A> => {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

const weekly = aSeriesBody({ startDate: '2030-01-07', rrule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=8' });

const activeDays = (app: ReturnType<typeof start>, seriesId: string) =>
  app.readModels
    .meetingsOfSeries(seriesId)
    .filter((m) => m.state !== 'cancelled')
    .map((m) => m.start.slice(0, 10))
    .sort();

const notices = async (app: ReturnType<typeof start>, seriesId: string) =>
  (await app.store.readStream(`series-${seriesId}`)).filter((r) => r.type === 'SeriesOccurrencesCancelled');

const tuesdays = [
  '2030-01-08',
  '2030-01-15',
  '2030-01-22',
  '2030-01-29',
  '2030-02-05',
  '2030-02-12',
  '2030-02-19',
  '2030-02-26',
];

/**
 * A weekly series whose change (by default to Tuesdays, eight sessions) crashes at the first step `crashesAt` picks:
 * the app, with crashing off again, and the series id.
 */
const changeCutShort = async (
  crashesAt: (step: SeriesStep) => boolean,
  patch: Parameters<ReturnType<typeof start>['core']['series']['changeSeries']>[2] = {
    rrule: 'FREQ=WEEKLY;BYDAY=TU;COUNT=8',
  },
) => {
  let crash = false;
  const app = start((step) => crash && crashesAt(step));
  const created = await app.core.series.scheduleSeries(admin, weekly);
  if (E.isLeft(created)) throw new Error(JSON.stringify(created.left));
  const seriesId = created.right.id;
  crash = true;
  await expect(app.core.series.changeSeries(admin, seriesId, patch)).rejects.toThrow(Crash);
  crash = false;
  return { app, seriesId };
};

describe('the series process manager', () => {
  it('a keyed series cancellation writes the notice a crashed recurrence change left unwritten, not hidden by its own claim', async () => {
    const { app, seriesId } = await changeCutShort(
      (step) => step.operation === 'recurrence' && step.step === 'sessions-done',
    );
    expect(await notices(app, seriesId)).toHaveLength(0);
    // The cancellation runs under an Idempotency-Key claim: its own SeriesCancelled carries the claim's causation id.
    const keyed = { ...admin, idempotency: { causation: 'claim-of-the-cancel', newId: () => 'cancel-under-claim' } };
    const cancelled = await app.core.series.cancelSeries(keyed, seriesId, {
      reason: 'Trainer moved away',
      from: '2030-02-01T00:00:00.000Z',
    });
    if (E.isLeft(cancelled)) throw new Error(JSON.stringify(cancelled.left));
    const written = await notices(app, seriesId);
    expect(written).toHaveLength(1);
    expect((written[0]?.data as { cancelled: unknown[] }).cancelled).toHaveLength(8);
  });

  it('finishes a recurrence change cut short after its series event, writes its notice once, and a replay from scratch writes nothing', async () => {
    const { app, seriesId } = await changeCutShort(
      (step) => step.operation === 'recurrence' && step.step === 'series-event',
    );
    await app.core.projections.waitFor(await app.store.headPosition());
    expect(activeDays(app, seriesId)).toHaveLength(8);
    expect(activeDays(app, seriesId).every((d) => new Date(`${d}T00:00:00Z`).getUTCDay() === 1)).toBe(true);

    const cp = checkpoints();
    const manager = app.manager(cp);
    manager.start();
    await eventually(
      async () => ((await manager.status()).lag === 0 ? true : undefined),
      'the process to reach the head',
    );
    await app.core.projections.waitFor(await app.store.headPosition());
    expect(activeDays(app, seriesId)).toEqual(tuesdays);
    const written = await notices(app, seriesId);
    expect(written).toHaveLength(1);
    expect((written[0]?.data as { cancelled: unknown[]; reason: string }).cancelled).toHaveLength(8);
    expect((written[0]?.data as { reason: string }).reason).toBe('The series schedule changed');

    // A replay of the whole log (a lost checkpoint, a second node) plans nothing: not one event more.
    await manager.stop();
    const head = await app.store.headPosition();
    const fresh = checkpoints();
    const replay = app.manager(fresh);
    replay.start();
    await eventually(
      async () => ((await replay.status()).position >= head ? true : undefined),
      'the replay to reach the head',
    );
    expect(await app.store.headPosition()).toBe(head);
  });

  it('finishes a cancellation cut short after some sessions, from its checkpoint, without a second notice', async () => {
    let crash = false;
    const app = start((step) => crash && step.operation === 'cancel' && step.step === 'session' && step.count === 3);
    const created = await app.core.series.scheduleSeries(admin, { ...weekly, rrule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=40' });
    if (E.isLeft(created)) throw new Error(JSON.stringify(created.left));
    const seriesId = created.right.id;
    const cp = checkpoints();
    // The manager has seen everything up to here.
    const first = app.manager(cp);
    first.start();
    await eventually(async () => ((await first.status()).lag === 0 ? true : undefined), 'the first pass');
    await first.stop();
    expect(cp.get('series-process')).toBe(await app.store.headPosition());

    crash = true;
    await expect(app.core.series.cancelSeries(admin, seriesId, { reason: 'Gym closed' })).rejects.toThrow(Crash);
    crash = false;
    await app.core.projections.waitFor(await app.store.headPosition());
    expect(activeDays(app, seriesId).length).toBeGreaterThan(0);

    const second = app.manager(cp);
    second.start();
    await eventually(async () => {
      await app.core.projections.waitFor(await app.store.headPosition());
      return activeDays(app, seriesId).length === 0 ? true : undefined;
    }, 'every session cancelled');
    const sessions = app.readModels.meetingsOfSeries(seriesId);
    for (const m of sessions) {
      const cancels = (await app.store.readStream(`meeting-${m.id}`)).filter((r) => r.type === 'SessionCancelled');
      expect(cancels).toHaveLength(1);
      expect(cancels[0]?.data).toMatchObject({ origin: 'series', reason: 'Gym closed' });
    }
    expect((await app.store.readStream(`series-${seriesId}`)).filter((r) => r.type === 'SeriesCancelled')).toHaveLength(
      1,
    );
  });

  it('two nodes finishing the same cut-short change at once converge with one write per session and one notice', async () => {
    const { app, seriesId } = await changeCutShort((step) => step.step === 'series-event');
    // A second node: its own booking lock, the same log.
    const other = createSeriesProcess({
      store: app.store,
      executor: createExecutor({ store: app.store, projections: app.core.projections, newId: randomUUID, clock }),
      projections: app.core.projections,
      bookings: new BookingGuard(app.readModels, app.core.projections),
      clock,
      log: quiet,
    });
    const results = await Promise.all([app.core.seriesProcess.reconcile(seriesId), other.reconcile(seriesId)]);
    for (const r of results) expect(r).toMatchObject({ failed: [], refused: [] });
    await app.core.projections.waitFor(await app.store.headPosition());
    expect(activeDays(app, seriesId)).toEqual(tuesdays);
    expect(await notices(app, seriesId)).toHaveLength(1);
    for (const m of app.readModels.meetingsOfSeries(seriesId)) {
      expect((await app.store.readStream(`meeting-${m.id}`)).map((r) => r.type)).toEqual(
        m.start.slice(0, 10) < '2030-01-08' || new Date(m.start).getUTCDay() === 1
          ? ['MeetingScheduled', 'SessionCancelled']
          : ['MeetingScheduled'],
      );
    }
  });

  it('is idempotent per session: reconciling a converged series writes nothing', async () => {
    const app = start();
    const created = await app.core.series.scheduleSeries(admin, weekly);
    if (E.isLeft(created)) throw new Error(JSON.stringify(created.left));
    const seriesId = created.right.id;
    const changed = await app.core.series.changeSeries(admin, seriesId, {
      rrule: 'FREQ=WEEKLY;BYDAY=TU;COUNT=8',
      title: 'Power',
    });
    expect(E.isRight(changed)).toBe(true);
    const head = await app.store.headPosition();
    expect(await app.core.seriesProcess.reconcile(seriesId)).toMatchObject({ changed: 0, failed: [], refused: [] });
    expect(await app.core.seriesProcess.reconcile(seriesId)).toMatchObject({ changed: 0 });
    expect(await app.store.headPosition()).toBe(head);
    expect(await notices(app, seriesId)).toHaveLength(1);
  });

  it('a repeated request converges by itself, with no process manager running, and answers the converged sessions', async () => {
    const patch = { rrule: 'FREQ=WEEKLY;BYDAY=TU;COUNT=8', title: 'Power' };
    const { app, seriesId } = await changeCutShort((step) => step.step === 'series-event', patch);
    const repeated = await app.core.series.changeSeries(admin, seriesId, patch);
    if (E.isLeft(repeated)) throw new Error(JSON.stringify(repeated.left));
    const active = repeated.right.occurrences.filter((o) => o.state !== 'cancelled');
    expect(active.map((o) => o.localDate)).toEqual(tuesdays);
    expect(
      app.readModels
        .meetingsOfSeries(seriesId)
        .filter((m) => m.state !== 'cancelled')
        .every((m) => m.title === 'Power'),
    ).toBe(true);
    expect(await notices(app, seriesId)).toHaveLength(1);
    // And once more: nothing new.
    const head = await app.store.headPosition();
    expect(E.isRight(await app.core.series.changeSeries(admin, seriesId, patch))).toBe(true);
    expect(await app.store.headPosition()).toBe(head);
  });

  it('a series it cannot read is logged and left behind; the series after it are still brought in line', async () => {
    const store = createInMemoryEventStore({ now: clock });
    opened.push(() => store.close());
    for (const id of ['broken', 'fine']) {
      await store.appendToStream(`series-${id}`, [{ id: randomUUID(), type: 'SeriesDetailsChanged', data: {} }]);
    }
    const reconciled: string[] = [];
    const errors: object[] = [];
    const cp = checkpoints();
    const manager = new SeriesProcessManager({
      store,
      checkpoints: cp,
      log: { ...quiet, error: (details) => void errors.push(details) },
      process: {
        reconcile: async (seriesId) => {
          if (seriesId === 'broken') throw new UnreadableStream('series broken cannot be read');
          reconciled.push(seriesId);
          return { changed: 0, failed: [], refused: [], position: 0 };
        },
      },
    });
    opened.push(() => manager.stop());
    manager.start();
    await eventually(() => (reconciled.includes('fine') ? true : undefined), 'the readable series');
    expect(errors).toEqual([expect.objectContaining({ seriesId: 'broken', error: 'series broken cannot be read' })]);
    expect(manager.healthy).toBe(true);
    await eventually(() => (cp.get('series-process') === 2 ? true : undefined), 'the checkpoint past both');
  });

  it('a store failure keeps the checkpoint before the event and is retried until the series converges', async () => {
    const store = createInMemoryEventStore({ now: clock });
    opened.push(() => store.close());
    await store.appendToStream('series-s', [{ id: randomUUID(), type: 'SeriesDetailsChanged', data: {} }]);
    let calls = 0;
    const cp = checkpoints();
    const manager = new SeriesProcessManager({
      store,
      checkpoints: cp,
      log: quiet,
      restartDelayMs: 10,
      process: {
        reconcile: async () => {
          calls += 1;
          return calls < 3
            ? { changed: 0, failed: ['s_2030-01-07'], refused: [], position: 0 }
            : { changed: 1, failed: [], refused: [], position: 1 };
        },
      },
    });
    opened.push(() => manager.stop());
    manager.start();
    await eventually(() => (cp.get('series-process') === 1 ? true : undefined), 'the checkpoint after the retries');
    expect(calls).toBe(3);
  });
});
