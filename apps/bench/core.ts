import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { openSqliteEventStore } from '../../adapters/event-store/sqlite.ts';
import { benchFile, startChild } from './child.ts';
import { runLoad } from './load.ts';
import type { LoadResult } from './load.ts';
import { renderProfile, summarizeProfile } from './profile.ts';
import type { Metric } from './report.ts';
import { round } from './stats.ts';
import { benchTempDir, expectStatus, jsonRequest, systemEnv, token } from './suite.ts';
import type { BenchOptions, SuiteResult } from './suite.ts';

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
  const store = openSqliteEventStore({ path: join(dir, 'events.db') });
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

/** A fresh server for each of (b) and (c), so that a profile (--profile) tells the two apart. */
const withSystem = async <A>(run: CoreRun, what: string, work: (url: string) => Promise<A>): Promise<A> => {
  const dataDir = benchTempDir('core');
  const profileDir = run.options.profile ? benchTempDir('profile') : undefined;
  const server = await startChild<{ url: string }>(benchFile('./servers/system.ts'), {
    env: systemEnv(dataDir),
    nodeFlags: profileDir !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
  }).catch((error: unknown) => {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  });
  try {
    return await work(server.info.url);
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
    const summary = profileDir !== undefined ? summarizeProfile(profileDir) : undefined;
    if (summary !== undefined) {
      run.options.log(`  server CPU profile during ${what} (start-up included):\n${renderProfile(summary)}`);
      run.notes.push(`server CPU profile during ${what}: ${summary.file}`);
    }
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

/**
 * POST /meetings from 50 connections, after putting their people: each connection books for its own instructor and
 * customer, every request a slot no other request uses (an hour apart from 2031-01-06), so none is refused as a double
 * booking and each instructor has one request in flight at a time. `extra` fields go into every body.
 */
export const bookingRequests = async (url: string, extra: Readonly<Record<string, string>> = {}) => {
  const instructorTokens = await Promise.all(
    Array.from({ length: CONNECTIONS }, (_, i) => token(`bench-instructor-${i}`, ['instructor'])),
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
            instructorId: `bench-instructor-${i}`,
            start: new Date(start).toISOString(),
            end: new Date(start + 30 * 60_000).toISOString(),
            timezone: 'Europe/Amsterdam',
            trainingType: '1-1',
            ...extra,
          }),
        };
      },
    },
  ];
};

/** (b): POST /meetings from 50 connections, each its own instructor's. */
const scheduleLoad = async (run: CoreRun, url: string): Promise<LoadResult> => {
  const { seconds, warmSeconds } = run;
  const perConnection = await bookingRequests(url, { description: 'Weekly check-in' });
  run.options.log(
    `core (b): POST /meetings, ${CONNECTIONS} connections (one instructor each), warm-up ${warmSeconds} s, measured ${seconds} s`,
  );
  const warm = await runLoad({ url, connections: CONNECTIONS, seconds: warmSeconds, okStatus: 201, perConnection });
  const result = await runLoad({ url, connections: CONNECTIONS, seconds, okStatus: 201, perConnection });
  run.options.log(`  ${describeLoad('schedule', result)}`);
  run.notes.push(`(b) measured over a store already holding the ${warm.ok} meetings booked in the warm-up`);
  if ((result.statusCounts['409'] ?? 0) > 0) run.notes.push(`(b) got ${result.statusCounts['409']} unexpected 409s`);
  return result;
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
const calendarLoad = async (run: CoreRun, url: string): Promise<LoadResult> => {
  const { seconds, warmSeconds } = run;
  await seedCalendar(url);
  const customerToken = await token(CALENDAR_CUSTOMER, ['customer']);
  const query = `/calendar?from=${new Date(MONTH_START).toISOString()}&to=${new Date(MONTH_START + 31 * 24 * HOUR).toISOString()}`;
  const check = await jsonRequest(`${url}${query}`, 'GET', customerToken);
  expectStatus('GET /calendar', check, 200);
  const items = (check.body as { items: unknown[] }).items.length;
  run.options.log(
    `core (c): GET /calendar (one month, ${items} items), ${CONNECTIONS} connections, warm-up ${warmSeconds} s, measured ${seconds} s`,
  );
  const calendarRequest = [
    { method: 'GET' as const, path: query, headers: { authorization: `Bearer ${customerToken}` } },
  ];
  await runLoad({ url, connections: CONNECTIONS, seconds: warmSeconds, okStatus: 200, requests: calendarRequest });
  const result = await runLoad({ url, connections: CONNECTIONS, seconds, okStatus: 200, requests: calendarRequest });
  run.options.log(`  ${describeLoad('calendar', result)}`);
  run.notes.push(`(c) calendar query: one month, ${items} items in the answer, one customer token on every connection`);
  return result;
};

/** (d): a bare Hono hello-world, the ceiling (c) is measured against. */
const helloLoad = async (run: CoreRun): Promise<LoadResult> => {
  const { seconds, warmSeconds } = run;
  const hello = await startChild<{ url: string }>(benchFile('./servers/hello.ts'));
  try {
    run.options.log(
      `core (d): bare Hono hello-world, ${CONNECTIONS} connections, warm-up ${warmSeconds} s, measured ${seconds} s`,
    );
    await runLoad({ url: hello.info.url, connections: CONNECTIONS, seconds: warmSeconds, okStatus: 200 });
    const result = await runLoad({ url: hello.info.url, connections: CONNECTIONS, seconds, okStatus: 200 });
    run.options.log(`  ${describeLoad('hello', result)}`);
    return result;
  } finally {
    await hello.stop();
  }
};

/** (b), (c) and (d) as metrics, (b) targeted against (a) and (c) against (d). */
const httpMetrics = (append: Metric, schedule: LoadResult, calendar: LoadResult, hello: LoadResult): Metric[] => {
  const helloMetric: Metric = {
    id: 'core.hello_rate',
    label: 'A.d Hono hello-world req/s',
    value: hello.rate,
    unit: '/s',
    details: loadDetails(hello),
  };
  return [
    {
      id: 'core.schedule_rate',
      label: 'A.b POST /meetings 201/s @50 conn',
      value: schedule.rate,
      unit: '/s',
      target: { op: '>=', limit: 0.8, reference: { id: append.id, value: append.value }, text: '>= 80% of A.a' },
      details: loadDetails(schedule),
    },
    { id: 'core.schedule_p50', label: 'A.b POST /meetings p50', value: schedule.latency.p50, unit: 'ms' },
    {
      id: 'core.schedule_p99',
      label: 'A.b POST /meetings p99',
      value: schedule.latency.p99,
      unit: 'ms',
      target: { op: '<', limit: 50, text: '< 50 ms' },
    },
    {
      id: 'core.calendar_rate',
      label: 'A.c GET /calendar req/s @50 conn',
      value: calendar.rate,
      unit: '/s',
      target: {
        op: '>=',
        limit: 0.4,
        reference: { id: helloMetric.id, value: helloMetric.value },
        text: '>= 40% of A.d',
      },
      details: loadDetails(calendar),
    },
    { id: 'core.calendar_p99', label: 'A.c GET /calendar p99', value: calendar.latency.p99, unit: 'ms' },
    helloMetric,
  ];
};

export const runCore = async (options: BenchOptions): Promise<SuiteResult> => {
  const run: CoreRun = {
    options,
    seconds: options.quick ? 2 : 10,
    warmSeconds: options.quick ? 1 : 2,
    notes: [],
  };
  const appends = await appendMetrics(run);
  const schedule = await withSystem(run, '(b) POST /meetings', (url) => scheduleLoad(run, url));
  const calendar = await withSystem(run, '(c) GET /calendar', (url) => calendarLoad(run, url));
  const hello = await helloLoad(run);
  const metrics = [appends.serial, appends.concurrent, ...httpMetrics(appends.serial, schedule, calendar, hello)];
  return { metrics, notes: run.notes };
};
