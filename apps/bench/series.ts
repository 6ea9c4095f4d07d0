import { rmSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import { expandRecurrence, parseRecurrence } from '../../domain/recurrence.ts';
import type { RecurrenceInput } from '../../domain/recurrence.ts';
import { benchFile, startChild } from './child.ts';
import type { ChildServer } from './child.ts';
import type { Metric } from './report.ts';
import { timeGets } from './http-timer.ts';
import { round, summarize, timeSync } from './stats.ts';
import type { Summary } from './stats.ts';
import { benchTempDir, expectStatus, jsonRequest, systemEnv, token } from './suite.ts';
import type { BenchOptions, SuiteResult } from './suite.ts';
import type { Quiet } from './usage.ts';
import { describeUsage, measureWindow, usageDetails, usageMetrics } from './window.ts';

const pattern = (rrule: string): RecurrenceInput => ({
  rrule,
  startDate: '2026-03-02',
  startTime: '10:00',
  durationMinutes: 60,
  timezone: 'Europe/Amsterdam',
});

const details = (s: Summary) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, round(v, 4)]));

type Log = BenchOptions['log'];
type SystemChild = ChildServer<{ url: string }>;

interface Expansion {
  readonly id: string;
  readonly label: string;
  readonly rrule: string;
  readonly target?: boolean;
}

const EXPANSIONS: ReadonlyArray<Expansion> = [
  {
    id: 'series.expand_daily',
    label: 'B daily series expansion (DAILY;COUNT=500)',
    rrule: 'FREQ=DAILY;COUNT=500',
    target: true,
  },
  {
    id: 'series.expand_weekly',
    label: 'B weekly 2-year expansion (WEEKLY;COUNT=104)',
    rrule: 'FREQ=WEEKLY;COUNT=104',
  },
];

/** Expanding (and parsing, which validates by expanding) one rule, in-process. */
const expansionMetrics = (e: Expansion, iterations: number, log: Log): Metric[] => {
  const parsed = parseRecurrence(pattern(e.rrule));
  if (E.isLeft(parsed)) throw new Error(`${e.rrule} refused: ${JSON.stringify(parsed.left)}`);
  const rec = parsed.right;
  const coldStarted = performance.now();
  const occurrences = expandRecurrence(rec).length;
  const coldMs = performance.now() - coldStarted;
  const expand = summarize(timeSync(() => expandRecurrence(rec), iterations));
  const parse = summarize(timeSync(() => parseRecurrence(pattern(e.rrule)), iterations));
  const first = expandRecurrence(rec)[0];
  const last = expandRecurrence(rec)[occurrences - 1];
  log(
    `series: ${e.rrule}: ${occurrences} occurrences (${first?.localDate} .. ${last?.localDate}); expand p50 ${expand.p50.toFixed(3)} ms, ` +
      `p99 ${expand.p99.toFixed(3)} ms (first call ${coldMs.toFixed(2)} ms); parse+validate p50 ${parse.p50.toFixed(3)} ms, p99 ${parse.p99.toFixed(3)} ms`,
  );
  const target = e.target === true ? { op: '<' as const, limit: 2, text: '< 2 ms' } : undefined;
  return [
    {
      id: `${e.id}_p50`,
      label: `${e.label} p50`,
      value: expand.p50,
      unit: 'ms',
      target,
      details: { occurrences, iterations, coldMs, ...details(expand) },
    },
    { id: `${e.id}_p99`, label: `${e.label} p99`, value: expand.p99, unit: 'ms', target },
    {
      id: `${e.id}_parse_p99`,
      label: `B   parseRecurrence (validates by expanding) p99, ${e.rrule}`,
      value: parse.p99,
      unit: 'ms',
      details: details(parse),
    },
  ];
};

/** Two years of daily meetings exceed the 500-occurrence cap; 2027-07-14 is the last date COUNT=500 reaches. */
const capNotes = (): string[] =>
  ['FREQ=DAILY;UNTIL=20280301', 'FREQ=DAILY;UNTIL=20270714'].map((rrule) => {
    const parsed = parseRecurrence(pattern(rrule));
    return E.isLeft(parsed)
      ? `series: ${rrule} from 2026-03-02 is refused by the domain (${parsed.left.map((x) => x.message).join('; ')}); the daily figure uses COUNT=500, the cap`
      : `series: ${rrule} from 2026-03-02 is accepted (${expandRecurrence(parsed.right).length} occurrences)`;
  });

const withSystem = async <A>(work: (server: SystemChild) => Promise<A>): Promise<A> => {
  const dataDir = benchTempDir('series');
  const server = await startChild<{ url: string }>(benchFile('./servers/system.ts'), { env: systemEnv(dataDir) }).catch(
    (error: unknown) => {
      rmSync(dataDir, { recursive: true, force: true });
      throw error;
    },
  );
  try {
    return await work(server);
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
};

/** Meetings of other people, appended straight into the event store by the server process. */
const seedOthers = async (server: SystemChild, others: number, log: Log): Promise<Metric> => {
  log(`series: seeding ${others} meetings of 1,000 other people straight into the event store`);
  const seeded = await server.call<{ appendMs: number; projectMs: number; totalMs: number }>('seedOthers', {
    count: others,
    users: 500,
    fromMs: Date.UTC(2030, 0, 1),
    toMs: Date.UTC(2031, 0, 1),
    prefix: 'other',
  });
  log(`  appended in ${seeded.appendMs.toFixed(0)} ms, projected in ${seeded.projectMs.toFixed(0)} ms more`);
  return {
    id: 'series.seed_others_ms',
    label: `B seed ${others.toLocaleString('en-US')} meetings (append + project)`,
    value: seeded.totalMs,
    unit: 'ms',
    details: seeded,
  };
};

const CUSTOMER = 'bench-series-customer';

/** 20 weekly series of one customer with 20 instructors, created over HTTP one after the other. */
const createSeries = async (url: string, log: Log): Promise<Metric> => {
  const admin = await token('bench-admin', ['admin']);
  expectStatus(
    'PUT /people',
    await jsonRequest(`${url}/people/${CUSTOMER}`, 'PUT', admin, {
      name: 'Series Customer',
      email: 'series-customer@example.com',
    }),
    200,
  );
  const seriesStarted = performance.now();
  let occurrences = 0;
  for (let k = 0; k < 20; k++) {
    const instructorId = `bench-series-instructor-${k}`;
    expectStatus(
      'PUT /people',
      await jsonRequest(`${url}/people/${instructorId}`, 'PUT', admin, {
        name: `Coach ${k}`,
        email: `coach${k}@example.com`,
      }),
      200,
    );
    const created = await jsonRequest(`${url}/series`, 'POST', admin, {
      title: `Weekly training ${k}`,
      customerId: CUSTOMER,
      instructorId,
      trainingType: '1-1',
      timezone: 'Europe/Amsterdam',
      // 2030-01-07 is a Monday: four series a weekday, two hours apart.
      startDate: `2030-01-${String(7 + (k % 5)).padStart(2, '0')}`,
      startTime: `${String(8 + Math.floor(k / 5) * 2).padStart(2, '0')}:00`,
      durationMinutes: 60,
      rrule: 'FREQ=WEEKLY;COUNT=52',
    });
    expectStatus('POST /series', created, 201);
    occurrences += (created.body as { occurrences: unknown[] }).occurrences.length;
  }
  const seriesMs = performance.now() - seriesStarted;
  log(`  20 weekly series (${occurrences} occurrences) created over HTTP in ${seriesMs.toFixed(0)} ms`);
  return {
    id: 'series.create_20_series_ms',
    label: 'B create 20 weekly series over HTTP (sequential)',
    value: seriesMs,
    unit: 'ms',
    details: { occurrences },
  };
};

const RANGES = [
  { name: 'month', from: '2030-03-01T00:00:00.000Z', to: '2030-04-01T00:00:00.000Z' },
  { name: 'year', from: '2030-01-01T00:00:00.000Z', to: '2031-01-01T00:00:00.000Z' },
] as const;

/** The customer's calendar over one range: straight from the read model in the server process, and over HTTP. */
const calendarMetrics = async (
  server: SystemChild,
  range: (typeof RANGES)[number],
  customerToken: string,
  options: BenchOptions,
): Promise<Metric[]> => {
  const calendarIterations = (options.smoke ? 40 : options.quick ? 200 : 1000) / (range.name === 'year' ? 4 : 1);
  const direct = await server.call<Summary & { items: number }>('calendarTiming', {
    userId: CUSTOMER,
    from: range.from,
    to: range.to,
    iterations: calendarIterations,
  });
  const path = `/calendar?from=${range.from}&to=${range.to}`;
  const viaHttp = await timeGets(
    server.info.url,
    path,
    { authorization: `Bearer ${customerToken}` },
    calendarIterations,
    50,
  );
  options.log(
    `series: calendar ${range.name} (${direct.items} items): read model p50 ${direct.p50.toFixed(3)} ms, p99 ${direct.p99.toFixed(3)} ms; ` +
      `HTTP p50 ${viaHttp.summary.p50.toFixed(3)} ms, p99 ${viaHttp.summary.p99.toFixed(3)} ms (${viaHttp.bytes} bytes)`,
  );
  const target = { op: '<' as const, limit: 5, text: '< 5 ms' };
  return [
    {
      id: `series.calendar_${range.name}_readmodel_p99`,
      label: `B calendar ${range.name} (${direct.items} items) read model p99`,
      value: direct.p99,
      unit: 'ms',
      target,
      details: { items: direct.items, ...details(direct) },
    },
    {
      id: `series.calendar_${range.name}_http_p99`,
      label: `B calendar ${range.name} (${direct.items} items) GET /calendar p99`,
      value: viaHttp.summary.p99,
      unit: 'ms',
      target,
      details: { bytes: viaHttp.bytes, ...details(viaHttp.summary) },
    },
  ];
};

type ClientChild = ChildServer<{ pid: number }>;

/**
 * The floor under a calendar's latency from the separate client: the same client, the same number of requests, against
 * a bare `node:http` server answering as many bytes from memory. What this machine's loopback and scheduler add to
 * the tail on their own, beside which the server's own tail is read.
 */
const bareFloor = async (client: ClientChild, bytes: number, iterations: number): Promise<Summary> => {
  const bare = await startChild<{ url: string }>(benchFile('./servers/node-http.ts'), {
    env: { BENCH_BODY_BYTES: String(bytes) },
  });
  try {
    const args = { url: bare.info.url, path: '/', headers: {}, warmup: 50, iterations };
    const timed = await client.call<{ summary: Summary; bytes: number }>('timeGets', args);
    if (timed.bytes !== bytes) throw new Error(`bare node:http answered ${timed.bytes} bytes, not ${bytes}`);
    return timed.summary;
  } finally {
    await bare.stop();
  }
};

/**
 * The same GETs from a load generator in a process of its own (servers/client.ts), so that the bench's garbage
 * collection is not counted as the server's latency; the server's CPU over exactly those requests beside it.
 */
const clientMetrics = async (
  server: SystemChild,
  client: ClientChild,
  range: (typeof RANGES)[number],
  customerToken: string,
  options: BenchOptions,
): Promise<Metric[]> => {
  const iterations = options.smoke ? 40 : options.quick ? 200 : 1000;
  const args = {
    url: server.info.url,
    path: `/calendar?from=${range.from}&to=${range.to}`,
    headers: { authorization: `Bearer ${customerToken}` },
    warmup: 0,
  };
  type Timed = { summary: Summary; bytes: number };
  await client.call<Timed>('timeGets', { ...args, iterations: 50 });
  const measured = await measureWindow(
    options,
    server,
    () => client.call<Timed>('timeGets', { ...args, iterations }),
    () => iterations,
    { name: `calendar-${range.name}-client` },
  );
  const { summary, bytes } = measured.result;
  options.log(
    `series: calendar ${range.name} from a separate client process: p50 ${summary.p50.toFixed(3)} ms, p99 ${summary.p99.toFixed(3)} ms, max ${summary.max.toFixed(3)} ms (${bytes} bytes, ${iterations} requests); ${describeUsage(measured)}`,
  );
  const bare = await bareFloor(client, bytes, iterations);
  options.log(
    `series:   the same client against bare node:http answering ${bytes} bytes: p50 ${bare.p50.toFixed(3)} ms, p99 ${bare.p99.toFixed(3)} ms, max ${bare.max.toFixed(3)} ms`,
  );
  return [
    {
      id: `series.calendar_${range.name}_client_p99`,
      label: `B calendar ${range.name} GET /calendar p99, separate client process`,
      value: summary.p99,
      unit: 'ms',
      ...(range.name === 'year' ? { target: { op: '<' as const, limit: 3, text: '< 3 ms' } } : {}),
      details: { bytes, iterations, ...details(summary) },
    },
    {
      id: `series.calendar_${range.name}_client_bare_p99`,
      label: `B   bare node:http answering the same ${range.name}'s bytes, p99, same client`,
      value: bare.p99,
      unit: 'ms',
      details: { bytes, iterations, ...details(bare) },
    },
    ...usageMetrics(`series.calendar_${range.name}_client`, `B calendar ${range.name} (client process)`, {
      cpuUsPerRequest: measured.cpuUsPerRequest,
      busyUsPerRequest: measured.busyUsPerRequest,
      details: usageDetails(measured),
    }),
  ];
};

/**
 * The calendar over a store with 20 weekly series of one customer and 10,000 meetings of others. The quick run
 * seeds fewer: building the store is most of this suite's time.
 */
const calendarSuite = (options: BenchOptions): Promise<Metric[]> =>
  withSystem(async (server) => {
    const others = options.smoke ? 300 : options.quick ? 3_000 : 10_000;
    const metrics = [await seedOthers(server, others, options.log)];
    metrics.push(await createSeries(server.info.url, options.log));
    const customerToken = await token(CUSTOMER, ['customer']);
    // What seeding left the server doing (its reactions catching up with the log) must not weigh on the timings.
    const quiet = await server.call<Quiet>('quiet', { timeoutMs: 120_000 }, 150_000);
    options.log(
      `  the server ${quiet.quiet ? 'fell quiet' : 'was still busy'} after ${(quiet.waitedMs / 1000).toFixed(1)} s of waiting`,
    );
    for (const range of RANGES) metrics.push(...(await calendarMetrics(server, range, customerToken, options)));
    const client = await startChild<{ pid: number }>(benchFile('./servers/client.ts'));
    try {
      for (const range of RANGES) metrics.push(...(await clientMetrics(server, client, range, customerToken, options)));
    } finally {
      await client.stop();
    }
    return metrics;
  });

export const runSeries = async (options: BenchOptions): Promise<SuiteResult> => {
  const iterations = options.smoke ? 100 : options.quick ? 500 : 3000;
  const metrics = EXPANSIONS.flatMap((e) => expansionMetrics(e, iterations, options.log));
  const notes = capNotes();
  metrics.push(...(await calendarSuite(options)));
  return { metrics, notes };
};
