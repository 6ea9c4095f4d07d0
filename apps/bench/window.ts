import type { ChildServer } from './child.ts';
import type { LoadResult } from './load.ts';
import { renderProfile, summarizeProfileFile } from './profile.ts';
import type { Metric } from './report.ts';
import { round } from './stats.ts';
import { benchTempDir } from './suite.ts';
import type { BenchOptions } from './suite.ts';
import { usageBetween, usageSnapshot } from './usage.ts';
import type { Quiet, WindowUsage } from './usage.ts';

/** A piece of load with what the server child (and this process, the load generator) spent over exactly its window. */
export interface Measured<A> {
  readonly result: A;
  readonly server: WindowUsage;
  /** This process: the load generator when the load runs here. */
  readonly generator: WindowUsage;
  /** Requests the server answered in the window (whatever their status). */
  readonly requests: number;
  /** Server CPU (whole process) and main-thread busy time per request, microseconds; NaN without requests. */
  readonly cpuUsPerRequest: number;
  readonly busyUsPerRequest: number;
  /** With --profile: the .cpuprofile of the server's main thread over the window. */
  readonly profileFile?: string;
  /** How long the server took to fall quiet before the window opened (false: it had not within the time allowed). */
  readonly quietBefore: Quiet;
}

export interface WindowOptions {
  /** With options.profile: the main thread's profile over the window is summarized and printed under this name. */
  readonly name: string;
  /**
   * Ask the server to 'settle' (its read models catch up with the log) before the window closes, so that the
   * projection work the requests caused counts toward them.
   */
  readonly settle?: boolean;
}

const QUIET_TIMEOUT_MS = 120_000;

/**
 * Waits for the server to fall quiet (what seeding or a warm-up left it doing would weigh on the window), then runs
 * `work` between two usage snapshots of `server` (an IPC call each) and of this process; with --profile, the
 * server's main thread is profiled over the same window (the sampler's own cost then inflates the CPU figures).
 */
export const measureWindow = async <A>(
  options: BenchOptions,
  server: ChildServer<unknown>,
  work: () => Promise<A>,
  requestsOf: (result: A) => number,
  window: WindowOptions,
): Promise<Measured<A>> => {
  const quietBefore = await server.call<Quiet>('quiet', { timeoutMs: QUIET_TIMEOUT_MS }, QUIET_TIMEOUT_MS + 30_000);
  if (!quietBefore.quiet)
    options.log(`  ${window.name}: the server was still busy after ${QUIET_TIMEOUT_MS / 1000} s; measuring anyway`);
  else if (quietBefore.waitedMs > 2_000)
    options.log(`  ${window.name}: waited ${(quietBefore.waitedMs / 1000).toFixed(1)} s for the server to fall quiet`);
  const profileDir = options.profile ? benchTempDir('profile') : undefined;
  if (profileDir !== undefined) await server.call('profileStart');
  const serverBefore = await server.call<ReturnType<typeof usageSnapshot>>('usage');
  const generatorBefore = usageSnapshot();
  const result = await work();
  const generatorAfter = usageSnapshot();
  if (window.settle === true) await server.call('settle');
  const serverAfter = await server.call<ReturnType<typeof usageSnapshot>>('usage');
  const profileFile =
    profileDir !== undefined
      ? await server.call<string>('profileStop', { dir: profileDir, name: window.name })
      : undefined;
  if (profileFile !== undefined)
    options.log(
      `  server main-thread profile over the window of ${window.name}:\n${renderProfile(summarizeProfileFile(profileFile))}`,
    );
  const serverUsage = usageBetween(serverBefore, serverAfter);
  const requests = requestsOf(result);
  return {
    result,
    server: serverUsage,
    generator: usageBetween(generatorBefore, generatorAfter),
    requests,
    cpuUsPerRequest: requests > 0 ? serverUsage.cpuUs / requests : Number.NaN,
    busyUsPerRequest: requests > 0 ? serverUsage.busyUs / requests : Number.NaN,
    ...(profileFile !== undefined ? { profileFile } : {}),
    quietBefore,
  };
};

/** Every response autocannon counted, whatever its status. */
export const responsesOf = (load: LoadResult): number =>
  Object.values(load.statusCounts).reduce((sum, n) => sum + n, 0);

export const measureLoad = (
  options: BenchOptions,
  server: ChildServer<unknown>,
  load: () => Promise<LoadResult>,
  window: WindowOptions,
): Promise<Measured<LoadResult>> => measureWindow(options, server, load, responsesOf, window);

export const usageDetails = (m: Measured<unknown>) => ({
  requests: m.requests,
  windowMs: round(m.server.wallMs, 1),
  serverCpuUs: round(m.server.cpuUs, 0),
  serverBusyUs: round(m.server.busyUs, 0),
  serverCpuShare: round(m.server.cpuShare, 3),
  serverMainThreadBusyShare: round(m.server.busyShare, 3),
  generatorCpuShare: round(m.generator.cpuShare, 3),
  quietBefore: m.quietBefore.quiet,
  waitedForQuietMs: round(m.quietBefore.waitedMs, 0),
});

export const describeUsage = (m: Measured<unknown>): string =>
  `server ${m.cpuUsPerRequest.toFixed(0)} µs CPU/request (whole process, ${m.server.cpuShare.toFixed(2)} of a core), ` +
  `main thread busy ${m.busyUsPerRequest.toFixed(0)} µs/request (${(m.server.busyShare * 100).toFixed(0)}% of the window)`;

/**
 * Two rows per HTTP figure: the server's whole-process CPU per request (every thread: Node 20 has no per-thread CPU
 * figure) and its main thread's busy time per request (event-loop utilization, which counts time blocked in fsync).
 */
export const usageMetrics = (
  id: string,
  label: string,
  m: { readonly cpuUsPerRequest: number; readonly busyUsPerRequest: number; readonly details?: object },
): Metric[] => [
  {
    id: `${id}_cpu_us`,
    label: `${label} server CPU/req (whole process)`,
    value: m.cpuUsPerRequest,
    unit: 'µs',
    ...(m.details !== undefined ? { details: { ...m.details } } : {}),
  },
  { id: `${id}_busy_us`, label: `${label} server main thread busy/req`, value: m.busyUsPerRequest, unit: 'µs' },
];
