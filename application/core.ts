import { BookingGuard } from './booking.ts';
import { createExecutor } from './execute.ts';
import type { AccessProvider } from './ports/access.ts';
import type { EventStore } from './ports/event-store.ts';
import type { ReadModels } from './ports/read-models.ts';
import { ProjectionRunner } from './projections/runner.ts';
import { createSeriesService } from './series-service.ts';
import { createService } from './service.ts';

export interface CoreDeps {
  readonly store: EventStore;
  readonly readModels: ReadModels;
  readonly access: AccessProvider;
  readonly clock: () => Date;
  readonly newId: () => string;
  readonly onProjectionError?: (error: unknown) => void;
}

/** The application without adapters: projections running, and the meeting and series services on top of them. */
export const createCore = (deps: CoreDeps) => {
  const { store, readModels, access, clock, newId } = deps;
  const projections = new ProjectionRunner(store, readModels.sinks, deps.onProjectionError, (work) => readModels.transaction(work));
  projections.start();
  const bookings = new BookingGuard(readModels);
  const service = createService({ store, readModels, projections, access, clock, newId, bookings });
  const series = createSeriesService({
    queries: readModels,
    projections,
    access,
    executor: createExecutor({ store, projections, newId, clock }),
    bookings,
    clock,
    newId,
  });
  return { projections, bookings, service, series };
};

export type Core = ReturnType<typeof createCore>;
