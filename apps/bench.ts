import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { judge, renderTable, writeResults } from './bench/report.ts';
import type { Judged, Metric } from './bench/report.ts';
import type { BenchOptions, SuiteResult } from './bench/suite.ts';

/**
 * Performance figures against the targets of the core, series, signaling and web app issues, in one bounded run on
 * loopback. Prints PASS/MISS per target but exits 0 either way; 1 only when a benchmark itself crashed.
 *   npm run bench [-- --quick | --smoke] [--only=http,booking,series,signaling,web] [--profile]
 * --smoke (implies --quick) runs every load for about a second: it checks that everything prints, not how fast.
 */
const SUITES = ['http', 'booking', 'series', 'signaling', 'web'] as const;
type SuiteName = (typeof SUITES)[number];

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    smoke: { type: 'boolean', default: false },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
  },
});

const selected = (values.only ?? SUITES.join(','))
  .split(',')
  .map((s) => s.trim())
  .filter((s) => s.length > 0);
const unknown = selected.filter((s) => !(SUITES as readonly string[]).includes(s));
if (unknown.length > 0 || selected.length === 0) {
  process.stderr.write(`unknown suite(s): ${unknown.join(', ') || '(none)'}; choose from ${SUITES.join(', ')}\n`);
  process.exit(2);
}

const startedAt = new Date();
const clock = performance.now();
const log = (line: string): void => {
  process.stdout.write(`[${((performance.now() - clock) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);
};
const smoke = values.smoke ?? false;
const options: BenchOptions = { quick: smoke || (values.quick ?? false), smoke, profile: values.profile ?? false, log };

const load = async (name: SuiteName): Promise<(o: BenchOptions) => Promise<SuiteResult>> => {
  switch (name) {
    case 'http':
      return (await import('./bench/core.ts')).runCore;
    case 'booking':
      return (await import('./bench/booking.ts')).runBooking;
    case 'series':
      return (await import('./bench/series.ts')).runSeries;
    case 'signaling':
      return (await import('./bench/signaling.ts')).runSignaling;
    case 'web':
      return (await import('./bench/web.ts')).runWeb;
    default: {
      const never: never = name;
      return never;
    }
  }
};

const loadAverage = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
log(
  `bench: ${options.smoke ? 'smoke' : options.quick ? 'quick' : 'full'} run of ${selected.join(', ')} on node ${process.version}; load average ${loadAverage()}`,
);
const metrics: Metric[] = [];
const notes: string[] = [];
const failures: string[] = [];
for (const name of selected as SuiteName[]) {
  try {
    // Other work on this machine skews every figure here; the load average says how much there was.
    notes.push(`load average before ${name}: ${loadAverage()}`);
    const result = await (await load(name))(options);
    metrics.push(...result.metrics);
    notes.push(...result.notes);
  } catch (error) {
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    failures.push(`${name}: ${text}`);
    log(`suite ${name} crashed: ${text}`);
  }
}

notes.push(`load average at the end: ${loadAverage()}`);
const judged: Judged[] = metrics.map(judge);
const seconds = (performance.now() - clock) / 1000;
process.stdout.write(`\n${renderTable(judged)}\n\n`);
for (const note of notes) process.stdout.write(`note: ${note}\n`);
const targets = judged.filter((m) => m.pass !== undefined);
process.stdout.write(
  `\n${targets.filter((m) => m.pass).length}/${targets.length} targets met; ${failures.length} suite(s) crashed; ${seconds.toFixed(1)} s\n`,
);
const path = writeResults({
  options: { quick: options.quick, smoke: options.smoke, profile: options.profile, suites: selected },
  metrics: judged,
  notes,
  failures,
  startedAt: startedAt.toISOString(),
  durationSeconds: seconds,
});
process.stdout.write(`results: ${path}\n`);
process.exit(failures.length > 0 ? 1 : 0);
