/** Summary statistics over latency samples (milliseconds), nearest-rank percentiles. */
export interface Summary {
  readonly n: number;
  readonly mean: number;
  readonly min: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

export const summarize = (samples: ArrayLike<number>): Summary => {
  const n = samples.length;
  if (n === 0)
    return {
      n: 0,
      mean: Number.NaN,
      min: Number.NaN,
      p50: Number.NaN,
      p90: Number.NaN,
      p99: Number.NaN,
      max: Number.NaN,
    };
  const sorted = Float64Array.from(samples).sort();
  let total = 0;
  for (const value of sorted) total += value;
  const rank = (p: number): number => sorted[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))] as number;
  return {
    n,
    mean: total / n,
    min: sorted[0] as number,
    p50: rank(50),
    p90: rank(90),
    p99: rank(99),
    max: sorted[n - 1] as number,
  };
};

/** Times `fn` `iterations` times after `warmup` untimed calls; returns per-call milliseconds. */
export const timeSync = (fn: () => unknown, iterations: number, warmup = Math.min(50, iterations)): Float64Array => {
  for (let i = 0; i < warmup; i++) fn();
  const samples = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const started = performance.now();
    fn();
    samples[i] = performance.now() - started;
  }
  return samples;
};

/** A growable sample buffer that does not allocate per sample. */
export class Samples {
  private buffer = new Float64Array(1024);
  private count = 0;

  push(value: number): void {
    if (this.count === this.buffer.length) {
      const bigger = new Float64Array(this.buffer.length * 2);
      bigger.set(this.buffer);
      this.buffer = bigger;
    }
    this.buffer[this.count++] = value;
  }

  get length(): number {
    return this.count;
  }

  values(): Float64Array {
    return this.buffer.subarray(0, this.count);
  }
}

export const round = (value: number, digits = 2): number => {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
