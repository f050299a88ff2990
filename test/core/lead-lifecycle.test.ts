import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  afterTransition,
  FINAL_STATES,
  leadProblems,
  leadTransition,
  ruleTransition,
  type Lead,
  type LeadEvent,
  type RuleEvent,
} from '../../src/core/lead-lifecycle.js';
import type { RankedStep } from '../../src/core/lead-progress.js';

const msg = (rank: number): RankedStep => ({ id: `m${rank}`, rank, type: 'message', data: { segments: [{ type: 'static', text: 'x' }] } });
const wait = (rank: number, seconds: number): RankedStep => ({ id: `d${rank}`, rank, type: 'delay', data: { delaySeconds: seconds, unit: 'minutes' } });
const like = (rank: number): RankedStep => ({ id: `l${rank}`, rank, type: 'likeTweet' });

const START = new Date('2026-03-02T09:00:00Z');
const at = (minutes: number) => new Date(START.getTime() + minutes * 60_000);

/** A lead as the rules insert it: pending, no sender, nothing due. */
const newLead = (): Lead => ({
  state: 'pending',
  account_link_id: null,
  sequence_version: null,
  next_rank: 0,
  next_step_at: null,
  contacted_at: null,
  last_contact_at: null,
  replied_at: null,
  finished_at: null,
  failure_reason: null,
  updated_at: START,
  created_at: START,
});

describe('lead transitions', () => {
  const steps = [msg(0), wait(1, 3600), msg(2)];

  it('a send moves a lead on to its next step, and past the last one completes it', () => {
    const assigned = afterTransition(newLead(), leadTransition(newLead(), { type: 'assigned', accountLinkId: 'a1', sequenceVersion: 1, at: at(0) }));
    expect(assigned).toMatchObject({ state: 'pending', account_link_id: 'a1', next_step_at: START, sequence_version: 1 });
    const first = afterTransition(assigned, leadTransition(assigned, { type: 'sent', at: at(5), rank: 0, sequenceVersion: 1, steps }));
    expect(first).toMatchObject({ state: 'active', contacted_at: at(5), last_contact_at: at(5), next_rank: 1, next_step_at: at(65) });
    const second = afterTransition(first, leadTransition(first, { type: 'sent', at: at(70), rank: 2, sequenceVersion: 1, steps }));
    expect(second).toMatchObject({ state: 'completed', contacted_at: at(5), next_step_at: null, finished_at: at(70) });
  });

  it('a send that went out after the lead stopped records the contact and keeps the state', () => {
    const cancelled = afterTransition(newLead(), leadTransition(newLead(), { type: 'cancelled', at: at(1) }));
    const sent = leadTransition(cancelled, { type: 'sent', at: at(2), rank: 0, sequenceVersion: 1, steps });
    expect(sent).toEqual({ ok: true, set: { contacted_at: at(2), last_contact_at: at(2), next_rank: 1, sequence_version: 1, updated_at: at(2) } });
  });

  it('cancels only a pending or active lead, saying why not', () => {
    const completed = afterTransition(newLead(), leadTransition(newLead(), { type: 'completed', at: at(1) }));
    expect(leadTransition(completed, { type: 'cancelled', at: at(2) })).toEqual({ ok: false, reason: 'is completed: only a pending or active lead can be cancelled' });
  });

  it('counts a reply once, and only after the first contact', () => {
    const contacted = afterTransition(newLead(), leadTransition(newLead(), { type: 'sent', at: at(10), rank: 0, sequenceVersion: 1, steps }));
    expect(leadTransition(contacted, { type: 'replied', at: at(11), messageAt: at(9) }).ok).toBe(false);
    const replied = afterTransition(contacted, leadTransition(contacted, { type: 'replied', at: at(11), messageAt: at(11) }));
    expect(replied).toMatchObject({ state: 'replied', replied_at: at(11), finished_at: at(11), next_step_at: null });
    expect(leadTransition(replied, { type: 'replied', at: at(12), messageAt: at(12) }).ok).toBe(false);
  });

  it('a refused recipient fails a running lead, which still counts as contacted', () => {
    expect(leadTransition(newLead(), { type: 'failed', at: at(3), reason: 'DMs closed' })).toEqual({
      ok: true,
      set: { state: 'failed', next_step_at: null, finished_at: at(3), updated_at: at(3), failure_reason: 'DMs closed', contacted_at: at(3) },
    });
  });

  it('a new sequence version moves a lead in flight to its next unsent rank, or completes it past the end', () => {
    const active = afterTransition(newLead(), leadTransition(newLead(), { type: 'sent', at: at(0), rank: 0, sequenceVersion: 1, steps }));
    expect(leadTransition(active, { type: 'sequenceChanged', version: 2, steps: [msg(0), wait(1, 1800), msg(2)], at: at(1) })).toEqual({
      ok: true,
      set: { sequence_version: 2, next_step_at: at(30) },
    });
    expect(leadTransition(active, { type: 'sequenceChanged', version: 2, steps: [msg(0)], at: at(1) })).toMatchObject({ ok: true, set: { state: 'completed', sequence_version: 2 } });
  });

  it('the rules move a lead only until its first contact', () => {
    expect(ruleTransition(null, false, { type: 'excluded', reason: 'dms_closed' })).toEqual({ ok: true, set: { state: 'excluded', failure_reason: 'dms_closed' } });
    expect(ruleTransition('excluded', false, { type: 'admitted' })).toEqual({ ok: true, set: { state: 'pending', failure_reason: null } });
    expect(ruleTransition('active', true, { type: 'excluded', reason: 'mutual' }).ok).toBe(false);
    expect(ruleTransition('pending', true, { type: 'admitted' }).ok).toBe(false);
  });
});

const stepsArb: fc.Arbitrary<RankedStep[]> = fc
  .array(fc.constantFrom('message', 'delay', 'like'), { minLength: 0, maxLength: 5 })
  .map((kinds) => kinds.map((kind, rank) => (kind === 'message' ? msg(rank) : kind === 'delay' ? wait(rank, 30) : like(rank))));

/** An event without its time (given in order below) or a rule event. */
type Step = { rule: RuleEvent } | { lead: (at: Date) => LeadEvent };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.constant<Step>({ rule: { type: 'admitted' } }),
  fc.constantFrom<Step>({ rule: { type: 'excluded', reason: 'mutual' } }, { rule: { type: 'excluded', reason: 'dms_closed' } }),
  fc.constantFrom('a1', 'a2').map<Step>((accountLinkId) => ({ lead: (at) => ({ type: 'assigned', accountLinkId, sequenceVersion: 1, at }) })),
  fc.constantFrom('a1', 'a2').map<Step>((accountLinkId) => ({ lead: (at) => ({ type: 'accountLost', accountLinkId, sequenceVersion: 2, at }) })),
  fc.constant<Step>({ lead: () => ({ type: 'reserved' }) }),
  fc.integer({ min: 0, max: 120 }).map<Step>((minutes) => ({ lead: (at) => ({ type: 'rescheduled', dueAt: new Date(at.getTime() + minutes * 60_000), sequenceVersion: 1 }) })),
  fc.tuple(fc.integer({ min: 0, max: 5 }), stepsArb).map<Step>(([rank, steps]) => ({ lead: (at) => ({ type: 'sent', at, rank, sequenceVersion: 1, steps }) })),
  fc.constant<Step>({ lead: (at) => ({ type: 'failed', at, reason: 'unreachable' }) }),
  fc.integer({ min: 0, max: 30 }).map<Step>((ago) => ({ lead: (at) => ({ type: 'replied', at, messageAt: new Date(at.getTime() - ago * 60_000) }) })),
  fc.constant<Step>({ lead: (at) => ({ type: 'cancelled', at }) }),
  fc.constant<Step>({ lead: (at) => ({ type: 'completed', at }) }),
  stepsArb.map<Step>((steps) => ({ lead: (at) => ({ type: 'sequenceChanged', version: 3, steps, at }) })),
);

/** Applies the steps one minute apart, calling `check` with the lead before and after each. */
function run(steps: readonly Step[], check: (before: Lead, after: Lead) => void): void {
  let lead = newLead();
  steps.forEach((step, i) => {
    const transition = 'rule' in step ? ruleTransition(lead.state, lead.contacted_at !== null, step.rule) : leadTransition(lead, step.lead(at(i + 1)));
    const after = afterTransition(lead, transition);
    check(lead, after);
    lead = after;
  });
}

describe('lead state machine properties', () => {
  it('no event sequence reaches an invalid state', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 40 }), (steps) => {
        run(steps, (_, after) => expect(leadProblems(after)).toEqual([]));
      }),
      { numRuns: 2000 },
    );
  });

  it('replied and cancelled are final', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 40 }), (steps) => {
        run(steps, (before, after) => {
          if (FINAL_STATES.has(before.state)) expect(after.state).toBe(before.state);
        });
      }),
      { numRuns: 2000 },
    );
  });

  it('every state is reachable', () => {
    const reached = new Set<string>();
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 20 }), (steps) => {
        run(steps, (_, after) => void reached.add(after.state));
      }),
      { numRuns: 2000 },
    );
    expect([...reached].sort()).toEqual(['active', 'cancelled', 'completed', 'excluded', 'failed', 'pending', 'replied']);
  });
});
