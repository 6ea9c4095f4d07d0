import { scheduleStreamPrefix } from '../domain/schedule.ts';
import { BookingGuard } from './booking.ts';
import { createExecutor } from './execute.ts';
import { createHistories } from './history.ts';
import type { AccessProvider } from './ports/access.ts';
import type { EventStore } from './ports/event-store.ts';
import type { Log } from './ports/logger.ts';
import type { CheckpointStore } from './ports/notifications.ts';
import type { ReadModels } from './ports/read-models.ts';
import { ProjectionRunner } from './projections/runner.ts';
import { createSeriesService } from './series-service.ts';
import { SeriesProcessManager, createSeriesProcess } from './series-process.ts';
import { ScheduleReaction } from './schedule-reaction.ts';
import { createService } from './service.ts';
import type { SeriesProbe } from './series-probe.ts';

export interface CoreDeps {
  readonly store: EventStore;
  readonly readModels: ReadModels;
  readonly access: AccessProvider;
  readonly clock: () => Date;
  readonly newId: () => string;
  readonly onProjectionError?: (error: unknown) => void;
  /** Where the series process manager keeps its place in the log; without one it replays the log at every start. */
  readonly checkpoints?: CheckpointStore;
  readonly log?: Log;
  /** Test-only: told each step a series operation reaches (see apps/test-crash.ts). */
  readonly seriesProbe?: SeriesProbe;
  /** Test-only: told when a booking's reservations are made and its own event not yet (the saga; apps/test-crash.ts). */
  readonly bookingProbe?: () => void;
  /** `false` only for the bench's baseline (see ExecutorDeps.schedules). */
  readonly schedules?: boolean;
  /** How long the schedule reaction lets a reservation wait for its owner event (see ScheduleReaction). */
  readonly reservationGraceMs?: number;
}

const quiet: Log = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} };

const memoryCheckpoints = (): CheckpointStore => {
  const positions = new Map<string, number>();
  return { get: (name) => positions.get(name) ?? 0, set: (name, position) => void positions.set(name, position) };
};

/**
 * The application without adapters: projections running, the meeting and series services on top of them, and the
 * series process manager (not started: the caller starts it once the rest is up).
 */
export const createCore = (deps: CoreDeps) => {
  const { store, readModels, access, clock, newId } = deps;
  const log = deps.log ?? quiet;
  // No read model reads the schedules (they are the bookings' consistency boundary, checked on the write side).
  const projections = new ProjectionRunner(
    store,
    readModels.sinks,
    deps.onProjectionError,
    (work) => readModels.transaction(work),
    [scheduleStreamPrefix],
  );
  projections.start();
  const bookings = new BookingGuard(readModels, projections);
  // The one way commands run, for every service built on the core.
  const executor = createExecutor({
    store,
    projections,
    newId,
    clock,
    sagaProbe: deps.bookingProbe,
    schedules: deps.schedules,
  });
  const histories = createHistories(store);
  const service = createService({ readModels, access, newId, bookings, executor, histories });
  const probe = deps.seriesProbe;
  const seriesProcess = createSeriesProcess({ store, executor, projections, bookings, clock, log, probe });
  const series = createSeriesService({
    queries: readModels,
    projections,
    access,
    executor,
    bookings,
    clock,
    newId,
    process: seriesProcess,
    probe,
    histories,
  });
  const seriesProcessManager = new SeriesProcessManager({
    store,
    process: seriesProcess,
    checkpoints: deps.checkpoints ?? memoryCheckpoints(),
    log,
    ready: () => projections.whenHealthy(),
  });
  // Needed only where bookings cannot append atomically across streams (the caller starts it there).
  const scheduleReaction = new ScheduleReaction({
    store,
    checkpoints: deps.checkpoints ?? memoryCheckpoints(),
    log,
    newId,
    clock,
    graceMs: deps.reservationGraceMs,
  });
  return { projections, bookings, executor, service, series, seriesProcess, seriesProcessManager, scheduleReaction };
};

export type Core = ReturnType<typeof createCore>;
