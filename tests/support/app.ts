import { randomUUID } from 'node:crypto';
import { createCore } from '../../application/core.ts';
import { defaultAccessProvider } from '../../application/default-access.ts';
import type { RequestContext } from '../../application/execute.ts';
import { createInMemoryEventStore } from '../../adapters/event-store/memory.ts';
import { openSqliteReadModels } from '../../adapters/read-models/index.ts';
import type { PersonEntry } from './builders.ts';
import { registerPeople } from './system.ts';

/** The application wired on the in-memory store and in-memory SQLite read models, without HTTP. */
export const startApp = (clock: () => Date) => {
  const store = createInMemoryEventStore({ now: clock });
  const readModels = openSqliteReadModels(':memory:');
  const core = createCore({ store, readModels, access: defaultAccessProvider(readModels), clock, newId: randomUUID });
  return {
    /** Puts these people into the people directory, so meetings and series can be booked for them. */
    people: async (...entries: PersonEntry[]) => {
      // Writes wait until the read models have caught up with the log as of the start.
      await core.projections.whenHealthy();
      await registerPeople(core.service, entries);
    },
    store,
    readModels,
    service: core.service,
    series: core.series,
    close: async () => {
      await core.projections.stop();
      await store.close();
      readModels.close();
    },
  };
};

export const adminContext: RequestContext = { user: { id: 'ada', roles: ['admin'] } };
