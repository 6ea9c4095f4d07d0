import { rmSync } from 'node:fs';
import { benchFile, startChild } from './child.ts';
import type { LoadResult } from './load.ts';
import type { Metric } from './report.ts';
import { round } from './stats.ts';
import { CONNECTIONS, measureBookings } from './core.ts';
import { benchTempDir, systemEnv } from './suite.ts';
import type { BenchOptions, SuiteResult } from './suite.ts';
import { describeUsage, usageDetails, usageMetrics } from './window.ts';
import type { Measured } from './window.ts';

/**
 * Bookings with the schedule streams (each POST /meetings reads the two people's month buckets and appends the
 * meeting with their reservations in one multi-stream append) against the single-node path before them (the
 * read-model check only), in one run on the embedded store: the cross-node-safe booking may cost at most 1.3x.
 * The two sides alternate in ABBA order, each on a fresh server, so that order and the machine's other load fall on
 * both alike.
 */

const COST_LIMIT = 1.3;

type Side = 'baseline' | 'schedules';

const measure = async (
  options: BenchOptions,
  side: Side,
  roundNumber: number,
  timing: { readonly seconds: number; readonly warmSeconds: number },
): Promise<Measured<LoadResult>> => {
  const dataDir = benchTempDir(`booking-${side}`);
  const env = { ...systemEnv(dataDir), ...(side === 'baseline' ? { BENCH_BOOKING_SCHEDULES: 'off' } : {}) };
  const server = await startChild<{ url: string }>(benchFile('./servers/system.ts'), { env }).catch(
    (error: unknown) => {
      rmSync(dataDir, { recursive: true, force: true });
      throw error;
    },
  );
  try {
    // Each connection its own instructor and customer, every slot a new one: a month bucket holds a few hundred
    // reservations, as a busy one would.
    const { measured } = await measureBookings(options, server, { ...timing, name: `booking-${side}-${roundNumber}` });
    return measured;
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
};

const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
};

interface Combined {
  readonly rate: number;
  readonly p50: number;
  readonly p99: number;
  readonly cpuUsPerRequest: number;
  readonly busyUsPerRequest: number;
  readonly runs: ReadonlyArray<Measured<LoadResult>>;
}

const combine = (runs: ReadonlyArray<Measured<LoadResult>>): Combined => ({
  rate: median(runs.map((r) => r.result.rate)),
  p50: median(runs.map((r) => r.result.latency.p50)),
  p99: median(runs.map((r) => r.result.latency.p99)),
  cpuUsPerRequest: median(runs.map((r) => r.cpuUsPerRequest)),
  busyUsPerRequest: median(runs.map((r) => r.busyUsPerRequest)),
  runs,
});

const details = (c: Combined) => ({
  runs: c.runs.map((m) => ({
    ok: m.result.ok,
    rate: round(m.result.rate, 1),
    p50: round(m.result.latency.p50, 3),
    p99: round(m.result.latency.p99, 3),
    statusCounts: m.result.statusCounts,
    errors: m.result.errors,
    ...usageDetails(m),
  })),
});

const metricsOf = (baseline: Combined, schedules: Combined): Metric[] => {
  const baseRate: Metric = {
    id: 'booking.baseline_rate',
    label: 'B.a POST /meetings 201/s, read-model check only',
    value: baseline.rate,
    unit: '/s',
    details: details(baseline),
  };
  const baseP50: Metric = {
    id: 'booking.baseline_p50',
    label: 'B.a POST /meetings p50, read-model check only',
    value: baseline.p50,
    unit: 'ms',
  };
  return [
    baseRate,
    baseP50,
    {
      id: 'booking.schedules_rate',
      label: 'B.b POST /meetings 201/s, schedule streams',
      value: schedules.rate,
      unit: '/s',
      target: {
        op: '>=',
        limit: 1 / COST_LIMIT,
        reference: { id: baseRate.id, value: baseRate.value },
        text: `cost <= ${COST_LIMIT}x B.a (>= ${(100 / COST_LIMIT).toFixed(0)}% of its rate)`,
      },
      details: details(schedules),
    },
    {
      id: 'booking.schedules_p50',
      label: 'B.b POST /meetings p50, schedule streams',
      value: schedules.p50,
      unit: 'ms',
      target: {
        op: '<=',
        limit: COST_LIMIT,
        reference: { id: baseP50.id, value: baseP50.value },
        text: `<= ${COST_LIMIT}x B.a's p50`,
      },
    },
    { id: 'booking.baseline_p99', label: 'B.a POST /meetings p99', value: baseline.p99, unit: 'ms' },
    { id: 'booking.schedules_p99', label: 'B.b POST /meetings p99', value: schedules.p99, unit: 'ms' },
    ...usageMetrics('booking.baseline', 'B.a', baseline),
    ...usageMetrics('booking.schedules', 'B.b', schedules),
  ];
};

export const runBooking = async (options: BenchOptions): Promise<SuiteResult> => {
  const seconds = options.smoke ? 1 : options.quick ? 2 : 8;
  const warmSeconds = options.smoke ? 0.5 : options.quick ? 1 : 2;
  const rounds = options.quick ? 1 : 2;
  const runs: Record<Side, Array<Measured<LoadResult>>> = { baseline: [], schedules: [] };
  for (let r = 0; r < rounds; r++) {
    // ABBA: each side runs first in one round and second in the other, so that what a server leaves behind on the
    // machine (page cache, a fresh file system's state, the other engineers' load drifting) falls on both alike.
    const order = r % 2 === 0 ? (['baseline', 'schedules'] as const) : (['schedules', 'baseline'] as const);
    for (const side of order) {
      options.log(
        `booking: POST /meetings, ${side === 'baseline' ? 'read-model check only' : 'schedule streams'}, ${CONNECTIONS} connections, round ${r + 1}/${rounds}, warm-up ${warmSeconds} s, measured ${seconds} s`,
      );
      const measured = await measure(options, side, r + 1, { seconds, warmSeconds });
      const result = measured.result;
      options.log(
        `  ${result.ok} ok = ${result.rate.toFixed(0)}/s, p50 ${result.latency.p50.toFixed(2)} ms, p99 ${result.latency.p99.toFixed(2)} ms, statuses ${JSON.stringify(result.statusCounts)}`,
      );
      options.log(`  ${describeUsage(measured)}`);
      runs[side].push(measured);
    }
  }
  const baseline = combine(runs.baseline);
  const schedules = combine(runs.schedules);
  const notes = [
    `booking: medians of ${rounds} round(s) per side in ABBA order, each on a fresh server (embedded SQLite store)`,
    `booking: cost ${(baseline.rate / schedules.rate).toFixed(2)}x in throughput, ${(schedules.p50 / baseline.p50).toFixed(2)}x in p50 latency (target <= ${COST_LIMIT}x)`,
  ];
  return { metrics: metricsOf(baseline, schedules), notes };
};
