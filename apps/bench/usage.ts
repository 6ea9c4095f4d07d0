import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

/**
 * What a process spent over a window, taken from both ends of it: CPU time of the whole process (process.cpuUsage,
 * user + system, every thread: Node 20 has no per-thread figure) and the main thread's busy time (the event loop's
 * utilization: its active time, which also counts time blocked in a synchronous call such as SQLite's fsync).
 */
export interface UsageSnapshot {
  /** process.cpuUsage() user + system, microseconds since the process started. */
  readonly cpuUs: number;
  /** performance.eventLoopUtilization().active, milliseconds. */
  readonly activeMs: number;
  /** performance.now() when taken, milliseconds. */
  readonly atMs: number;
}

export const usageSnapshot = (): UsageSnapshot => {
  const cpu = process.cpuUsage();
  return { cpuUs: cpu.user + cpu.system, activeMs: performance.eventLoopUtilization().active, atMs: performance.now() };
};

export interface WindowUsage {
  readonly wallMs: number;
  /** Whole-process CPU time over the window, microseconds. */
  readonly cpuUs: number;
  /** Main-thread busy time over the window, microseconds. */
  readonly busyUs: number;
  /** CPU time over wall time: 1 is one core kept busy, 2 both of a 2-core machine. */
  readonly cpuShare: number;
  /** Main-thread busy time over wall time (at most 1). */
  readonly busyShare: number;
}

export const usageBetween = (before: UsageSnapshot, after: UsageSnapshot): WindowUsage => {
  const wallMs = after.atMs - before.atMs;
  const cpuUs = after.cpuUs - before.cpuUs;
  const busyUs = (after.activeMs - before.activeMs) * 1000;
  return {
    wallMs,
    cpuUs,
    busyUs,
    cpuShare: wallMs > 0 ? cpuUs / 1000 / wallMs : Number.NaN,
    busyShare: wallMs > 0 ? busyUs / 1000 / wallMs : Number.NaN,
  };
};

/**
 * The main thread's CPU profile over a window the parent chooses (not start-up, which `node --cpu-prof` includes):
 * 'profileStart' opens an inspector session and starts the sampler, 'profileStop' writes the .cpuprofile file.
 */
const profiler = () => {
  let session: Session | undefined;
  return {
    start: async (args: unknown): Promise<void> => {
      if (session !== undefined) throw new Error('a profile is already running');
      const interval = (args as { intervalUs?: number } | undefined)?.intervalUs ?? 250;
      const opened = new Session();
      opened.connect();
      await opened.post('Profiler.enable');
      await opened.post('Profiler.setSamplingInterval', { interval: Math.max(50, Math.min(10_000, interval)) });
      await opened.post('Profiler.start');
      session = opened;
    },
    stop: async (args: unknown): Promise<string> => {
      const opened = session;
      if (opened === undefined) throw new Error('no profile is running');
      session = undefined;
      const { profile } = await opened.post('Profiler.stop');
      opened.disconnect();
      const { dir, name } = args as { dir: string; name: string };
      const file = join(dir, `${name.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 80)}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      return file;
    },
  };
};

export interface Quiet {
  readonly quiet: boolean;
  readonly waitedMs: number;
}

/**
 * Waits until the main thread has been idle (busy at most 10% of each of three 200 ms periods), at most `timeoutMs`:
 * work left over from seeding or a warm-up (reactions catching up with the log) would otherwise fall into the next
 * measured window, and its latency.
 */
export const waitForQuiet = async (timeoutMs = 120_000): Promise<Quiet> => {
  const started = performance.now();
  let quietPeriods = 0;
  while (quietPeriods < 3) {
    if (performance.now() - started >= timeoutMs) return { quiet: false, waitedMs: performance.now() - started };
    const before = performance.eventLoopUtilization();
    await new Promise((resolve) => setTimeout(resolve, 200));
    quietPeriods = performance.eventLoopUtilization(before).utilization <= 0.1 ? quietPeriods + 1 : 0;
  }
  return { quiet: true, waitedMs: performance.now() - started };
};

/** The commands every bench child answers (see serveChild): its usage snapshot, quiet, and a window's profile. */
export const usageHandlers = (): Record<string, (args: unknown) => unknown> => {
  const p = profiler();
  return {
    usage: () => usageSnapshot(),
    quiet: (args) =>
      waitForQuiet(Math.max(0, Math.min(600_000, (args as { timeoutMs?: number } | undefined)?.timeoutMs ?? 120_000))),
    profileStart: p.start,
    profileStop: p.stop,
  };
};
