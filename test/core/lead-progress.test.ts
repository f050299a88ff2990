import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextAction, spreadEvenly, type RankedStep } from '../../src/core/lead-progress.js';

const msg = (rank: number): RankedStep => ({ id: `m${rank}`, rank, type: 'message', data: { segments: [{ type: 'static', text: 'x' }] } });
const wait = (rank: number, seconds: number): RankedStep => ({ id: `d${rank}`, rank, type: 'delay', data: { delaySeconds: seconds, unit: 'minutes' } });
const like = (rank: number): RankedStep => ({ id: `l${rank}`, rank, type: 'likeTweet' });

const at = (iso: string) => new Date(iso);

describe('nextAction', () => {
  const steps = [msg(0), wait(1, 3600), wait(2, 1800), like(3), msg(4)];

  it('starts with the first action, due when the lead is ready', () => {
    expect(nextAction(steps, 0, null, at('2026-01-01T10:00:00Z'))).toEqual({ done: false, step: steps[0], dueAt: at('2026-01-01T10:00:00Z') });
  });

  it('adds every delay before the next action to the last send', () => {
    const next = nextAction(steps, 1, at('2026-01-01T10:00:00Z'), at('2026-01-01T10:00:00Z'));
    expect(next).toEqual({ done: false, step: steps[3], dueAt: at('2026-01-01T11:30:00Z') });
  });

  it('never answers earlier than readyAt', () => {
    const next = nextAction(steps, 1, at('2026-01-01T10:00:00Z'), at('2026-01-02T00:00:00Z'));
    expect(next).toMatchObject({ dueAt: at('2026-01-02T00:00:00Z') });
  });

  it('is done past the last action, even when delays remain', () => {
    expect(nextAction([msg(0), wait(1, 60)], 1, at('2026-01-01T10:00:00Z'), at('2026-01-01T10:00:00Z'))).toEqual({ done: true });
    expect(nextAction(steps, 5, null, at('2026-01-01T10:00:00Z'))).toEqual({ done: true });
  });

  it('follows ranks, not array order', () => {
    expect(nextAction([msg(2), msg(1)], 1, null, at('2026-01-01T00:00:00Z'))).toMatchObject({ step: { rank: 1 } });
  });
});

describe('spreadEvenly', () => {
  it('fills the least loaded account first, ties to the earlier one', () => {
    expect(spreadEvenly([2, 0, 1], 4)).toEqual([1, 1, 2, 0]);
  });

  it('leaves loads at most one apart when they start even', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 200 }), fc.nat(5), (accounts, count, start) => {
        const loads = Array.from({ length: accounts }, () => start);
        for (const index of spreadEvenly(loads, count)) loads[index]! += 1;
        expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(1);
      }),
    );
  });
});
