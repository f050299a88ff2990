import { describe, expect, it } from 'vitest';
import { leadMessage, leadVariables } from '../../src/core/lead-message.js';
import type { Segment } from '../../src/core/sequence.js';

const profile = { displayName: 'Ada Lovelace', username: '@ada', bio: null, location: 'London' };

describe('leadVariables', () => {
  it('adds the column values to the built-ins, as text, skipping what is not a scalar', () => {
    expect(leadVariables(profile, { custom_a: 'Acme', custom_b: 42, custom_c: true, custom_d: null, custom_e: { x: 1 } })).toEqual({
      'first-name': 'Ada',
      'last-name': 'Lovelace',
      'display-name': 'Ada Lovelace',
      username: 'ada',
      location: 'London',
      bio: '',
      custom_a: 'Acme',
      custom_b: '42',
      custom_c: 'true',
    });
  });
});

describe('leadMessage', () => {
  const segments: Segment[] = [
    { type: 'variation', options: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'] },
    { type: 'static', text: ' ' },
    { type: 'variable', name: 'first-name', fallback: 'there' },
  ];
  const variables = leadVariables(profile, {});

  it('gives a lead the same text for the same step every time', () => {
    const once = leadMessage('campaign1', 'lead1', 'step1', segments, variables);
    expect(once).toMatch(/^[a-h] Ada$/);
    expect(leadMessage('campaign1', 'lead1', 'step1', segments, variables)).toBe(once);
  });

  it('varies the pick across leads', () => {
    const picks = new Set(Array.from({ length: 40 }, (_, i) => leadMessage('campaign1', `lead${i}`, 'step1', segments, variables)[0]));
    expect(picks.size).toBeGreaterThan(3);
  });
});
