import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sandboxPersonOf } from '../src/platforms/sandbox-people.js';

describe('the default person behind a sandbox id', () => {
  it('is the same person for the same id, with a first and last name and a bio', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 2n ** 63n }), (id) => {
        const person = sandboxPersonOf(String(id));
        expect(person).toEqual(sandboxPersonOf(String(id)));
        expect(person.displayName).toMatch(/^\p{L}+ \p{L}+$/u);
        expect(person.bio.length).toBeGreaterThan(10);
      }),
    );
  });

  it('differs between neighbouring ids, so a list of leads reads as many people', () => {
    const names = new Set(Array.from({ length: 1000 }, (_, i) => sandboxPersonOf(String(7000 + i)).displayName));
    expect(names.size).toBeGreaterThan(600);
  });
});
