import { describe, expect, it } from 'vitest';
import { createRateLimiter } from '../../../adapters/http/rate-limit.ts';

describe('rate limiter', () => {
  it('spends tokens by cost and says how long until enough are back', () => {
    let now = 0;
    const limit = createRateLimiter({ perSecond: 10, burst: 40 }, () => now);
    expect(limit('ivan', 20)).toBe(0);
    expect(limit('ivan', 20)).toBe(0);
    expect(limit('ivan', 20)).toBe(2000);
    expect(limit('cora')).toBe(0);
    now = 2000;
    expect(limit('ivan', 20)).toBe(0);
    expect(limit('ivan')).toBe(100);
  });

  it('keeps its map bounded', () => {
    let now = 0;
    const limit = createRateLimiter({ perSecond: 1, burst: 1, maxKeys: 100 }, () => now);
    for (let i = 0; i < 1000; i++) limit(`user-${i}`);
    now = 10_000;
    // A key forgotten as idle starts again with a full bucket.
    expect(limit('user-0')).toBe(0);
  });
});
