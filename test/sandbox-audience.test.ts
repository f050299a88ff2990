import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { X_ID } from '../src/platforms/x.js';
import { sandboxFollowerId, sandboxLikerId, seededFollowerCount, seededLikeCount } from '../src/platforms/sandbox-audience.js';

describe("a sandbox user's seeded followers and likers", () => {
  it('are the same in every run, each one a sandbox user id, none twice in one audience', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 2n ** 63n }).map(String), fc.integer({ min: 1, max: 2000 }), (owner, size) => {
        expect(seededFollowerCount(owner)).toBe(seededFollowerCount(owner));
        expect(seededFollowerCount(owner)).toBeLessThan(60);
        expect(seededLikeCount(owner)).toBeLessThan(30);
        for (const idOf of [sandboxFollowerId, sandboxLikerId]) {
          const ids = Array.from({ length: size }, (_, rank) => idOf(owner, rank));
          expect(new Set(ids).size).toBe(size);
          expect(ids.every((id) => X_ID.test(id))).toBe(true);
          expect(idOf(owner, size - 1)).toBe(ids.at(-1));
        }
      }),
      { numRuns: 50 },
    );
  });
});
