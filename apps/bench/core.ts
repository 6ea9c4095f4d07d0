import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { openSqliteEventStore } from '../../adapters/event-store/sqlite.ts';
import { benchFile, startChild } from './child.ts';
import type { ChildServer } from './child.ts';
import { runLoad } from './load.ts';
import type { LoadResult } from './load.ts';
import type { Metric } from './report.ts';
import { round } from './stats.ts';
import { benchTempDir, expectStatus, jsonRequest, systemEnv, token } from './suite.ts';
import type { BenchOptions, SuiteResult } from './suite.ts';
import { describeUsage, measureLoad, usageDetails, usageMetrics } from './window.ts';
import type { Measured } from './window.ts';

export const CONNECTIONS = 50;
const HOUR = 3_600_000;

const meetingEvent = (meetingId: string, start: number) => ({
  id: randomUUID(),
  type: 'MeetingScheduled',
  data: {
    meetingId,
    title: 'Bench session',
    customerId: 'bench-customer',
    instructorId: 'bench-instructor',
    start: new Date(start).toISOString(),
    end: new Date(start + 30 * 60_000).toISOString(),
    timezone: 'Europe/Amsterdam',
    trainingType: '1-1',
    description: '',
    customerMetadata: '',
    instructorMetadata: '',
    at: new Date().toISOString(),
    by: { id: 'bench-admin', roles: ['admin'] },
  },
  metadata: { actor: { id: 'bench-admin', roles: ['admin'] } },
});

/** (a): single-event appends awaited one at a time, so each is its own fsync'd transaction; then 50 concurrent writers. */
const appendRates = async (
  seconds: number,
): Promise<{ serial: number; serialCount: number; concurrent: number; settings: string }> => {
  const dir = benchTempDir('append');
  // On the main thread, as every round measured it: the anchor is the file's fsync, whatever the server's default.
  const store = openSqliteEventStore({ path: join(dir, 'events.db'), commitOn: 'main-thread' });
  try {
    const { journalMode, synchronous } = store.connectionSettings();
    const append = () => {
      const id = randomUUID();
      return store.appendToStream(`meeting-${id}`, [meetingEvent(id, Date.UTC(2031, 0, 1))], {
        expectedRevision: 'no_stream',
      });
    };
    for (let i = 0; i < 20; i++) await append();
    let serialCount = 0;
    let started = performance.now();
    const serialEnd = started + seconds * 1000;
    while (performance.now() < serialEnd) {
      await append();
      serialCount += 1;
    }
    const serial = serialCount / ((performance.now() - started) / 1000);

    let concurrentCount = 0;
    started = performance.now();
    const concurrentEnd = started + Math.max(1, seconds / 2) * 1000;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (performance.now() < concurrentEnd) {
          await append();
          concurrentCount += 1;
        }
      }),
    );
    const concurrent = concurrentCount / ((performance.now() - started) / 1000);
    return {
      serial,
      serialCount,
      concurrent,
      settings: `journal_mode=${journalMode}, synchronous=${synchronous}, on a temp file`,
    };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
};

const describeLoad = (name: string, r: LoadResult): string =>
  `${name}: ${r.ok} ok in ${r.seconds.toFixed(2)} s = ${r.rate.toFixed(0)}/s, p50 ${r.latency.p50.toFixed(2)} ms, ` +
  `p99 ${r.latency.p99.toFixed(2)} ms, statuses ${JSON.stringify(r.statusCounts)}, errors ${r.errors}, timeouts ${r.timeouts}`;

const loadDetails = (r: LoadResult) => ({
  ok: r.ok,
  seconds: r.seconds,
  statusCounts: r.statusCounts,
  errors: r.errors,
  timeouts: r.timeouts,
  latencyMs: Object.fromEntries(Object.entries(r.latency).map(([k, v]) => [k, round(v, 3)])),
});

/** What every step of the core suite shares: the options, the durations, and the notes collected on the way. */
interface CoreRun {
  readonly options: BenchOptions;
  readonly seconds: number;
  readonly warmSeconds: number;
  readonly notes: string[];
}

/** (a): the SQLite store alone, serial and with concurrent writers. */
const appendMetrics = async (run: CoreRun): Promise<{ serial: Metric; concurrent: Metric }> => {
  const { log, quick } = run.options;
  log(`core (a): SQLite single-event appends, awaited one at a time, ${quick ? 1 : 5} s`);
  const append = await appendRates(quick ? 1 : 5);
  log(
    `  ${append.serial.toFixed(0)} appends/s serial (${append.serialCount}), ${append.concurrent.toFixed(0)} appends/s with ${CONNECTIONS} concurrent writers (group commit)`,
  );
  run.notes.push(`(a) event store ${append.settings}`);
  return {
    serial: {
      id: 'core.append_rate',
      label: 'A.a SQLite append tx/s (serial, fsync each)',
      value: append.serial,
      unit: '/s',
      details: { appends: append.serialCount },
    },
    concurrent: {
      id: 'core.append_rate_concurrent',
      label: `A.a' SQLite appends/s, ${CONNECTIONS} concurrent (group commit)`,
      value: append.concurrent,
      unit: '/s',
    },
  };
};

type Server = ChildServer<{ url: string }>;

/** A fresh server for each of (b), (b'), (c), so that what one leaves behind does not weigh on the next. */
const withSystem = async <A>(work: (server: Server) => Promise<A>): Promise<A> => {
  const dataDir = benchTempDir('core');
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

/** Meetings are booked only for people in the directory: one customer and one instructor per connection. */
const registerSchedulePeople = async (url: string): Promise<void> => {
  const admin = await token('bench-admin', ['admin']);
  for (let i = 0; i < CONNECTIONS; i++) {
    for (const person of [`bench-customer-${i}`, `bench-instructor-${i}`]) {
      expectStatus(
        'PUT /people',
        await jsonRequest(`${url}/people/${person}`, 'PUT', admin, { name: person, email: `${person}@example.com` }),
        200,
      );
    }
  }
};

export interface BookingOptions {
  /** Fields put into every body. */
  readonly extra?: Readonly<Record<string, string>>;
  /** Every connection books for instructor 0 (each still for its own customer): the one-trainer contention case. */
  readonly oneInstructor?: boolean;
}

/**
 * POST /meetings from 50 connections, after putting their people: each connection books for its own customer and
 * (unless `oneInstructor`) its own instructor, every request a slot no other request uses (an hour apart from
 * 2031-01-06), so none is refused as a double booking, not even when all of them book one instructor.
 */
export const bookingRequests = async (url: string, options: BookingOptions = {}) => {
  const instructorOf = (i: number): number => (options.oneInstructor === true ? 0 : i);
  const instructorTokens = await Promise.all(
    Array.from({ length: CONNECTIONS }, (_, i) => token(`bench-instructor-${instructorOf(i)}`, ['instructor'])),
  );
  await registerSchedulePeople(url);
  let slot = 0;
  const firstSlot = Date.UTC(2031, 0, 6, 8);
  return (i: number) => [
    {
      method: 'POST' as const,
      path: '/meetings',
      headers: { authorization: `Bearer ${instructorTokens[i]}`, 'content-type': 'application/json' },
      setupRequest: (request: object) => {
        const start = firstSlot + slot++ * HOUR;
        return {
          ...request,
          body: JSON.stringify({
            title: 'Strength coaching',
            customerId: `bench-customer-${i}`,
            instructorId: `bench-instructor-${instructorOf(i)}`,
            start: new Date(start).toISOString(),
            end: new Date(start + 30 * 60_000).toISOString(),
            timezone: 'Europe/Amsterdam',
            trainingType: '1-1',
            ...options.extra,
          }),
        };
      },
    },
  ];
};

/**
 * POST /meetings from 50 connections after a warm-up; the measured window lasts until the server's read models
 * have caught up, so what the bookings cost them counts. Shared by (b), (b') and the booking suite.
 */
export const measureBookings = async (
  options: BenchOptions,
  server: ChildServer<{ url: string }>,
  booking: BookingOptions & { readonly seconds: number; readonly warmSeconds: number; readonly name: string },
): Promise<{ warm: LoadResult; measured: Measured<LoadResult> }> => {
  const url = server.info.url;
  const perConnection = await bookingRequests(url, booking);
  const warm = await runLoad({
    url,
    connections: CONNECTIONS,
    seconds: booking.warmSeconds,
    okStatus: 201,
    perConnection,
  });
  await server.call('settle');
  const measured = await measureLoad(
    options,
    server,
    () => runLoad({ url, connections: CONNECTIONS, seconds: booking.seconds, okStatus: 201, perConnection }),
    { name: booking.name, settle: true },
  );
  return { warm, measured };
};

/** (b) POST /meetings from 50 connections, each its own instructor's; (b') all of them booking one instructor. */
const scheduleLoad = async (run: CoreRun, server: Server, oneInstructor: boolean): Promise<Measured<LoadResult>> => {
  const { seconds, warmSeconds } = run;
  const step = oneInstructor ? "(b')" : '(b)';
  run.options.log(
    `core ${step}: POST /meetings, ${CONNECTIONS} connections (${oneInstructor ? 'one instructor for all, a customer each' : 'one instructor each'}), warm-up ${warmSeconds} s, measured ${seconds} s`,
  );
  const { warm, measured } = await measureBookings(run.options, server, {
    seconds,
    warmSeconds,
    oneInstructor,
    name: oneInstructor ? 'one-trainer' : 'schedule',
    ...(oneInstructor ? {} : { extra: { description: 'Weekly check-in' } }),
  });
  const result = measured.result;
  run.options.log(`  ${describeLoad(oneInstructor ? 'one trainer' : 'schedule', result)}`);
  run.options.log(`  ${describeUsage(measured)}`);
  run.notes.push(`${step} measured over a store already holding the ${warm.ok} meetings booked in the warm-up`);
  if (measured.profileFile !== undefined) run.notes.push(`${step} server profile: ${measured.profileFile}`);
  if ((result.statusCounts['409'] ?? 0) > 0)
    run.notes.push(`${step} got ${result.statusCounts['409']} unexpected 409s`);
  return measured;
};

const CALENDAR_CUSTOMER = 'bench-calendar-customer';
const MONTH_START = Date.UTC(2030, 2, 1);

/** A customer with a realistic month: 3 sessions a week with 3 instructors, named in the people directory. */
const seedCalendar = async (url: string): Promise<void> => {
  const admin = await token('bench-admin', ['admin']);
  expectStatus(
    'PUT /people',
    await jsonRequest(`${url}/people/${CALENDAR_CUSTOMER}`, 'PUT', admin, {
      name: 'Calendar Customer',
      email: 'calendar-customer@example.com',
    }),
    200,
  );
  for (let k = 0; k < 3; k++) {
    expectStatus(
      'PUT /people',
      await jsonRequest(`${url}/people/bench-cal-instructor-${k}`, 'PUT', admin, {
        name: `Coach ${k}`,
        email: `coach${k}@example.com`,
      }),
      200,
    );
  }
  let booked = 0;
  for (let day = 0; day < 31; day++) {
    if (![1, 3, 5].includes(new Date(MONTH_START + day * 24 * HOUR).getUTCDay())) continue;
    const start = MONTH_START + day * 24 * HOUR + 9 * HOUR;
    const result = await jsonRequest(`${url}/meetings`, 'POST', admin, {
      title: 'Personal training',
      customerId: CALENDAR_CUSTOMER,
      instructorId: `bench-cal-instructor-${booked % 3}`,
      start: new Date(start).toISOString(),
      end: new Date(start + 45 * 60_000).toISOString(),
      timezone: 'Europe/Amsterdam',
      trainingType: '1-1',
    });
    expectStatus('POST /meetings (calendar seed)', result, 201);
    booked += 1;
  }
};

/** (c): one customer's month calendar from 50 connections. */
const calendarLoad = async (run: CoreRun, server: Server): Promise<Measured<LoadResult>> => {
  const { seconds, warmSeconds } = run;
  const url = server.info.url;
  await seedCalendar(url);
  const customerToken = await token(CALENDAR_CUSTOMER, ['customer']);
  const query = `/calendar?from=${new Date(MONTH_START).toISOString()}&to=${new Date(MONTH_START + 31 * 24 * HOUR).toISOString()}`;
  const check = await jsonRequest(`${url}${query}`, 'GET', customerToken);
  expectStatus('GET /calendar', check, 200);
  const items = (check.body as { items: unknown[] }).items.length;
  run.options.log(
    `core (c): GET /calendar (one month, ${items} items), ${CONNECTIONS} connections, warm-up ${warmSeconds} s, measured ${seconds} s`,
  );
  const requests = [{ method: 'GET' as const, path: query, headers: { authorization: `Bearer ${customerToken}` } }];
  await runLoad({ url, connections: CONNECTIONS, seconds: warmSeconds, okStatus: 200, requests });
  const measured = await measureLoad(
    run.options,
    server,
    () => runLoad({ url, connections: CONNECTIONS, seconds, okStatus: 200, requests }),
    { name: 'calendar' },
  );
  run.options.log(`  ${describeLoad('calendar', measured.result)}`);
  run.options.log(`  ${describeUsage(measured)}`);
  run.notes.push(`(c) calendar query: one month, ${items} items in the answer, one customer token on every connection`);
  if (measured.profileFile !== undefined) run.notes.push(`(c) server profile: ${measured.profileFile}`);
  return measured;
};

/** (d) a bare Hono hello-world, the ceiling (c) is measured against; (d') bare `node:http`, the floor under it. */
const anchorLoad = async (run: CoreRun, kind: 'hono' | 'node'): Promise<Measured<LoadResult>> => {
  const { seconds, warmSeconds } = run;
  const server = await startChild<{ url: string }>(
    benchFile(kind === 'hono' ? './servers/hello.ts' : './servers/node-http.ts'),
  );
  const name = kind === 'hono' ? 'hello' : 'node:http';
  try {
    run.options.log(
      `core ${kind === 'hono' ? '(d): bare Hono' : "(d'): bare node:http"} hello-world, ${CONNECTIONS} connections, warm-up ${warmSeconds} s, measured ${seconds} s`,
    );
    const url = server.info.url;
    await runLoad({ url, connections: CONNECTIONS, seconds: warmSeconds, okStatus: 200 });
    const measured = await measureLoad(
      run.options,
      server,
      () => runLoad({ url, connections: CONNECTIONS, seconds, okStatus: 200 }),
      { name },
    );
    run.options.log(`  ${describeLoad(name, measured.result)}`);
    run.options.log(
      `  ${describeUsage(measured)}; load generator (this process) ${measured.generator.cpuShare.toFixed(2)} of a core`,
    );
    return measured;
  } finally {
    await server.stop();
  }
};

const withUsage = (m: Measured<LoadResult>) => ({
  cpuUsPerRequest: m.cpuUsPerRequest,
  busyUsPerRequest: m.busyUsPerRequest,
  details: usageDetails(m),
});

/** (b) against (a): the target is 1.0x the serial fsync rate, its goal (the moonshot) 2x. */
const scheduleMetrics = (append: Metric, m: Measured<LoadResult>): Metric[] => {
  const schedule = m.result;
  return [
    {
      id: 'core.schedule_rate',
      label: 'A.b POST /meetings 201/s @50 conn',
      value: schedule.rate,
      unit: '/s',
      target: { op: '>=', limit: 1, reference: { id: append.id, value: append.value }, text: '>= 1.0x A.a' },
      details: loadDetails(schedule),
    },
    {
      id: 'core.schedule_vs_append',
      label: 'A.b / A.a (the goal: 2x)',
      value: schedule.rate / append.value,
      unit: 'x',
    },
    { id: 'core.schedule_p50', label: 'A.b POST /meetings p50', value: schedule.latency.p50, unit: 'ms' },
    {
      id: 'core.schedule_p99',
      label: 'A.b POST /meetings p99',
      value: schedule.latency.p99,
      unit: 'ms',
      target: { op: '<', limit: 20, text: '< 20 ms' },
    },
    ...usageMetrics('core.schedule', 'A.b', withUsage(m)),
  ];
};

/** (b') against (b): 50 connections booking one trainer may cost at most 1/0.6 of distinct trainers. */
const oneTrainerMetrics = (schedule: Metric, m: Measured<LoadResult>): Metric[] => [
  {
    id: 'core.one_trainer_rate',
    label: `A.b' POST /meetings 201/s @50 conn, one trainer`,
    value: m.result.rate,
    unit: '/s',
    target: { op: '>=', limit: 0.6, reference: { id: schedule.id, value: schedule.value }, text: '>= 60% of A.b' },
    details: loadDetails(m.result),
  },
  {
    id: 'core.one_trainer_p50',
    label: `A.b' POST /meetings p50, one trainer`,
    value: m.result.latency.p50,
    unit: 'ms',
  },
  {
    id: 'core.one_trainer_p99',
    label: `A.b' POST /meetings p99, one trainer`,
    value: m.result.latency.p99,
    unit: 'ms',
  },
  ...usageMetrics('core.one_trainer', "A.b'", withUsage(m)),
];

/** (c) against (d), and (d), (d') with what their processes spent. */
const readMetrics = (
  calendar: Measured<LoadResult>,
  hello: Measured<LoadResult>,
  node: Measured<LoadResult>,
): Metric[] => {
  const helloMetric: Metric = {
    id: 'core.hello_rate',
    label: 'A.d Hono hello-world req/s',
    value: hello.result.rate,
    unit: '/s',
    details: loadDetails(hello.result),
  };
  const reference = { id: helloMetric.id, value: helloMetric.value };
  return [
    {
      id: 'core.calendar_rate',
      label: 'A.c GET /calendar req/s @50 conn',
      value: calendar.result.rate,
      unit: '/s',
      target: { op: '>=', limit: 0.5, reference, text: '>= 50% of A.d' },
      details: loadDetails(calendar.result),
    },
    { id: 'core.calendar_p99', label: 'A.c GET /calendar p99', value: calendar.result.latency.p99, unit: 'ms' },
    ...usageMetrics('core.calendar', 'A.c', withUsage(calendar)),
    helloMetric,
    ...usageMetrics('core.hello', 'A.d', withUsage(hello)),
    {
      id: 'core.hello_generator_cpu_share',
      label: 'A.d load generator CPU during A.d',
      value: hello.generator.cpuShare,
      unit: 'cores',
    },
    {
      id: 'core.hello_server_cpu_share',
      label: 'A.d server CPU during A.d',
      value: hello.server.cpuShare,
      unit: 'cores',
    },
    {
      id: 'core.node_http_rate',
      label: "A.d' bare node:http hello-world req/s",
      value: node.result.rate,
      unit: '/s',
      details: loadDetails(node.result),
    },
    ...usageMetrics('core.node_http', "A.d'", withUsage(node)),
  ];
};

/** Whether the anchors measured the server or the machine: both processes' CPU over the hello-world window. */
const anchorNotes = (calendar: Measured<LoadResult>, hello: Measured<LoadResult>, node: Measured<LoadResult>) => {
  const cores = availableParallelism();
  const used = hello.generator.cpuShare + hello.server.cpuShare;
  const verdict =
    used >= 0.85 * cores
      ? `together ${used.toFixed(2)} of ${cores} cores: the anchor saturates the machine, so it is a ceiling of this machine with its load generator on it, not of Hono alone`
      : `together ${used.toFixed(2)} of ${cores} cores`;
  return [
    `(d) during the Hono hello-world window the load generator (the bench process) used ${hello.generator.cpuShare.toFixed(2)} of a core and the server ${hello.server.cpuShare.toFixed(2)} (whole processes), ${verdict}`,
    `(d') during the node:http window: generator ${node.generator.cpuShare.toFixed(2)}, server ${node.server.cpuShare.toFixed(2)} of a core; Hono's hello-world runs at ${(hello.result.rate / node.result.rate).toFixed(2)}x bare node:http`,
    `(c) GET /calendar runs at ${(calendar.result.rate / hello.result.rate).toFixed(2)}x Hono's hello-world and ${(calendar.result.rate / node.result.rate).toFixed(2)}x bare node:http`,
    'server CPU/req is the whole process over the measured window (an IPC call at each end; Node 20 has no per-thread CPU); main thread busy/req is its event-loop utilization (wall time not idle: JavaScript and synchronous calls, fsync included, and on a loaded machine the time the OS ran something else); POST windows end when the read models have caught up',
  ];
};

export const runCore = async (options: BenchOptions): Promise<SuiteResult> => {
  const run: CoreRun = {
    options,
    seconds: options.smoke ? 1 : options.quick ? 2 : 10,
    warmSeconds: options.smoke ? 0.5 : options.quick ? 1 : 2,
    notes: [],
  };
  const appends = await appendMetrics(run);
  const schedule = await withSystem((server) => scheduleLoad(run, server, false));
  const oneTrainer = await withSystem((server) => scheduleLoad(run, server, true));
  const calendar = await withSystem((server) => calendarLoad(run, server));
  const hello = await anchorLoad(run, 'hono');
  const node = await anchorLoad(run, 'node');
  const scheduled = scheduleMetrics(appends.serial, schedule);
  const scheduleRate = scheduled[0];
  if (scheduleRate === undefined) throw new Error('no schedule rate');
  const metrics = [
    appends.serial,
    appends.concurrent,
    ...scheduled,
    ...oneTrainerMetrics(scheduleRate, oneTrainer),
    ...readMetrics(calendar, hello, node),
  ];
  run.notes.push(
    `(b') one trainer: ${(oneTrainer.result.rate / schedule.result.rate).toFixed(2)}x the rate of (b), where each connection has its own (target >= 0.6x)`,
    ...anchorNotes(calendar, hello, node),
  );
  return { metrics, notes: run.notes };
};
