/**
 * `npm run import -- FILE [--dry-run] [--format csv|json]`: imports people (and what the site's CRM knows of them)
 * from a CSV or JSON export into the directory, each line as `PUT /people/:id` would record it, against the store
 * `npm run person` writes to. A line that changes nothing writes nothing: the same file twice changes nothing.
 * `--dry-run` decides every line against the directory as it is and writes nothing.
 *
 * stdout: the summary, then each bad line with its reasons. stderr: a progress bar on a terminal, else a line every
 * 1,000 people. Exit code: 0 when every line was imported (or would be), 1 when any line was bad (the good ones are
 * imported all the same), 2 for a usage or configuration error or a file that cannot be read at all.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import * as E from 'fp-ts/lib/Either.js';
import { importPeople } from '../application/people-import.ts';
import type { ImportReport } from '../application/people-import.ts';
import { guessFormat, readPeopleFile } from '../adapters/import/people-file.ts';
import type { ImportFormat } from '../adapters/import/people-file.ts';
import { loadConfig } from './config.ts';
import { UsageError, runCli } from './cli.ts';
import { describeError, openDirectoryWriter } from './directory-writer.ts';

const USAGE = 'usage: npm run import -- FILE [--dry-run] [--format csv|json]';
/** The most people one file may hold (a larger export: split it). */
const MAX_IMPORT_FILE_ROWS = 200_000;

interface Args {
  readonly file: string;
  readonly dryRun: boolean;
  readonly format?: ImportFormat;
}

const argsOf = (argv: ReadonlyArray<string>): Args => {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: true,
      options: { 'dry-run': { type: 'boolean' }, format: { type: 'string' } },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const [file, ...more] = parsed.positionals;
  if (file === undefined || more.length > 0) throw new UsageError('give exactly one FILE');
  const format = parsed.values.format;
  if (format !== undefined && format !== 'csv' && format !== 'json') throw new UsageError('--format is csv or json');
  return { file, dryRun: parsed.values['dry-run'] === true, ...(format !== undefined ? { format } : {}) };
};

/** A bar on a terminal; elsewhere (a log, CI) a plain line every 1,000 people and at the end. */
const progress = (total: number) => {
  if (process.stderr.isTTY === true) {
    const bar = new cliProgress.SingleBar(
      { stream: process.stderr, format: 'importing [{bar}] {value}/{total} people | {eta_formatted} left' },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    return { tick: (done: number) => bar.update(done), stop: () => bar.stop() };
  }
  return {
    tick: (done: number) => {
      if (done % 1000 === 0 || done === total) process.stderr.write(`imported ${done}/${total} lines\n`);
    },
    stop: () => undefined,
  };
};

const reportText = (report: ImportReport): string => {
  const head =
    `${report.dryRun ? 'dry run (nothing written): ' : ''}${report.lines} lines: ${report.created} created, ` +
    `${report.updated} updated, ${report.unchanged} unchanged, ${report.bad.length} bad`;
  const lines = report.bad.map(
    (b) =>
      `line ${b.line}${b.id !== undefined ? ` (id ${JSON.stringify(b.id)})` : ''}: ` +
      b.errors.map((e) => `${e.path}: ${e.message}`).join('; '),
  );
  return [head, ...lines].map((l) => `${l}\n`).join('');
};

const main = async (): Promise<number> => {
  const args = argsOf(process.argv.slice(2));
  const text = readFileSync(args.file, 'utf8');
  const rows = readPeopleFile(text, args.format ?? guessFormat(args.file, text), MAX_IMPORT_FILE_ROWS);
  if (E.isLeft(rows)) {
    process.stderr.write(`${args.file}: ${rows.left.message}\n`);
    return 2;
  }
  const writer = await openDirectoryWriter(loadConfig(), 'import-cli');
  const bar = progress(rows.right.length);
  try {
    const result = await importPeople(writer.deps, writer.ctx, rows.right, {
      dryRun: args.dryRun,
      onProgress: bar.tick,
    });
    bar.stop();
    if (E.isLeft(result)) {
      for (const line of describeError(result.left)) process.stderr.write(`${line}\n`);
      return 2;
    }
    process.stdout.write(reportText(result.right));
    return result.right.bad.length > 0 ? 1 : 0;
  } finally {
    await writer.close();
  }
};

runCli(main, USAGE, 2);
