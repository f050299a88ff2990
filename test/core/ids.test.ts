import { expect, it } from 'vitest';
import { newId, withIdGenerator } from '../../src/core/ids.js';

it('makes 24-character ids in the cuid2 shape, without repeats', () => {
  const ids = Array.from({ length: 20_000 }, newId);
  for (const id of ids) expect(id).toMatch(/^[a-z][0-9a-z]{23}$/);
  expect(new Set(ids).size).toBe(ids.length);
});

it('starts with the creation time, so ids made later sort later', () => {
  const before = Date.now();
  const id = newId();
  const made = parseInt(id.slice(0, 8), 36);
  expect(made).toBeGreaterThanOrEqual(before);
  expect(made).toBeLessThanOrEqual(Date.now());
  const aMomentLater = Date.now() + 2;
  while (Date.now() < aMomentLater); // busy-wait 2 ms: the next id gets a later time
  expect(newId() > id).toBe(true);
});

it('sorts ids made one after the other in the order they were made, within a millisecond too', () => {
  const ids = Array.from({ length: 20_000 }, newId);
  const sorted = [...ids].sort();
  expect(sorted).toEqual(ids);
  // and many of them were made in the same millisecond
  expect(ids.some((id, i) => i > 0 && id.slice(0, 8) === ids[i - 1]!.slice(0, 8))).toBe(true);
});

it('draws the rest of the first id of each millisecond uniformly from the whole alphabet', () => {
  const counts = new Map<string, number>();
  let samples = 0;
  for (let last = ''; samples < 400; ) {
    const id = newId();
    if (id.slice(0, 8) === last) continue;
    last = id.slice(0, 8);
    samples += 1;
    for (const c of id.slice(8)) counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  expect(counts.size).toBe(36);
  const expected = (samples * 16) / 36;
  for (const n of counts.values()) expect(Math.abs(n - expected) / expected).toBeLessThan(0.35);
});

it('draws ids from a scoped generator when one is given', async () => {
  let n = 0;
  const ids = await withIdGenerator(() => `seeded${++n}`, async () => [newId(), await Promise.resolve(newId())]);
  expect(ids).toEqual(['seeded1', 'seeded2']);
  expect(newId()).toMatch(/^[a-z][0-9a-z]{23}$/);
});
