import type { SequenceStep } from './sequence.js';

/**
 * Where a campaign lead stands in its sequence, and which sender a new lead gets: pure decisions of the engine.
 *
 * A lead keeps `nextRank`, the rank of its first step not yet sent. Delay steps are waited out, not sent: the
 * next action (a message or like step) is due once every delay between it and `nextRank` has passed since the
 * lead's last send. Because this is computed from the rank, not stored per step, a new sequence version applies
 * to a lead in flight from its next unsent rank onward, with the new version's delays.
 */

export type RankedStep = SequenceStep & { id: string; rank: number };
export type ActionStep = Exclude<RankedStep, { type: 'delay' }>;

export type NextAction = { done: true } | { done: false; step: ActionStep; dueAt: Date };

/**
 * The next message or like of a lead at `nextRank`, and when it is due: `lastSentAt` plus the delays before
 * it, or `readyAt` when nothing was sent yet (or no delay precedes it). Done when no action step remains.
 */
export function nextAction(steps: readonly RankedStep[], nextRank: number, lastSentAt: Date | null, readyAt: Date): NextAction {
  let delayMs = 0;
  for (const step of [...steps].sort((a, b) => a.rank - b.rank)) {
    if (step.rank < nextRank) continue;
    if (step.type === 'delay') {
      delayMs += step.data.delaySeconds * 1000;
      continue;
    }
    const afterDelays = lastSentAt ? lastSentAt.getTime() + delayMs : -Infinity;
    return { done: false, step, dueAt: new Date(Math.max(readyAt.getTime(), afterDelays)) };
  }
  return { done: true };
}

/**
 * Spreads `count` new leads over accounts so the loads end as even as possible: each lead goes to the account
 * with the fewest leads, ties to the earlier account. `loads` gives each account's current load, in the
 * campaign's account order. Returns the account index of each new lead.
 */
export function spreadEvenly(loads: readonly number[], count: number): number[] {
  if (loads.length === 0) throw new RangeError('spreadEvenly needs at least one account');
  const current = [...loads];
  const chosen: number[] = [];
  for (let i = 0; i < count; i++) {
    let best = 0;
    for (let j = 1; j < current.length; j++) if (current[j]! < current[best]!) best = j;
    current[best]! += 1;
    chosen.push(best);
  }
  return chosen;
}
