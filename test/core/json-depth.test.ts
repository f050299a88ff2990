import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonNestingDepth } from '../../src/core/json-depth.js';

/** The depth by definition, on the parsed value. */
function depthOf(value: unknown): number {
  if (Array.isArray(value)) return 1 + Math.max(0, ...value.map(depthOf));
  if (value && typeof value === 'object') return 1 + Math.max(0, ...Object.values(value).map(depthOf));
  return 0;
}

describe('jsonNestingDepth', () => {
  it('equals the nesting of the parsed value, whatever the strings hold', () => {
    // Strings full of brackets, quotes and backslashes must not count.
    const tricky = fc.string({ unit: fc.constantFrom('[', ']', '{', '}', '"', '\\', 'a', ' ') });
    const json = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, tricky, fc.integer(), fc.constant(null), fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(tricky, tie('value'), { maxKeys: 3 })),
    })).value;
    fc.assert(fc.property(json, (value) => jsonNestingDepth(JSON.stringify(value)) === depthOf(value)), { numRuns: 500 });
  });

  it('counts a 100,000-deep text without recursion', () => {
    expect(jsonNestingDepth('['.repeat(100_000) + ']'.repeat(100_000))).toBe(100_000);
    expect(jsonNestingDepth('{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000))).toBe(10_000);
  });
});
