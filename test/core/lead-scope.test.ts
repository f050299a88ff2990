import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideScope, exclusionOf, type CandidateFacts, type ScopeRules } from '../../src/core/lead-scope.js';
import type { LeadState } from '../../src/store/schema-campaigns.js';

const fresh: CandidateFacts = {
  syncedLists: 1,
  excludedLists: 0,
  direct: false,
  contactedByTeam: false,
  mutual: false,
  contactedByCampaign: false,
  state: null,
  profile: { accountStatus: 'active', dmsOpen: true },
};
const noFlags: ScopeRules = { excludeContacted: false, excludeMutuals: false };
const allFlags: ScopeRules = { excludeContacted: true, excludeMutuals: true };

const STATES: LeadState[] = ['pending', 'active', 'replied', 'completed', 'cancelled', 'failed', 'excluded'];

const facts = fc.record<CandidateFacts>({
  syncedLists: fc.nat(3),
  excludedLists: fc.nat(2),
  direct: fc.boolean(),
  contactedByTeam: fc.boolean(),
  mutual: fc.boolean(),
  contactedByCampaign: fc.boolean(),
  state: fc.option(fc.constantFrom(...STATES), { nil: null }),
  profile: fc.option(
    fc.record({ accountStatus: fc.constantFrom('active' as const, 'suspended' as const, 'deactivated' as const), dmsOpen: fc.boolean() }),
    { nil: null },
  ),
});
const rules = fc.record<ScopeRules>({ excludeContacted: fc.boolean(), excludeMutuals: fc.boolean() });

describe('decideScope', () => {
  it('lets a reachable lead of a synced list in as pending', () => {
    expect(decideScope(fresh, noFlags)).toEqual({ kind: 'pending' });
    expect(decideScope({ ...fresh, syncedLists: 0, direct: true }, noFlags)).toEqual({ kind: 'pending' });
  });

  it('excludes with the first reason: excluded list, contacted, mutual, then the profile', () => {
    const all = { ...fresh, excludedLists: 1, contactedByTeam: true, mutual: true, profile: null };
    expect(decideScope(all, allFlags)).toEqual({ kind: 'excluded', reason: 'excluded_list' });
    expect(decideScope({ ...all, excludedLists: 0 }, allFlags)).toEqual({ kind: 'excluded', reason: 'contacted' });
    expect(decideScope({ ...all, excludedLists: 0 }, { excludeContacted: false, excludeMutuals: true })).toEqual({ kind: 'excluded', reason: 'mutual' });
    expect(decideScope({ ...all, excludedLists: 0 }, noFlags)).toEqual({ kind: 'excluded', reason: 'not_found' });
  });

  it('keeps unreachable profiles out with their state as the reason', () => {
    expect(exclusionOf({ ...fresh, profile: { accountStatus: 'suspended', dmsOpen: true } }, noFlags)).toBe('suspended');
    expect(exclusionOf({ ...fresh, profile: { accountStatus: 'deactivated', dmsOpen: true } }, noFlags)).toBe('deactivated');
    expect(exclusionOf({ ...fresh, profile: { accountStatus: 'active', dmsOpen: false } }, noFlags)).toBe('dms_closed');
  });

  it('ignores contacted and mutual leads unless the flags are on', () => {
    expect(decideScope({ ...fresh, contactedByTeam: true, mutual: true }, noFlags)).toEqual({ kind: 'pending' });
  });

  it('lets an excluded lead back in when the reason goes away', () => {
    expect(decideScope({ ...fresh, state: 'excluded' }, noFlags)).toEqual({ kind: 'pending' });
  });

  it('removes a not yet contacted lead whose sources are gone, and leaves absent ones absent', () => {
    expect(decideScope({ ...fresh, syncedLists: 0, state: 'pending' }, noFlags)).toEqual({ kind: 'leave' });
    expect(decideScope({ ...fresh, syncedLists: 0, state: 'excluded' }, noFlags)).toEqual({ kind: 'leave' });
    expect(decideScope({ ...fresh, syncedLists: 0 }, noFlags)).toEqual({ kind: 'keep' });
  });

  it('never moves a lead this campaign contacted', () => {
    const contacted = { ...fresh, contactedByCampaign: true, state: 'active' as const, syncedLists: 0, excludedLists: 1, contactedByTeam: true, profile: null };
    expect(decideScope(contacted, allFlags)).toEqual({ kind: 'keep' });
  });

  it('excludes an in-flight lead that was not messaged yet, and otherwise lets it go on', () => {
    expect(decideScope({ ...fresh, state: 'active', excludedLists: 1 }, noFlags)).toEqual({ kind: 'excluded', reason: 'excluded_list' });
    expect(decideScope({ ...fresh, state: 'active' }, noFlags)).toEqual({ kind: 'keep' });
  });
});

describe('decideScope, property-based', () => {
  it('exclusion beats inclusion: a lead in an excluded list never becomes pending', () => {
    fc.assert(fc.property(facts, rules, (f, r) => decideScope({ ...f, excludedLists: Math.max(1, f.excludedLists) }, r).kind !== 'pending'));
  });

  it('a lead this campaign contacted is never excluded, removed or reset', () => {
    fc.assert(fc.property(facts, rules, (f, r) => decideScope({ ...f, contactedByCampaign: true }, r).kind === 'keep'));
  });

  it('settled states stay as they are whatever the rules and sources', () => {
    const settled = fc.constantFrom<LeadState>('replied', 'completed', 'cancelled', 'failed');
    fc.assert(fc.property(facts, rules, settled, (f, r, state) => decideScope({ ...f, state }, r).kind === 'keep'));
  });

  it('a lead without any source never enters, and leaves unless it is not ours to move', () => {
    fc.assert(
      fc.property(facts, rules, (f, r) => {
        const d = decideScope({ ...f, syncedLists: 0, direct: false }, r);
        return d.kind === 'keep' || d.kind === 'leave';
      }),
    );
  });

  it('the team-wide flags only ever take leads out', () => {
    fc.assert(
      fc.property(facts, (f) => {
        const strict = decideScope(f, allFlags);
        const lax = decideScope(f, noFlags);
        return strict.kind !== 'pending' || lax.kind === 'pending';
      }),
    );
  });

  it('a pending or excluded decision names a reason exactly when it excludes', () => {
    fc.assert(
      fc.property(facts, rules, (f, r) => {
        const d = decideScope(f, r);
        if (d.kind === 'excluded') return exclusionOf(f, r) === d.reason;
        if (d.kind === 'pending') return exclusionOf(f, r) === null;
        return true;
      }),
    );
  });

  it('is idempotent: applying the decision and deciding again changes nothing more', () => {
    fc.assert(
      fc.property(facts, rules, (f, r) => {
        const d = decideScope(f, r);
        const state = d.kind === 'pending' ? 'pending' : d.kind === 'excluded' ? 'excluded' : d.kind === 'leave' ? null : f.state;
        const again = decideScope({ ...f, state }, r);
        return again.kind === 'keep' || again.kind === d.kind;
      }),
    );
  });
});
