import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { benchFile, startChild } from '../../apps/bench/child.ts';
import type { ChildServer } from '../../apps/bench/child.ts';
import { runLoad } from '../../apps/bench/load.ts';
import { summarizeProfile, summarizeProfileFile } from '../../apps/bench/profile.ts';
import { judge, renderTable } from '../../apps/bench/report.ts';
import { Samples, summarize } from '../../apps/bench/stats.ts';
import { jsonRequest, systemEnv, token } from '../../apps/bench/suite.ts';
import { usageBetween } from '../../apps/bench/usage.ts';
import type { UsageSnapshot } from '../../apps/bench/usage.ts';
import { measureLoad, usageMetrics } from '../../apps/bench/window.ts';
import { REDIS_SERVER, needingRedis, startRedisServer } from '../support/redis-server.ts';

const children: Array<ChildServer<unknown>> = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(children.splice(0).map((c) => c.stop()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('bench statistics', () => {
  it('takes nearest-rank percentiles', () => {
    const s = summarize(Array.from({ length: 100 }, (_, i) => 100 - i));
    expect(s).toMatchObject({ n: 100, min: 1, p50: 50, p90: 90, p99: 99, max: 100, mean: 50.5 });
    expect(summarize([7])).toMatchObject({ p50: 7, p99: 7 });
    expect(Number.isNaN(summarize([]).p99)).toBe(true);
  });

  it('keeps every sample past its initial capacity', () => {
    const samples = new Samples();
    for (let i = 0; i < 5000; i++) samples.push(i);
    expect(samples.length).toBe(5000);
    expect(samples.values()[4999]).toBe(4999);
  });
});

describe('bench report', () => {
  it('judges absolute and relative targets', () => {
    expect(
      judge({ id: 'a', label: 'a', value: 40, unit: 'ms', target: { op: '<', limit: 50, text: '< 50 ms' } }),
    ).toMatchObject({ pass: true, ratio: 0.8 });
    expect(
      judge({ id: 'b', label: 'b', value: 60, unit: 'ms', target: { op: '<', limit: 50, text: '< 50 ms' } }).pass,
    ).toBe(false);
    const relative = judge({
      id: 'c',
      label: 'c',
      value: 300,
      unit: '/s',
      target: { op: '>=', limit: 0.8, reference: { id: 'd', value: 400 }, text: '>= 80% of d' },
    });
    expect(relative).toMatchObject({ pass: false, ratio: 0.75 });
    expect(
      judge({ id: 'e', label: 'e', value: Number.NaN, unit: 'ms', target: { op: '<', limit: 1, text: '< 1 ms' } }).pass,
    ).toBe(false);
    expect(judge({ id: 'f', label: 'f', value: 1, unit: 'ms' }).pass).toBeUndefined();
  });

  it('prints one row per metric with its verdict', () => {
    const table = renderTable([
      judge({ id: 'a', label: 'fast thing', value: 1, unit: 'ms', target: { op: '<', limit: 2, text: '< 2 ms' } }),
      judge({ id: 'b', label: 'slow thing', value: 3, unit: 'ms', target: { op: '<', limit: 2, text: '< 2 ms' } }),
      judge({ id: 'c', label: 'plain figure', value: 12345, unit: '/s' }),
    ]);
    const lines = table.split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[2]).toMatch(/fast thing .*< 2 ms .*0\.50x .*PASS/);
    expect(lines[3]).toMatch(/slow thing .*1\.50x .*MISS/);
    expect(lines[4]).toMatch(/plain figure .*12,345 \/s .*info/);
  });
});

describe('bench usage', () => {
  it('turns two snapshots into CPU and busy shares of the window', () => {
    const before: UsageSnapshot = { cpuUs: 1_000, activeMs: 10, atMs: 100 };
    const after: UsageSnapshot = { cpuUs: 1_501_000, activeMs: 810, atMs: 1100 };
    expect(usageBetween(before, after)).toEqual({
      wallMs: 1000,
      cpuUs: 1_500_000,
      busyUs: 800_000,
      cpuShare: 1.5,
      busyShare: 0.8,
    });
    expect(Number.isNaN(usageBetween(before, before).cpuShare)).toBe(true);
  });

  it('prints two rows per figure under ids that end in _cpu_us and _busy_us', () => {
    const rows = usageMetrics('core.x', 'A.x', {
      cpuUsPerRequest: 120,
      busyUsPerRequest: 90,
      details: { requests: 3 },
    });
    expect(rows.map((r) => [r.id, r.value, r.unit])).toEqual([
      ['core.x_cpu_us', 120, 'µs'],
      ['core.x_busy_us', 90, 'µs'],
    ]);
    expect(rows[0]?.details).toEqual({ requests: 3 });
  });
});

describe('bench profile summary', () => {
  it('reports self time by area from the busiest profile in the folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-profile-test-'));
    dirs.push(dir);
    const frame = (id: number, functionName: string, url: string) => ({
      id,
      callFrame: { functionName, url, lineNumber: 0 },
    });
    writeFileSync(
      join(dir, 'main.cpuprofile'),
      JSON.stringify({
        nodes: [
          frame(1, '(root)', ''),
          frame(2, '(idle)', ''),
          frame(3, 'run', 'file:///x/node_modules/better-sqlite3/lib/a.js'),
          frame(4, 'calendar', 'file:///x/adapters/read-models/sqlite.ts'),
        ],
        samples: [2, 3, 3, 4, 3],
        timeDeltas: [5000, 1000, 1000, 2000, 1000],
      }),
    );
    writeFileSync(
      join(dir, 'worker.cpuprofile'),
      JSON.stringify({ nodes: [frame(1, 'tiny', 'node:internal/x')], samples: [1], timeDeltas: [10] }),
    );
    const summary = summarizeProfile(dir);
    expect(summary?.file).toBe(join(dir, 'main.cpuprofile'));
    expect(summary?.idleMs).toBe(5);
    expect(summary?.busyMs).toBe(5);
    expect(summary?.byArea.map((a) => [a.area, a.ms])).toEqual([
      ['better-sqlite3', 3],
      ['adapters/read-models/sqlite.ts', 2],
    ]);
  });

  it('counts a native function toward the code that called it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-profile-test-'));
    dirs.push(dir);
    const frame = (id: number, functionName: string, url: string, children: number[] = []) => ({
      id,
      callFrame: { functionName, url, lineNumber: 0 },
      children,
    });
    const file = join(dir, 'one.cpuprofile');
    writeFileSync(
      file,
      JSON.stringify({
        nodes: [
          frame(1, '(root)', '', [2, 5, 6]),
          frame(2, 'prepare', 'file:///x/node_modules/better-sqlite3/lib/methods/wrappers.js', [3]),
          frame(3, 'run', '', [4]),
          frame(4, 'deeper', ''),
          frame(5, '(garbage collector)', ''),
          frame(6, 'append', 'file:///x/adapters/event-store/sqlite.ts', [7]),
          frame(7, 'transaction', 'file:///x/node_modules/better-sqlite3/lib/methods/transaction.js', [8]),
          frame(8, 'run', ''),
        ],
        samples: [3, 4, 5, 2, 8],
        timeDeltas: [2000, 1000, 250, 500, 4000],
      }),
    );
    const summary = summarizeProfileFile(file);
    expect(summary.byArea.map((a) => [a.area, a.ms])).toEqual([
      ['adapters/event-store/sqlite.ts (native)', 4],
      ['better-sqlite3 (native)', 3],
      ['better-sqlite3', 0.5],
      ['(garbage collector)', 0.25],
    ]);
    expect(summary.topFunctions.slice(0, 2)).toMatchObject([
      { fn: 'run (native, from adapters/event-store/sqlite.ts)', ms: 4 },
      { fn: 'run (native, from better-sqlite3)', ms: 2 },
    ]);
  });
});

const frames = (ws: WebSocket): Array<Record<string, unknown>> => {
  const seen: Array<Record<string, unknown>> = [];
  ws.on('message', (raw) => seen.push(JSON.parse(raw.toString()) as Record<string, unknown>));
  return seen;
};

const opened = (url: string): Promise<{ ws: WebSocket; seen: Array<Record<string, unknown>> }> =>
  new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const seen = frames(ws);
    ws.once('open', () => resolve({ ws, seen }));
    ws.once('error', reject);
  });

const until = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
  expect(check()).toBe(true);
};

describe('bench servers', () => {
  it('the bare relay forwards each message to the socket paired with it', async () => {
    const server = await startChild<{ url: string; mode: string }>(benchFile('./servers/signaling.ts'), {
      args: ['bare'],
    });
    children.push(server);
    expect(server.info.mode).toBe('bare');
    const a = await opened(`${server.info.url}/?pair=7`);
    const b = await opened(`${server.info.url}/?pair=7`);
    await until(() => a.seen.length === 1 && b.seen.length === 1);
    a.ws.send(JSON.stringify({ type: 'signal', data: { n: 1 } }));
    await until(() => b.seen.length === 2);
    expect(b.seen[1]).toEqual({ type: 'signal', data: { n: 1 } });
    expect(await server.call<number>('sockets')).toBe(2);
    const memory = await server.call<{ heapUsed: number; external: number }>('memory');
    expect(memory.heapUsed).toBeGreaterThan(0);
    await expect(server.call('no-such-command')).rejects.toThrow(/unknown command/);
    a.ws.terminate();
    b.ws.terminate();
  });

  it('our signaling server admits ticket holders and relays their signals', async () => {
    const server = await startChild<{ url: string }>(benchFile('./servers/signaling.ts'), { args: ['ours'] });
    children.push(server);
    const [tickets] = await server.call<Array<[string, string]>>('tickets', { rooms: 1, offset: 0 });
    if (tickets === undefined) throw new Error('no tickets');
    const instructor = await opened(`${server.info.url}/signaling?ticket=${tickets[0]}`);
    const customer = await opened(`${server.info.url}/signaling?ticket=${tickets[1]}`);
    await until(() => customer.seen.some((f) => f['type'] === 'peer-joined'));
    const connectionId = customer.seen.find((f) => f['type'] === 'peer-joined')?.['connectionId'];
    customer.ws.send(JSON.stringify({ type: 'signal', connectionId, data: { type: 'answer', sdp: 'x' } }));
    await until(() => instructor.seen.some((f) => f['type'] === 'signal'));
    expect(instructor.seen.find((f) => f['type'] === 'signal')).toMatchObject({
      connectionId,
      data: { type: 'answer', sdp: 'x' },
    });
    instructor.ws.terminate();
    customer.ws.terminate();
  });

  it.skipIf(REDIS_SERVER === undefined)(
    needingRedis('two of our signaling servers on one Redis pair an instructor on one with a customer on the other'),
    async () => {
      const redis = await startRedisServer();
      try {
        const start = (node: string) =>
          startChild<{ url: string }>(benchFile('./servers/signaling.ts'), {
            args: ['ours', node],
            env: { SIGNALING_BENCH_REDIS_URL: redis.url },
          });
        const [a, b] = [await start('bench-a'), await start('bench-b')];
        children.push(a, b);
        for (const s of [a, b]) {
          for (let i = 0; i < 200 && (await s.call<{ status: string }>('bus')).status !== 'ok'; i++) {
            await new Promise((r) => setTimeout(r, 25));
          }
          expect(await s.call('bus')).toEqual({ name: 'redis', status: 'ok' });
        }
        const [ticketsA, ticketsB] = await Promise.all(
          [a, b].map((s) => s.call<Array<[string, string]>>('tickets', { rooms: 1, offset: 0 })),
        );
        const [fromA, fromB] = [ticketsA?.[0], ticketsB?.[0]];
        const instructor = await opened(`${a.info.url}/signaling?ticket=${fromA?.[0]}`);
        const customer = await opened(`${b.info.url}/signaling?ticket=${fromB?.[1]}`);
        await until(() => customer.seen.some((f) => f['type'] === 'peer-joined'));
        const connectionId = customer.seen.find((f) => f['type'] === 'peer-joined')?.['connectionId'];
        customer.ws.send(JSON.stringify({ type: 'signal', connectionId, data: { type: 'answer', sdp: 'x' } }));
        await until(() => instructor.seen.some((f) => f['type'] === 'signal'));
        expect(instructor.seen.find((f) => f['type'] === 'signal')).toMatchObject({ connectionId, data: { sdp: 'x' } });
        instructor.ws.terminate();
        customer.ws.terminate();
      } finally {
        await Promise.all(children.splice(0).map((c) => c.stop()));
        await redis.stop();
      }
    },
  );

  it('the real server child seeds meetings straight into the store and times calendar reads', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'bench-system-test-'));
    dirs.push(dataDir);
    const server = await startChild<{ url: string }>(benchFile('./servers/system.ts'), { env: systemEnv(dataDir) });
    children.push(server);
    const from = Date.UTC(2030, 0, 1);
    const seeded = await server.call<{ count: number }>('seedOthers', {
      count: 20,
      users: 5,
      fromMs: from,
      toMs: Date.UTC(2030, 1, 1),
      prefix: 't',
    });
    expect(seeded.count).toBe(20);
    // The server's reactions append to the seeded meetings' side streams meanwhile, so the head says only "at least".
    expect(await server.call<number>('headPosition')).toBeGreaterThanOrEqual(20);
    for (const pair of [0, 1, 3, 4]) {
      const other = await server.call<{ items: number }>('calendarTiming', {
        userId: `t-instructor-${pair}`,
        from: new Date(from).toISOString(),
        to: '2030-03-01T00:00:00.000Z',
        iterations: 1,
      });
      expect(other.items).toBe(4);
    }
    const timing = await server.call<{ items: number; n: number }>('calendarTiming', {
      userId: 't-customer-2',
      from: new Date(from).toISOString(),
      to: '2030-03-01T00:00:00.000Z',
      iterations: 5,
    });
    expect(timing).toMatchObject({ items: 4, n: 5 });
    const calendar = await jsonRequest(
      `${server.info.url}/calendar?from=2030-01-01T00:00:00Z&to=2030-03-01T00:00:00Z`,
      'GET',
      await token('t-instructor-2', ['instructor']),
    );
    expect(calendar.status).toBe(200);
    expect((calendar.body as { items: unknown[] }).items).toHaveLength(4);
  });

  it('runLoad counts the responses with the expected status', async () => {
    const server = await startChild<{ url: string }>(benchFile('./servers/hello.ts'));
    children.push(server);
    const result = await runLoad({ url: server.info.url, connections: 2, seconds: 1, okStatus: 200 });
    expect(result.ok).toBeGreaterThan(0);
    expect(result.statusCounts['200']).toBe(result.ok);
    expect(result.latency.n).toBe(result.ok);
    const missing = await runLoad({ url: `${server.info.url}/missing`, connections: 1, seconds: 1, okStatus: 200 });
    expect(missing.ok).toBe(0);
    expect(missing.statusCounts['404']).toBeGreaterThan(0);
  });

  it('a child measures what it spent over a window of load and profiles just that window', async () => {
    const server = await startChild<{ url: string }>(benchFile('./servers/hello.ts'));
    children.push(server);
    const logged: string[] = [];
    const options = { quick: true, smoke: true, profile: true, log: (line: string) => logged.push(line) };
    const measured = await measureLoad(
      options,
      server,
      () => runLoad({ url: server.info.url, connections: 2, seconds: 1, okStatus: 200 }),
      { name: 'hello test' },
    );
    expect(measured.requests).toBe(measured.result.ok);
    expect(measured.requests).toBeGreaterThan(0);
    expect(measured.server.cpuUs).toBeGreaterThan(0);
    expect(measured.server.wallMs).toBeGreaterThan(0);
    expect(measured.cpuUsPerRequest).toBeCloseTo(measured.server.cpuUs / measured.requests, 6);
    expect(measured.generator.cpuUs).toBeGreaterThan(0);
    const file = measured.profileFile ?? '';
    if (file !== '') dirs.push(dirname(file));
    expect(file).toMatch(/hello-test\.cpuprofile$/);
    expect(existsSync(file)).toBe(true);
    const summary = summarizeProfileFile(file);
    expect(summary.busyMs + summary.idleMs).toBeGreaterThan(0);
    expect(logged.join('\n')).toMatch(/server main-thread profile over the window of hello test/);
    await expect(server.call('profileStop', { dir: tmpdir(), name: 'x' })).rejects.toThrow(/no profile is running/);
    expect(measured.quietBefore.quiet).toBe(true);
    expect(await server.call('quiet', { timeoutMs: 0 })).toMatchObject({ quiet: false });
  });

  it('the bare node:http anchor answers what the Hono one does', async () => {
    const [node, hono] = await Promise.all([
      startChild<{ url: string }>(benchFile('./servers/node-http.ts')),
      startChild<{ url: string }>(benchFile('./servers/hello.ts')),
    ]);
    children.push(node, hono);
    const [a, b] = await Promise.all([fetch(node.info.url), fetch(hono.info.url)]);
    expect(a.status).toBe(200);
    expect(await a.text()).toBe(await b.text());
    expect(a.headers.get('content-type')).toBe(b.headers.get('content-type'));
  });

  it('the bare node:http anchor answers as many bytes as BENCH_BODY_BYTES asks, as JSON', async () => {
    const [sized, silly] = await Promise.all([
      startChild<{ url: string }>(benchFile('./servers/node-http.ts'), { env: { BENCH_BODY_BYTES: '417893' } }),
      startChild<{ url: string }>(benchFile('./servers/node-http.ts'), { env: { BENCH_BODY_BYTES: '-3' } }),
    ]);
    children.push(sized, silly);
    const [a, b] = await Promise.all([fetch(sized.info.url), fetch(silly.info.url)]);
    expect(a.headers.get('content-type')).toBe('application/json');
    const body = new Uint8Array(await a.arrayBuffer());
    expect(body.byteLength).toBe(417893);
    expect(typeof JSON.parse(new TextDecoder().decode(body))).toBe('string');
    // A value out of bounds is the hello-world again.
    expect(await b.text()).toBe('Hello Hono!');
  });

  it('the client process times GETs one after the other and says how many bytes came back', async () => {
    const [server, client] = await Promise.all([
      startChild<{ url: string }>(benchFile('./servers/hello.ts')),
      startChild<{ pid: number }>(benchFile('./servers/client.ts')),
    ]);
    children.push(server, client);
    expect(client.info.pid).not.toBe(process.pid);
    const timed = await client.call<{ summary: { n: number }; bytes: number }>('timeGets', {
      url: server.info.url,
      path: '/',
      headers: {},
      iterations: 7,
      warmup: 0,
    });
    expect(timed).toMatchObject({ summary: { n: 7 }, bytes: 'Hello Hono!'.length });
    await expect(
      client.call('timeGets', { url: server.info.url, path: '/missing', headers: {}, iterations: 1, warmup: 0 }),
    ).rejects.toThrow(/404/);
  });
});

const run = promisify(execFile);

interface ResultsFile {
  readonly metrics: ReadonlyArray<{
    id: string;
    value: number | null;
    target?: { op: string; limit: number; reference?: { id: string } };
  }>;
  readonly failures: ReadonlyArray<string>;
}

describe('bench smoke run', () => {
  it('prints every figure, the ones issue 13 added among them, with numbers, and keeps the ids compared across rounds', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'apps/bench.ts', '--smoke', '--only=http,booking,series'],
      { maxBuffer: 16 * 1024 * 1024, timeout: 900_000 },
    );
    const path = /^results: (.+)$/m.exec(stdout)?.[1] ?? '';
    dirs.push(path);
    const results = JSON.parse(readFileSync(path, 'utf8')) as ResultsFile;
    expect(results.failures).toEqual([]);
    const byId = new Map(results.metrics.map((m) => [m.id, m]));
    const numeric = (id: string) => {
      expect(byId.has(id), id).toBe(true);
      const value = byId.get(id)?.value;
      expect(typeof value === 'number' && Number.isFinite(value), `${id} = ${value}`).toBe(true);
      return value as number;
    };
    const kept = ['core.append_rate', 'core.schedule_rate', 'core.calendar_rate', 'core.hello_rate'];
    const keptYear = ['series.calendar_year_readmodel_p99', 'series.calendar_year_http_p99'];
    const added = [
      'core.node_http_rate',
      'core.one_trainer_rate',
      'core.hello_generator_cpu_share',
      'core.hello_server_cpu_share',
      'series.calendar_year_client_p99',
      'series.calendar_year_client_bare_p99',
      ...['core.schedule', 'core.one_trainer', 'core.calendar', 'core.hello', 'core.node_http']
        .concat(['booking.baseline', 'booking.schedules', 'series.calendar_year_client'])
        .flatMap((id) => [`${id}_cpu_us`, `${id}_busy_us`]),
    ];
    for (const id of [...kept, ...keptYear, ...added]) numeric(id);
    for (const id of ['core.node_http_rate', 'core.one_trainer_rate', 'core.hello_rate', 'core.schedule_cpu_us'])
      expect(numeric(id)).toBeGreaterThan(0);
    expect(byId.get('core.schedule_rate')?.target).toMatchObject({
      op: '>=',
      limit: 1,
      reference: { id: 'core.append_rate' },
    });
    expect(byId.get('core.schedule_p99')?.target).toMatchObject({ op: '<', limit: 20 });
    expect(byId.get('core.calendar_rate')?.target).toMatchObject({ limit: 0.5, reference: { id: 'core.hello_rate' } });
    expect(byId.get('core.one_trainer_rate')?.target).toMatchObject({
      limit: 0.6,
      reference: { id: 'core.schedule_rate' },
    });
    expect(byId.get('series.calendar_year_client_p99')?.target).toMatchObject({ op: '<', limit: 3 });
    expect(stdout).toMatch(/load generator \(the bench process\) used [\d.]+ of a core and the server [\d.]+/);
  }, 900_000);
});
