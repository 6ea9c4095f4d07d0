/** Tokens refilled per second, and how many a key may spend at once. */
export interface RateLimit {
  readonly perSecond: number;
  readonly burst: number;
}

interface Bucket {
  tokens: number;
  updated: number;
}

/**
 * Token bucket per key. Returns 0 when the request may go ahead, else the milliseconds until a token is free.
 * The map is bounded: idle buckets are full anyway, so they are forgotten first.
 */
export const createRateLimiter = (
  options: RateLimit & { readonly maxKeys?: number },
  now: () => number = () => performance.now(),
) => {
  const buckets = new Map<string, Bucket>();
  const maxKeys = options.maxKeys ?? 100_000;
  return (key: string, cost = 1): number => {
    const time = now();
    let bucket = buckets.get(key);
    if (bucket === undefined) {
      if (buckets.size >= maxKeys) {
        for (const [k, b] of buckets) {
          if (b.tokens + ((time - b.updated) / 1000) * options.perSecond >= options.burst) buckets.delete(k);
          if (buckets.size < maxKeys * 0.9) break;
        }
        if (buckets.size >= maxKeys) buckets.delete(buckets.keys().next().value as string);
      }
      bucket = { tokens: options.burst, updated: time };
      buckets.set(key, bucket);
    } else {
      bucket.tokens = Math.min(options.burst, bucket.tokens + ((time - bucket.updated) / 1000) * options.perSecond);
      bucket.updated = time;
    }
    const needed = Math.min(cost, options.burst);
    if (bucket.tokens >= needed) {
      bucket.tokens -= needed;
      return 0;
    }
    return ((needed - bucket.tokens) / options.perSecond) * 1000;
  };
};
