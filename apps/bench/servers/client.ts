import { failChild, serveChild } from '../child.ts';
import { timeGets } from '../http-timer.ts';

/**
 * A load generator in a process of its own: times GETs one after the other on one keep-alive connection, so that
 * the bench's own garbage collection (its heap holds every figure of the run) is not counted as the server's
 * latency. Answers 'timeGets' with {url, path, headers, iterations, warmup}.
 */
interface TimeGetsArgs {
  readonly url: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly iterations: number;
  readonly warmup: number;
}

const bounded = (n: number, min: number, max: number): number => Math.max(min, Math.min(max, Math.floor(n)));

try {
  serveChild(
    { pid: process.pid },
    {
      timeGets: (args) => {
        const a = args as TimeGetsArgs;
        return timeGets(a.url, a.path, a.headers, bounded(a.iterations, 1, 100_000), bounded(a.warmup, 0, 10_000));
      },
    },
    async () => undefined,
  );
} catch (error) {
  failChild(error);
}
