/**
 * What the directory's command-line tools (`npm run person`, `npm run import`) write through: the application's
 * executor against the embedded store in DATA_DIR (a running server may keep running: the SQLite store takes several
 * processes) or KurrentDB when KURRENTDB_CONNECTION_STRING is set, with the directory as of the log's head in memory
 * (the address rule reads it, and the answers come from it).
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { projectedStreamPrefixes } from '../application/aggregates.ts';
import type { AppError, RequestContext } from '../application/execute.ts';
import { createExecutor } from '../application/execute.ts';
import type { ImportDeps } from '../application/people-import.ts';
import type { EventStore } from '../application/ports/event-store.ts';
import { ProjectionRunner } from '../application/projections/runner.ts';
import { scheduleStreamPrefix } from '../domain/schedule.ts';
import { openKurrentDbEventStore } from '../adapters/event-store/kurrentdb.ts';
import { openSqliteEventStore } from '../adapters/event-store/sqlite.ts';
import { openReadModelDatabase } from '../adapters/read-models/kit.ts';
import { openPeopleReadModel } from '../adapters/read-models/people.ts';
import { newId } from '../adapters/ids.ts';
import type { Config } from './config.ts';

const openStore = async (config: Config): Promise<EventStore> => {
  if (config.kurrentDbConnectionString === undefined) {
    const dataDir = resolve(config.dataDir);
    mkdirSync(dataDir, { recursive: true });
    return openSqliteEventStore({ path: join(dataDir, 'events.db'), commitOn: config.eventStoreCommit });
  }
  return openKurrentDbEventStore({
    connectionString: config.kurrentDbConnectionString,
    streamPrefixes: projectedStreamPrefixes,
  });
};

export interface DirectoryWriter {
  readonly deps: ImportDeps;
  /** The operator at the server's shell, as the events name their author. */
  readonly ctx: RequestContext;
  readonly store: EventStore;
  close(): Promise<void>;
}

/** `tool` names the operator (`people-cli`, `import-cli`): an admin who is nobody in the directory. */
export const openDirectoryWriter = async (config: Config, tool: string): Promise<DirectoryWriter> => {
  const store = await openStore(config);
  const people = openPeopleReadModel(openReadModelDatabase(':memory:', 0));
  const projections = new ProjectionRunner(store, [people.sink], undefined, undefined, [scheduleStreamPrefix]);
  const close = async () => {
    await projections.stop();
    await store.close();
  };
  try {
    projections.start();
    await projections.whenHealthy(120_000);
  } catch (error) {
    await close();
    throw error;
  }
  const executor = createExecutor({ store, projections, newId, clock: () => new Date() });
  return {
    deps: { readModels: people.queries, executor },
    ctx: { user: { id: tool, roles: ['admin'] }, correlationId: `${tool}-${newId()}` },
    store,
    close,
  };
};

/** An application error as lines for a terminal. */
export const describeError = (error: AppError): string[] => {
  switch (error._tag) {
    case 'ValidationFailed':
      return error.errors.map((e) => `${e.path}: ${e.message}`);
    default:
      return 'message' in error && typeof error.message === 'string' ? [error.message] : [error._tag];
  }
};
