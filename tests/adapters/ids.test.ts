import { validate, version } from 'uuid';
import { describe, expect, it } from 'vitest';
import { createIdSource, newId } from '../../adapters/ids.ts';

/** The 48-bit Unix milliseconds at the start of a UUIDv7. */
const millisOf = (id: string): number => Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16);
/** The 32-bit counter after the time (version and variant bits taken out), as uuid's v7 lays it out. */
const counterOf = (id: string): number => {
  const hex = id.replaceAll('-', '');
  const bytes = Array.from({ length: 6 }, (_, i) => Number.parseInt(hex.slice(12 + 2 * i, 14 + 2 * i), 16));
  const [b6, b7, b8, b9, b10] = bytes as [number, number, number, number, number];
  return ((b6 & 0x0f) * 2 ** 28 + b7 * 2 ** 20 + (b8 & 0x3f) * 2 ** 14 + b9 * 2 ** 6 + (b10 >> 2)) >>> 0;
};

describe('id source', () => {
  it('makes RFC 9562 version-7 ids carrying the clock', () => {
    const ids = createIdSource(() => Date.UTC(2030, 2, 31, 1, 30));
    for (let i = 0; i < 50; i++) {
      const id = ids();
      expect(validate(id)).toBe(true);
      expect(version(id)).toBe(7);
      expect(millisOf(id)).toBe(Date.UTC(2030, 2, 31, 1, 30));
    }
    expect(version(newId())).toBe(7);
  });

  it('keeps ids in the order they were made, within a millisecond and across many draws of randomness', () => {
    const ids = createIdSource();
    // 100,000 ids: about 390 draws of the random pool, and many ids per millisecond.
    const made = Array.from({ length: 100_000 }, () => ids());
    expect(new Set(made).size).toBe(made.length);
    for (let i = 1; i < made.length; i++) {
      if (made[i]! <= made[i - 1]!) expect.fail(`id ${i} (${made[i]}) is not after ${made[i - 1]}`);
    }
  });

  it('counts up within a stuck or backward clock, and starts the counter at random in each new millisecond', () => {
    let clock = Date.UTC(2030, 9, 27, 0, 59);
    const ids = createIdSource(() => clock);
    const first = ids();
    const second = ids();
    expect(counterOf(second)).toBe(counterOf(first) + 1);
    clock -= 5_000;
    const afterBackward = ids();
    expect(afterBackward > second).toBe(true);
    expect(millisOf(afterBackward)).toBe(millisOf(first));
    expect(counterOf(afterBackward)).toBe(counterOf(first) + 2);
    // New milliseconds: the counter is drawn again (31 random bits), not carried on.
    const counters = new Set<number>();
    for (let i = 0; i < 20; i++) {
      clock += 6_000;
      const id = ids();
      expect(millisOf(id)).toBe(clock);
      expect(counterOf(id)).toBeLessThan(2 ** 31);
      counters.add(counterOf(id));
    }
    expect(counters.size).toBeGreaterThan(15);
  });

  it('gives two sources different ids in the same millisecond', () => {
    const at = () => Date.UTC(2030, 0, 1);
    const a = createIdSource(at);
    const b = createIdSource(at);
    const fromA = new Set(Array.from({ length: 1000 }, () => a()));
    const fromB = Array.from({ length: 1000 }, () => b());
    expect(fromB.filter((id) => fromA.has(id))).toEqual([]);
  });
});
