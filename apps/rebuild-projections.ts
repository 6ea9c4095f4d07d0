import { rmSync, existsSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SingleBar, Presets } from 'cli-progress';
import { rebuildProjections } from '../application/projections/runner.ts';
import { openSqliteEventStore } from '../adapters/event-store/sqlite.ts';
import { openKurrentDbEventStore } from '../adapters/event-store/kurrentdb.ts';
import { openSqliteReadModels } from '../adapters/read-models/index.ts';
import { ConfigError, loadConfig } from './config.ts';
import { claimNodeDir } from './node-files.ts';
import { projectedStreamPrefixes } from '../application/aggregates.ts';

/**
 * Rebuilds every read model from the event log into a fresh file, then swaps it in. Run it with the server stopped:
 * a running server keeps its open read-model file until restarted. It rebuilds this node's read models, in
 * READ_MODELS_DIR (default DATA_DIR).
 */
const main = async () => {
  const config = loadConfig();
  const dataDir = resolve(config.dataDir);
  const kurrent = config.kurrentDbConnectionString;
  const store =
    kurrent === undefined
      ? openSqliteEventStore({ path: join(dataDir, 'events.db') })
      : await openKurrentDbEventStore({ connectionString: kurrent, streamPrefixes: projectedStreamPrefixes });
  const nodeDir = resolve(config.readModelsDir);
  // Refused while this node's server runs: it would keep writing to the file being replaced.
  const release = claimNodeDir(nodeDir);
  const target = join(nodeDir, kurrent === undefined ? 'read-models.db' : 'read-models-kurrentdb.db');
  const temp = `${target}.rebuild`;
  for (const suffix of ['', '-wal', '-shm']) rmSync(temp + suffix, { force: true });
  const readModels = openSqliteReadModels(temp);
  const bar = new SingleBar(
    { format: 'rebuilding |{bar}| {percentage}% | position {value}/{total} | {duration}s', hideCursor: true },
    Presets.shades_classic,
  );
  const total = await store.headPosition();
  bar.start(Math.max(total, 1), 0);
  const started = Date.now();
  const count = await rebuildProjections(store, readModels.sinks, (done) => bar.update(done));
  bar.update(Math.max(total, 1));
  bar.stop();
  readModels.flushWal();
  readModels.close();
  await store.close();
  for (const suffix of ['-wal', '-shm']) if (existsSync(target + suffix)) rmSync(target + suffix);
  renameSync(temp, target);
  // The old file's marker (left by a crash) no longer speaks for the fresh, synced file in its place.
  rmSync(`${target}-open`, { force: true });
  for (const suffix of ['-wal', '-shm']) rmSync(temp + suffix, { force: true });
  release();
  process.stdout.write(
    `rebuilt ${readModels.sinks.map((s) => s.name).join(', ')} from ${count} events in ${Date.now() - started} ms -> ${target}\n`,
  );
};

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof ConfigError ? 'Configuration error: ' : ''}${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(error instanceof ConfigError ? 2 : 1);
});
