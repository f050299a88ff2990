import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/random.js';

const draws = (random: { next(): number }, count: number) => Array.from({ length: count }, () => random.next());

describe('seededRandom', () => {
  it('repeats the same sequence for the same seed and differs for another', () => {
    expect(draws(seededRandom(42), 20)).toEqual(draws(seededRandom(42), 20));
    expect(draws(seededRandom(42), 20)).not.toEqual(draws(seededRandom(43), 20));
    expect(draws(seededRandom('42'), 20)).not.toEqual(draws(seededRandom(42), 20));
  });

  it('keeps its numbers fixed across versions (simulations replay byte for byte)', () => {
    expect(draws(seededRandom(1), 3).map((x) => x.toFixed(12))).toEqual(['0.229691545945', '0.622282044264', '0.145747563569']);
  });

  it('draws next() in [0, 1) and int(n) in [0, n)', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 1, max: 1_000_000 }), (seed, n) => {
        const random = seededRandom(seed);
        return Array.from({ length: 50 }, () => {
          const [x, k] = [random.next(), random.int(n)];
          return x >= 0 && x < 1 && Number.isInteger(k) && k >= 0 && k < n;
        }).every(Boolean);
      }),
      { numRuns: 100 },
    );
  });

  it('spreads int(n) evenly', () => {
    const random = seededRandom('uniformity');
    const counts = new Array<number>(10).fill(0);
    const total = 100_000;
    for (let i = 0; i < total; i++) counts[random.int(10)]!++;
    // chi-square with 9 degrees of freedom: 27.9 is the 0.1% critical value
    const chiSquare = counts.reduce((sum, count) => sum + (count - total / 10) ** 2 / (total / 10), 0);
    expect(chiSquare).toBeLessThan(27.9);
  });

  it.each([0, -1, 2.5, Number.NaN])('rejects int(%s)', (n) => {
    expect(() => seededRandom(1).int(n)).toThrow(RangeError);
  });

  it('derives a stream per key that does not depend on earlier draws', () => {
    const fresh = seededRandom(7);
    const used = seededRandom(7);
    draws(used, 100);
    expect(draws(used.derive('lead1:step1'), 10)).toEqual(draws(fresh.derive('lead1:step1'), 10));
    expect(draws(fresh.derive('lead1:step1'), 10)).not.toEqual(draws(fresh.derive('lead1:step2'), 10));
    expect(draws(fresh.derive('lead1:step1'), 10)).not.toEqual(draws(seededRandom(8).derive('lead1:step1'), 10));
    expect(draws(fresh.derive('a').derive('b'), 10)).toEqual(draws(seededRandom(7).derive('a').derive('b'), 10));
    expect(draws(fresh.derive('a:b'), 10)).not.toEqual(draws(fresh.derive('a').derive('b'), 10));
  });

  it('gives unrelated first draws to neighbouring keys', () => {
    const root = seededRandom(0);
    const firsts = Array.from({ length: 1000 }, (_, i) => root.derive(`lead${i}:step1`).int(3));
    for (const option of [0, 1, 2]) {
      const share = firsts.filter((pick) => pick === option).length / firsts.length;
      expect(share).toBeGreaterThan(0.28);
      expect(share).toBeLessThan(0.39);
    }
  });
});
