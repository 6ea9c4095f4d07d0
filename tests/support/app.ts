import { randomUUID } from 'node:crypto';
import { BookingGuard } from '../../application/booking.ts';
import { defaultAccessProvider } from '../../application/default-access.ts';
import { createExecutor } from '../../application/execute.ts';
import type { RequestContext } from '../../application/execute.ts';
import { ProjectionRunner } from '../../application/projections/runner.ts';
import { createSeriesService } from '../../application/series-service.ts';
import { createService } from '../../application/service.ts';
import { createInMemoryEventStore } from '../../adapters/event-store/memory.ts';
import { openSqliteReadModels } from '../../adapters/read-models/sqlite.ts';

/** The application wired on the in-memory store and in-memory SQLite read models, without HTTP. */
export const startApp = (clock: () => Date) => {
  const store = createInMemoryEventStore({ now: clock });
  const readModels = openSqliteReadModels(':memory:');
  const projections = new ProjectionRunner(store, readModels.sinks);
  projections.start();
  const access = defaultAccessProvider(readModels);
  const bookings = new BookingGuard(readModels);
  const service = createService({ store, readModels, projections, access, clock, newId: randomUUID, bookings });
  const series = createSeriesService({
    queries: readModels,
    projections,
    access,
    executor: createExecutor({ store, projections, newId: randomUUID, clock }),
    bookings,
    clock,
    newId: randomUUID,
  });
  return {
    store,
    readModels,
    service,
    series,
    close: async () => {
      await projections.stop();
      await store.close();
      readModels.close();
    },
  };
};

export const adminContext: RequestContext = { user: { id: 'ada', roles: ['admin'] } };
