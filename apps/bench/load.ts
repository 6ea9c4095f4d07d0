import autocannon from 'autocannon';
import { Samples, summarize } from './stats.ts';
import type { Summary } from './stats.ts';

export interface LoadResult {
  readonly seconds: number;
  /** Responses with the expected status. */
  readonly ok: number;
  readonly rate: number;
  /** Latency of responses with the expected status, milliseconds (sub-millisecond resolution). */
  readonly latency: Summary;
  readonly statusCounts: Record<string, number>;
  readonly errors: number;
  readonly timeouts: number;
}

const runOne = (
  options: autocannon.Options,
  onResponse: (status: number, ms: number) => void,
): Promise<autocannon.Result> =>
  new Promise((resolve, reject) => {
    const instance = autocannon(options, (error: unknown, result: autocannon.Result) => {
      if (error !== null && error !== undefined) reject(error instanceof Error ? error : new Error(String(error)));
      else resolve(result);
    });
    instance.on('response', (_client, statusCode, _bytes, responseTime) => onResponse(statusCode, responseTime));
  });

/**
 * Drives `connections` keep-alive connections for `seconds`. With `perConnection`, each connection is its own
 * autocannon instance with its own request builder (so each can carry its own user's token); otherwise one
 * instance sends `requests` on every connection. Latencies are taken from autocannon's per-response timings,
 * not its whole-millisecond histogram.
 */
export const runLoad = async (options: {
  readonly url: string;
  readonly connections: number;
  readonly seconds: number;
  readonly okStatus: number;
  readonly requests?: autocannon.Request[];
  readonly perConnection?: (index: number) => autocannon.Request[];
}): Promise<LoadResult> => {
  const latencies = new Samples();
  const statusCounts: Record<string, number> = {};
  const okPerInstance: number[] = [];
  const onResponse =
    (instance: number) =>
    (status: number, ms: number): void => {
      statusCounts[status] = (statusCounts[status] ?? 0) + 1;
      if (status !== options.okStatus) return;
      latencies.push(ms);
      okPerInstance[instance] = (okPerInstance[instance] ?? 0) + 1;
    };
  // autocannon only notices the end of `duration` at its next sample tick and keeps sending until then; a short
  // interval keeps the run close to the requested length (its reported duration is the true one either way).
  const base = { url: options.url, duration: options.seconds, timeout: 30, sampleInt: 100 };
  const results =
    options.perConnection !== undefined
      ? await Promise.all(
          Array.from({ length: options.connections }, (_, i) =>
            runOne({ ...base, connections: 1, requests: options.perConnection?.(i) ?? [] }, onResponse(i)),
          ),
        )
      : [
          await runOne(
            {
              ...base,
              connections: options.connections,
              ...(options.requests !== undefined ? { requests: options.requests } : {}),
            },
            onResponse(0),
          ),
        ];
  const ok = statusCounts[options.okStatus] ?? 0;
  // Instances run side by side, each for its own measured duration: the total rate is the sum of theirs.
  const rate = results.reduce((sum, r, i) => sum + (okPerInstance[i] ?? 0) / Math.max(r.duration, 1e-3), 0);
  return {
    seconds: Math.max(...results.map((r) => r.duration)),
    ok,
    rate,
    latency: summarize(latencies.values()),
    statusCounts,
    errors: results.reduce((n, r) => n + r.errors, 0),
    timeouts: results.reduce((n, r) => n + r.timeouts, 0),
  };
};
