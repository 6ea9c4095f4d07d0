import { spawnSync } from 'node:child_process';
import { WebSocket } from 'ws';
import { benchFile, startChild } from './child.ts';
import type { ChildServer } from './child.ts';
import type { Metric } from './report.ts';
import { Samples, round, sleep, summarize } from './stats.ts';
import type { Summary } from './stats.ts';
import type { BenchOptions, SuiteResult } from './suite.ts';
import { REDIS_SERVER, startRedisServer } from './redis-server.ts';

type Mode = 'ours' | 'bare';

interface Memory {
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  rss: number;
  gc: boolean;
}

/** Two client sockets the server has paired, and the connectionId their signals must carry. */
interface Pair {
  readonly sockets: [WebSocket, WebSocket];
  readonly connectionId: string;
}

/** Shared between all client sockets of one run: where latencies and surprises go. */
interface Sink {
  latencies: Samples | undefined;
  received: number;
  errors: string[];
}

// A typical trickled ICE candidate as simple-peer emits it.
const CANDIDATE = {
  type: 'candidate',
  candidate: {
    candidate:
      'candidate:842163049 1 udp 1677729535 192.0.2.10 54321 typ srflx raddr 10.0.0.5 rport 54321 generation 0 ufrag Xk3f network-cost 999',
    sdpMLineIndex: 0,
    sdpMid: '0',
  },
};

const fileLimit = (): number | undefined => {
  const out = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' });
  const n = Number(out.stdout.trim());
  return Number.isFinite(n) && n > 0 ? n : out.stdout.trim() === 'unlimited' ? Number.POSITIVE_INFINITY : undefined;
};

const open = (url: string, sink: Sink, onFrame: (frame: Record<string, unknown>) => void): Promise<WebSocket> =>
  new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.on('message', (raw) => {
      const frame = JSON.parse(raw.toString()) as Record<string, unknown>;
      if (frame['type'] === 'signal') {
        const t = (frame['data'] as { t?: number } | undefined)?.t;
        sink.received += 1;
        if (sink.latencies !== undefined && typeof t === 'number') sink.latencies.push(performance.now() - t);
        return;
      }
      if (frame['type'] === 'error') sink.errors.push(String(frame['code']));
      onFrame(frame);
    });
    ws.once('open', () => resolve(ws));
    ws.on('error', (error) => {
      sink.errors.push(error.message);
      reject(error);
    });
    ws.on('close', (code) => {
      if (code !== 1000 && code !== 1005 && code !== 1006 && code !== 1001) sink.errors.push(`closed ${code}`);
    });
  });

/** One server for both sides of every pair, or [instructor's, customer's] (two nodes on one bus). */
type Bases = string | readonly [string, string];

const connectPair = async (
  mode: Mode,
  base: Bases,
  index: number,
  tickets: [string, string] | undefined,
  sink: Sink,
): Promise<Pair> => {
  let resolvePaired!: (connectionId: string) => void;
  let seen = 0;
  const paired = new Promise<string>((resolve) => {
    resolvePaired = resolve;
  });
  const onFrame = (frame: Record<string, unknown>) => {
    if (frame['type'] === 'peer-joined' || frame['type'] === 'paired') {
      seen += 1;
      // The bare relay has no connection ids; one as long as ours keeps the frames the same size.
      if (seen === 2)
        resolvePaired(typeof frame['connectionId'] === 'string' ? frame['connectionId'] : 'bare-relay-00000');
    }
  };
  const baseOf = (side: 0 | 1) => (typeof base === 'string' ? base : base[side]);
  const urlFor = (side: 0 | 1) =>
    mode === 'ours'
      ? `${baseOf(side)}/signaling?ticket=${encodeURIComponent(tickets?.[side] ?? '')}`
      : `${baseOf(side)}/relay?pair=${index}`;
  // Instructor first, then the customer, as in a real call.
  const a = await open(urlFor(0), sink, onFrame);
  const b = await open(urlFor(1), sink, onFrame);
  let timer: NodeJS.Timeout | undefined;
  const connectionId = await Promise.race([
    paired,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`pair ${index} was not paired within 20 s (${sink.errors.slice(-3).join(', ')})`)),
        20_000,
      );
    }),
  ]).finally(() => clearTimeout(timer));
  return { sockets: [a, b], connectionId };
};

const connectAll = async (
  mode: Mode,
  base: Bases,
  from: number,
  count: number,
  tickets: Array<[string, string]>,
  sink: Sink,
): Promise<Pair[]> => {
  const pairs: Pair[] = [];
  const BATCH = 50;
  for (let i = 0; i < count; i += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, count - i) }, (_, j) =>
      connectPair(mode, base, from + i + j, tickets[i + j], sink),
    );
    pairs.push(...(await Promise.all(batch)));
  }
  return pairs;
};

const closeAll = async (pairs: ReadonlyArray<Pair>): Promise<void> => {
  await Promise.all(
    pairs.flatMap((p) =>
      p.sockets.map(
        (ws) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === WebSocket.CLOSED) return resolve();
            ws.once('close', () => resolve());
            ws.terminate();
          }),
      ),
    ),
  );
};

/** Sends `ratePerSecond` signals in total, spread evenly over all sockets, for `seconds`; returns how many were sent. */
const drive = async (pairs: ReadonlyArray<Pair>, ratePerSecond: number, seconds: number): Promise<number> => {
  const senders = pairs.flatMap((p) => [
    { ws: p.sockets[0], connectionId: p.connectionId },
    { ws: p.sockets[1], connectionId: p.connectionId },
  ]);
  let sent = 0;
  let next = 0;
  const started = performance.now();
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const elapsed = performance.now() - started;
      const due = Math.min(Math.floor((elapsed * ratePerSecond) / 1000), Math.floor(seconds * ratePerSecond));
      while (sent < due) {
        const s = senders[next] as (typeof senders)[number];
        next = (next + 1) % senders.length;
        s.ws.send(
          JSON.stringify({
            type: 'signal',
            connectionId: s.connectionId,
            data: { ...CANDIDATE, t: performance.now() },
          }),
        );
        sent += 1;
      }
      if (elapsed >= seconds * 1000) {
        clearInterval(tick);
        resolve();
      }
    }, 5);
  });
  return sent;
};

interface ModeResult {
  readonly latency: Summary;
  readonly sent: number;
  readonly received: number;
  readonly bytesPerSocket: number;
  readonly bytesPerSocketAfterLoad: number;
  readonly rssPerSocket: number;
  readonly connectSeconds: number;
  readonly before: Memory;
  readonly connected: Memory;
  readonly afterLoad: Memory;
  readonly errors: string[];
}

const used = (m: Memory) => m.heapUsed + m.external;

/** One server under test: its process, its client sockets (here) and what they measured. */
interface Side {
  readonly mode: Mode;
  readonly server: ChildServer<{ url: string }>;
  readonly sink: Sink;
  readonly samples: Samples;
  pairs: Pair[];
  sent: number;
  connectSeconds: number;
  before?: Memory;
  connected?: Memory;
}

const prepare = async (mode: Mode, rooms: number): Promise<Side> => {
  const server = await startChild<{ url: string }>(benchFile('./servers/signaling.ts'), {
    args: [mode],
    nodeFlags: ['--expose-gc'],
  });
  const side: Side = {
    mode,
    server,
    sink: { latencies: undefined, received: 0, errors: [] },
    samples: new Samples(),
    pairs: [],
    sent: 0,
    connectSeconds: 0,
  };
  try {
    const warmRooms = 20;
    const tickets = await server.call<Array<[string, string]>>('tickets', { rooms: rooms + warmRooms, offset: 0 });
    // Warm the server's code paths first, so that compiled code is not counted as per-socket memory.
    const warm = await connectAll(mode, server.info.url, rooms, warmRooms, tickets.slice(rooms), side.sink);
    await drive(warm, 2_000, 1);
    await closeAll(warm);
    for (let i = 0; i < 100 && (await server.call<number>('sockets')) > 0; i++) await sleep(50);
    side.before = await server.call<Memory>('memory');
    const connectStarted = performance.now();
    side.pairs = await connectAll(mode, server.info.url, 0, rooms, tickets.slice(0, rooms), side.sink);
    side.connectSeconds = (performance.now() - connectStarted) / 1000;
    const sockets = await server.call<number>('sockets');
    if (sockets !== rooms * 2) throw new Error(`${mode}: server holds ${sockets} sockets, expected ${rooms * 2}`);
    side.connected = await server.call<Memory>('memory');
    return side;
  } catch (error) {
    await release(side);
    throw error;
  }
};

const release = async (side: Side): Promise<void> => {
  await closeAll(side.pairs);
  await side.server.stop();
};

/** One load phase against one side; latencies of signals sent in it are kept. */
const phase = async (side: Side, rate: number, seconds: number, keep: boolean): Promise<void> => {
  side.sink.received = 0;
  side.sink.latencies = keep ? side.samples : undefined;
  const sent = await drive(side.pairs, rate, seconds);
  for (let i = 0; i < 40 && side.sink.received < sent; i++) await sleep(25);
  side.sink.latencies = undefined;
  if (keep) side.sent += sent;
  if (side.sink.received < sent) side.sink.errors.push(`${sent - side.sink.received} signals lost in a phase`);
};

const finish = async (side: Side, rooms: number): Promise<ModeResult> => {
  const afterLoad = await side.server.call<Memory>('memory');
  const before = side.before as Memory;
  const connected = side.connected as Memory;
  const sockets = rooms * 2;
  return {
    latency: summarize(side.samples.values()),
    sent: side.sent,
    received: side.samples.length,
    bytesPerSocket: (used(connected) - used(before)) / sockets,
    bytesPerSocketAfterLoad: (used(afterLoad) - used(before)) / sockets,
    rssPerSocket: (afterLoad.rss - before.rss) / sockets,
    connectSeconds: side.connectSeconds,
    before,
    connected,
    afterLoad,
    errors: [...new Set(side.sink.errors)],
  };
};

/**
 * Both servers run side by side with all their sockets connected; load phases alternate between them, so that
 * other work on the machine falls on both alike.
 */
const runBoth = async (
  rooms: number,
  rate: number,
  phases: number,
  log: (line: string) => void,
): Promise<{ bare: ModeResult; ours: ModeResult }> => {
  const bare = await prepare('bare', rooms);
  let ours: Side | undefined;
  try {
    ours = await prepare('ours', rooms);
    log(
      `  connected ${rooms * 2} sockets to each: bare in ${bare.connectSeconds.toFixed(1)} s, ours in ${ours.connectSeconds.toFixed(1)} s`,
    );
    log(`  relay at ${rate} signals/s, ${phases} alternating 1 s phases per server`);
    await phase(bare, rate, 1, false);
    await phase(ours, rate, 1, false);
    for (let i = 0; i < phases; i++) {
      await phase(i % 2 === 0 ? bare : ours, rate, 1, true);
      await phase(i % 2 === 0 ? ours : bare, rate, 1, true);
    }
    return { bare: await finish(bare, rooms), ours: await finish(ours, rooms) };
  } finally {
    await release(bare);
    if (ours !== undefined) await release(ours);
  }
};

/** Two server processes on one Redis: every room's instructor on A and its customer on B, so every signal crosses. */
const prepareRedis = async (rooms: number, redisUrl: string): Promise<{ side: Side; other: ChildServer<unknown> }> => {
  const start = (node: string) =>
    startChild<{ url: string }>(benchFile('./servers/signaling.ts'), {
      args: ['ours', node],
      env: { SIGNALING_BENCH_REDIS_URL: redisUrl },
    });
  const a = await start('bench-a');
  const b = await start('bench-b').catch(async (error: unknown) => {
    await a.stop();
    throw error;
  });
  const side: Side = {
    mode: 'ours',
    server: a,
    sink: { latencies: undefined, received: 0, errors: [] },
    samples: new Samples(),
    pairs: [],
    sent: 0,
    connectSeconds: 0,
  };
  try {
    for (let i = 0; i < 200; i++) {
      const states = await Promise.all([a, b].map((s) => s.call<{ status: string }>('bus')));
      if (states.every((state) => state.status === 'ok')) break;
      await sleep(50);
    }
    const [fromA, fromB] = await Promise.all(
      [a, b].map((s) => s.call<Array<[string, string]>>('tickets', { rooms, offset: 0 })),
    );
    const tickets = (fromA ?? []).map(([instructor], i): [string, string] => [instructor, fromB?.[i]?.[1] ?? '']);
    const connectStarted = performance.now();
    side.pairs = await connectAll('ours', [a.info.url, b.info.url], 0, rooms, tickets, side.sink);
    side.connectSeconds = (performance.now() - connectStarted) / 1000;
    return { side, other: b };
  } catch (error) {
    await closeAll(side.pairs);
    await Promise.all([a.stop(), b.stop()]);
    throw error;
  }
};

/**
 * Relay latency over Redis (two nodes) against the in-process bus (one node), in alternating phases of one run.
 * Undefined when redis-server is missing.
 */
const runRedisComparison = async (
  options: BenchOptions,
): Promise<{ inProcess: Summary; redis: Summary; sent: [number, number]; errors: string[] } | undefined> => {
  if (REDIS_SERVER === undefined) return undefined;
  const rooms = options.quick ? 50 : 200;
  const rate = 2_000;
  const phases = options.quick ? 2 : 6;
  const redisServer = await startRedisServer();
  try {
    const inProcess = await prepare('ours', rooms);
    let redis: { side: Side; other: ChildServer<unknown> } | undefined;
    try {
      redis = await prepareRedis(rooms, redisServer.url);
      options.log(
        `  over Redis: ${rooms} rooms with the instructor on node A and the customer on node B, against ${rooms} rooms on one node (in-process bus); ${rate} signals/s, ${phases} alternating 1 s phases each`,
      );
      await phase(inProcess, rate, 1, false);
      await phase(redis.side, rate, 1, false);
      for (let i = 0; i < phases; i++) {
        await phase(i % 2 === 0 ? inProcess : redis.side, rate, 1, true);
        await phase(i % 2 === 0 ? redis.side : inProcess, rate, 1, true);
      }
      return {
        inProcess: summarize(inProcess.samples.values()),
        redis: summarize(redis.side.samples.values()),
        sent: [inProcess.sent, redis.side.sent],
        errors: [...new Set([...inProcess.sink.errors, ...redis.side.sink.errors])],
      };
    } finally {
      await release(inProcess);
      if (redis !== undefined) {
        await release(redis.side);
        await redis.other.stop();
      }
    }
  } finally {
    await redisServer.stop();
  }
};

/** The figures of the Redis comparison: both p99s, their ratio, and the p99 Redis adds (the judged one). */
const redisMetrics = (
  result: Awaited<ReturnType<typeof runRedisComparison>>,
  log: (line: string) => void,
  notes: string[],
): Metric[] => {
  if (result === undefined) {
    const line = 'signaling over Redis: skipped, redis-server is missing (bash .ci/ensure-redis)';
    log(`  ${line}`);
    notes.push(line);
    return [];
  }
  const { inProcess, redis } = result;
  const ratio = redis.p99 / inProcess.p99;
  log(
    `  in-process bus: relay p50 ${inProcess.p50.toFixed(3)} ms, p99 ${inProcess.p99.toFixed(3)} ms; over Redis: p50 ${redis.p50.toFixed(3)} ms, p99 ${redis.p99.toFixed(3)} ms; p99 ratio ${ratio.toFixed(2)}x, +${(redis.p99 - inProcess.p99).toFixed(3)} ms` +
      (result.errors.length > 0 ? `; errors: ${result.errors.join(', ')}` : ''),
  );
  if (result.errors.length > 0) notes.push(`signaling over Redis: errors ${result.errors.join(', ')}`);
  const samples = (s: Summary) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, round(v, 4)]));
  return [
    {
      id: 'signaling.inprocess_p99',
      label: 'C relay p99, in-process bus (one node)',
      value: inProcess.p99,
      unit: 'ms',
    },
    {
      id: 'signaling.redis_p99',
      label: 'C relay p99 over Redis (two nodes)',
      value: redis.p99,
      unit: 'ms',
      details: { latencyMs: samples(redis), inProcessLatencyMs: samples(inProcess), sent: result.sent },
    },
    { id: 'signaling.redis_p99_ratio', label: 'C   Redis / in-process relay p99', value: ratio, unit: 'x' },
    {
      id: 'signaling.redis_added_p99',
      label: 'C   relay p99 added by Redis',
      value: redis.p99 - inProcess.p99,
      unit: 'ms',
      target: { op: '<=', limit: 2, text: '<= 2 ms added' },
    },
  ];
};

export const runSignaling = async (options: BenchOptions): Promise<SuiteResult> => {
  const { log } = options;
  const notes: string[] = [];
  const metrics: Metric[] = [];
  let rooms = 1000;
  const limit = fileLimit();
  // Client and server live in different processes, each holding one end of every socket.
  if (limit !== undefined && limit < rooms * 2 + 200) {
    rooms = Math.max(10, Math.floor((limit - 200) / 2));
    notes.push(`signaling: ulimit -n is ${limit}, so only ${rooms} rooms were opened (raise it for 1,000)`);
  }
  const rate = 4_000;
  const seconds = options.quick ? 2 : 8;
  log(
    `signaling: ${rooms} rooms (${rooms * 2} sockets) on each of two servers (bare ws relay, ours), each in its own process, clients here (ulimit -n ${limit ?? 'unknown'})`,
  );
  const { bare, ours } = await runBoth(rooms, rate, seconds, log);
  for (const [mode, r] of [
    ['bare', bare],
    ['ours', ours],
  ] as const) {
    log(
      `  ${mode}: relay p50 ${r.latency.p50.toFixed(3)} ms, p99 ${r.latency.p99.toFixed(3)} ms (${r.received}/${r.sent} received); ` +
        `memory ${(r.bytesPerSocket / 1024).toFixed(1)} KiB/socket connected, ${(r.bytesPerSocketAfterLoad / 1024).toFixed(1)} KiB after traffic, ` +
        `rss ${(r.rssPerSocket / 1024).toFixed(1)} KiB/socket` +
        (r.errors.length > 0 ? `; errors: ${r.errors.join(', ')}` : ''),
    );
    if (r.received < r.sent) notes.push(`signaling ${mode}: ${r.sent - r.received} of ${r.sent} signals not received`);
    if (r.errors.length > 0) notes.push(`signaling ${mode}: errors ${r.errors.join(', ')}`);
    if (!r.before.gc) notes.push(`signaling ${mode}: no global.gc, memory figures are noisier`);
  }
  const detail = (r: ModeResult) => ({
    sent: r.sent,
    received: r.received,
    connectSeconds: round(r.connectSeconds, 2),
    latencyMs: Object.fromEntries(Object.entries(r.latency).map(([k, v]) => [k, round(v, 4)])),
    bytesPerSocket: Math.round(r.bytesPerSocket),
    bytesPerSocketAfterLoad: Math.round(r.bytesPerSocketAfterLoad),
    rssBytesPerSocket: Math.round(r.rssPerSocket),
    memory: { before: r.before, connected: r.connected, afterLoad: r.afterLoad },
  });
  const bareP99: Metric = {
    id: 'signaling.bare_p99',
    label: 'C bare ws relay p99',
    value: bare.latency.p99,
    unit: 'ms',
    details: detail(bare),
  };
  // The figure judged is the larger of the two: right after connecting, and after the traffic has run.
  const oursKiB = Math.max(ours.bytesPerSocket, ours.bytesPerSocketAfterLoad) / 1024;
  metrics.push(
    { id: 'signaling.bare_p50', label: 'C bare ws relay p50', value: bare.latency.p50, unit: 'ms' },
    bareP99,
    {
      id: 'signaling.ours_p50',
      label: 'C our signaling relay p50',
      value: ours.latency.p50,
      unit: 'ms',
      details: detail(ours),
    },
    {
      id: 'signaling.ours_p99',
      label: 'C our signaling relay p99',
      value: ours.latency.p99,
      unit: 'ms',
      target: { op: '<=', limit: 2, reference: { id: bareP99.id, value: bareP99.value }, text: '<= 2x bare p99' },
    },
    {
      id: 'signaling.ours_kib_per_socket',
      label: 'C our server memory per socket (heap+external)',
      value: oursKiB,
      unit: 'KiB',
      target: { op: '<', limit: 30, text: '< 30 KiB' },
    },
    {
      id: 'signaling.bare_kib_per_socket',
      label: 'C bare relay memory per socket',
      value: Math.max(bare.bytesPerSocket, bare.bytesPerSocketAfterLoad) / 1024,
      unit: 'KiB',
    },
    {
      id: 'signaling.ours_rss_kib_per_socket',
      label: 'C   our server RSS growth per socket',
      value: ours.rssPerSocket / 1024,
      unit: 'KiB',
    },
    {
      id: 'signaling.bare_rss_kib_per_socket',
      label: 'C   bare relay RSS growth per socket',
      value: bare.rssPerSocket / 1024,
      unit: 'KiB',
    },
  );
  log('signaling over Redis:');
  metrics.push(...redisMetrics(await runRedisComparison(options), log, notes));
  notes.push(
    `signaling: ${rooms} rooms, ${rate} signals/s in total (${(rate / (rooms * 2)).toFixed(1)}/s per socket) in ${seconds} measured 1 s phases per server, ~${JSON.stringify({ type: 'signal', connectionId: 'x'.repeat(16), data: { ...CANDIDATE, t: 0 } }).length} bytes each`,
  );
  return { metrics, notes };
};
