import type { LeadState } from '../store/schema-campaigns.js';

/**
 * The lead-rule algebra: for one candidate lead of one campaign, whether it enters (or stays) pending,
 * is kept out with a reason, leaves, or is left alone. A plain function of the facts gathered about the
 * candidate, so the direct add and the background sync decide alike.
 *
 * - Exclusion beats inclusion: an excluded list, excludeContacted or excludeMutuals keep a lead out
 *   even when a synced list or a direct add names it. Contacted and mutual span the team's accounts.
 * - The campaign's authority over a lead ends at its first message: once this campaign contacted the
 *   lead (or the lead reached a state of its own: replied, completed, cancelled, failed) no rule, no
 *   vanished source and no profile change moves it. Unreachable in-flight leads are the engine's: it
 *   marks them `failed` when a send fails.
 * - Before that, an unreachable profile (gone, suspended, deactivated, DMs closed) keeps the lead out
 *   as `excluded`, like a rule does, so it enters by itself once it becomes reachable again.
 * - A lead with no source left (no synced list holds it and it was not added directly) leaves.
 * One outcome per prospect: a lead is never in a campaign twice.
 */

export type ExclusionReason =
  | 'excluded_list'
  | 'contacted'
  | 'mutual'
  | 'not_found'
  | 'suspended'
  | 'deactivated'
  | 'dms_closed';

export interface ScopeRules {
  excludeContacted: boolean;
  excludeMutuals: boolean;
}

export interface Reachability {
  accountStatus: 'active' | 'suspended' | 'deactivated';
  dmsOpen: boolean;
}

export interface CandidateFacts {
  /** how many of the campaign's synced lists hold the lead */
  syncedLists: number;
  /** how many of the campaign's excluded lists hold the lead */
  excludedLists: number;
  /** added directly (POST .../leads), or kept when its list was unlinked */
  direct: boolean;
  /** any of the team's accounts has sent the lead a DM */
  contactedByTeam: boolean;
  /** the lead and the team have DMed both ways */
  mutual: boolean;
  /** this campaign has sent the lead its first message */
  contactedByCampaign: boolean;
  /** the lead's row in the campaign, or null when it has none */
  state: LeadState | null;
  /** the profile as the platform knows it; null when no such user exists */
  profile: Reachability | null;
}

export type ScopeDecision =
  | { kind: 'pending' }
  | { kind: 'excluded'; reason: ExclusionReason }
  /** delete the lead's row (it has one) */
  | { kind: 'leave' }
  /** change nothing: the lead is not ours to move, or has no row and no reason to get one */
  | { kind: 'keep' };

/** States a lead reaches on its own; the rules never move it out of them. */
const SETTLED: ReadonlySet<LeadState> = new Set(['replied', 'completed', 'cancelled', 'failed']);

/** Why the lead is kept out, in the order a person would look: rules, then the profile. */
export function exclusionOf(facts: CandidateFacts, rules: ScopeRules): ExclusionReason | null {
  if (facts.excludedLists > 0) return 'excluded_list';
  if (rules.excludeContacted && facts.contactedByTeam) return 'contacted';
  if (rules.excludeMutuals && facts.mutual) return 'mutual';
  if (!facts.profile) return 'not_found';
  if (facts.profile.accountStatus !== 'active') return facts.profile.accountStatus;
  if (!facts.profile.dmsOpen) return 'dms_closed';
  return null;
}

export function decideScope(facts: CandidateFacts, rules: ScopeRules): ScopeDecision {
  if (facts.contactedByCampaign || (facts.state !== null && SETTLED.has(facts.state))) return { kind: 'keep' };
  if (facts.syncedLists === 0 && !facts.direct) return facts.state === null ? { kind: 'keep' } : { kind: 'leave' };
  const reason = exclusionOf(facts, rules);
  if (reason) return { kind: 'excluded', reason };
  // An in-flight lead not yet messaged (a like step ran) goes on as it is.
  return facts.state === 'active' ? { kind: 'keep' } : { kind: 'pending' };
}
