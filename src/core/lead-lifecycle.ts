import type { CampaignLeadRow, LeadState } from '../store/schema-campaigns.js';
import { nextAction, type RankedStep } from './lead-progress.js';

/**
 * The campaign-lead state machine: given a lead and an event, the columns that change (or why the event does not
 * apply). Every writer of a lead's state asks it, and the store's lead applier (store/campaign-leads.ts) writes
 * what it answers.
 *
 *   (no row) --admitted--> pending <--admitted/excluded--> excluded      the lead rules, before any contact
 *   pending --assigned--> pending (with a sender)
 *   pending|active --sent--> active, or completed when no action step remains
 *   pending|active --failed--> failed          the recipient refused (counts as contacted)
 *   pending|active --completed / sequenceChanged past the end--> completed
 *   pending|active --cancelled--> cancelled    (final)
 *   active|completed|failed --replied--> replied   (final)
 *   pending|active --accountLost--> same state, another sender;  --rescheduled--> same state, later due time
 *
 * A reserved send writes no lead column: its send intent is the lease on the lead (store/send-intents.ts), so
 * `reserved` only checks that the lead is running. A send that went out is a fact whatever the lead's state: on a
 * lead that stopped meanwhile (replied or cancelled while its send was in flight) it records the contact and
 * leaves the state alone.
 */

/** The columns a lead's state lives in (created_at is read, for the due time of a lead given its first sender). */
export type LeadStateColumns = Pick<
  CampaignLeadRow,
  | 'state'
  | 'account_link_id'
  | 'sequence_version'
  | 'next_rank'
  | 'next_step_at'
  | 'contacted_at'
  | 'last_contact_at'
  | 'replied_at'
  | 'finished_at'
  | 'failure_reason'
  | 'updated_at'
>;
export type Lead = LeadStateColumns & Pick<CampaignLeadRow, 'created_at'>;

/** The lead rules' events: they let a lead in (or in again), or keep it out for a reason. */
export type RuleEvent = { type: 'admitted' } | { type: 'excluded'; reason: string };

export type LeadEvent =
  /** a new lead gets its sender and takes the campaign's sequence version */
  | { type: 'assigned'; accountLinkId: string; sequenceVersion: number; at: Date }
  /** its sender left the campaign or is no longer active: it moves to another */
  | { type: 'accountLost'; accountLinkId: string; sequenceVersion: number; at: Date }
  /** a send of its step `rank` was reserved */
  | { type: 'reserved' }
  /** the planner found its next step due later (pace, window) */
  | { type: 'rescheduled'; dueAt: Date; sequenceVersion: number }
  /** step `rank` of sequence version `sequenceVersion` (whose steps are given) went out at `at` */
  | { type: 'sent'; at: Date; rank: number; sequenceVersion: number; steps: readonly RankedStep[] }
  /** the recipient refused the send */
  | { type: 'failed'; at: Date; reason: string }
  /** the prospect sent a message at `messageAt`, recorded at `at` */
  | { type: 'replied'; at: Date; messageAt: Date }
  | { type: 'cancelled'; at: Date }
  /** nothing is left to send */
  | { type: 'completed'; at: Date }
  /** the campaign's sequence became version `version` (these steps) */
  | { type: 'sequenceChanged'; version: number; steps: readonly RankedStep[]; at: Date };

export type LeadTransition = { ok: true; set: Partial<LeadStateColumns> } | { ok: false; reason: string };

/** A lead the engine still works on. */
export const isRunning = (state: LeadState): boolean => state === 'pending' || state === 'active';
/** States no event leaves. */
export const FINAL_STATES: ReadonlySet<LeadState> = new Set(['replied', 'cancelled']);

const ok = (set: Partial<LeadStateColumns>): LeadTransition => ({ ok: true, set });
const refuse = (reason: string): LeadTransition => ({ ok: false, reason });
const finished = (state: LeadState, at: Date): Partial<LeadStateColumns> => ({ state, next_step_at: null, finished_at: at, updated_at: at });

/**
 * What a rule event does to a lead in `state` (null: the prospect has no row in the campaign yet), which the
 * campaign has contacted or not. The rules' authority over a lead ends at its first contact (core/lead-scope.ts).
 * The rules write rows set-based, so their time is the statement's.
 */
export function ruleTransition(state: LeadState | null, contacted: boolean, event: RuleEvent): LeadTransition {
  if (state !== null && ((state !== 'pending' && state !== 'excluded') || contacted)) return refuse(`the rules no longer move a ${state} lead`);
  return ok(event.type === 'admitted' ? { state: 'pending', failure_reason: null } : { state: 'excluded', failure_reason: event.reason });
}

/** What `event` does to `lead`. */
export function leadTransition(lead: Lead, event: LeadEvent): LeadTransition {
  const { state } = lead;
  const running = isRunning(state);
  switch (event.type) {
    case 'assigned':
      if (state !== 'pending' || lead.account_link_id !== null) return refuse('only a pending lead without a sender is assigned one');
      return ok(senderChange(lead, event));
    case 'accountLost':
      if (!running) return refuse(`a ${state} lead has no sender to lose`);
      return ok(senderChange(lead, event));
    case 'reserved':
      return running ? ok({}) : refuse(`a ${state} lead is not sent anything`);
    case 'rescheduled':
      return running ? ok({ next_step_at: event.dueAt, sequence_version: event.sequenceVersion }) : refuse(`a ${state} lead has nothing due`);
    case 'sent': {
      const { at } = event;
      const contact: Partial<LeadStateColumns> = {
        contacted_at: lead.contacted_at ?? at,
        last_contact_at: at,
        next_rank: event.rank + 1,
        // The version whose steps it now follows (a sequence edit moves only leads on an older one).
        sequence_version: event.sequenceVersion,
        updated_at: at,
      };
      if (!running) return ok(contact);
      const next = nextAction(event.steps, event.rank + 1, at, at);
      return ok(next.done ? { ...contact, ...finished('completed', at) } : { ...contact, state: 'active', next_step_at: next.dueAt });
    }
    case 'failed':
      if (!running) return refuse(`a ${state} lead is not failed`);
      return ok({ ...finished('failed', event.at), failure_reason: event.reason, contacted_at: lead.contacted_at ?? event.at });
    case 'replied':
      if (state !== 'active' && state !== 'completed' && state !== 'failed') return refuse(`a ${state} lead does not become replied`);
      if (lead.replied_at !== null || lead.contacted_at === null || lead.contacted_at > event.messageAt) {
        return refuse('only a reply after the campaign first contacted the lead counts, and only once');
      }
      return ok({ ...finished('replied', event.at), replied_at: event.at });
    case 'cancelled':
      return running ? ok(finished('cancelled', event.at)) : refuse(`is ${state}: only a pending or active lead can be cancelled`);
    case 'completed':
      return running ? ok(finished('completed', event.at)) : refuse(`a ${state} lead does not complete`);
    case 'sequenceChanged': {
      if (state !== 'active') return refuse('only a lead in flight moves to a new sequence version');
      const next = nextAction(event.steps, lead.next_rank, lead.last_contact_at, event.at);
      return ok(next.done ? { ...finished('completed', event.at), sequence_version: event.version } : { sequence_version: event.version, next_step_at: next.dueAt });
    }
  }
}

function senderChange(lead: Lead, event: { accountLinkId: string; sequenceVersion: number; at: Date }): Partial<LeadStateColumns> {
  // A new lead is due from when it entered the campaign, so leads go first come, first served.
  return {
    account_link_id: event.accountLinkId,
    next_step_at: lead.next_step_at ?? lead.created_at,
    sequence_version: lead.sequence_version ?? event.sequenceVersion,
    updated_at: event.at,
  };
}

/** The lead after a transition that applies; the lead unchanged when it does not. */
export const afterTransition = <T extends Lead>(lead: T, transition: LeadTransition): T => (transition.ok ? { ...lead, ...transition.set } : lead);

/** What is wrong with a lead's columns for its state (empty when nothing): the machine's invariants. */
export function leadProblems(lead: Lead): string[] {
  const problems: string[] = [];
  const expect = (holds: boolean, problem: string) => void (holds || problems.push(`${lead.state}: ${problem}`));
  const done = !isRunning(lead.state) && lead.state !== 'excluded';
  expect(lead.state !== 'replied' || lead.replied_at !== null, 'replied without replied_at');
  expect(lead.state === 'replied' || lead.replied_at === null, 'replied_at on a lead that did not reply');
  expect(!done || (lead.finished_at !== null && lead.next_step_at === null), 'finished without finished_at, or with a next step');
  expect(done || lead.finished_at === null, 'finished_at on a lead still open');
  expect(lead.state !== 'pending' || lead.contacted_at === null, 'pending but contacted');
  expect(lead.state !== 'active' || (lead.contacted_at !== null && lead.next_step_at !== null), 'active without a contact or a next step');
  expect(lead.state !== 'failed' || (lead.contacted_at !== null && lead.failure_reason !== null), 'failed without a contact or a reason');
  expect(lead.state !== 'replied' || lead.contacted_at !== null, 'replied without a contact');
  expect(lead.state !== 'excluded' || lead.failure_reason !== null, 'excluded without a reason');
  // A refused first send counts as a contact without being one, so last_contact_at may stay null.
  expect(lead.contacted_at === null ? lead.last_contact_at === null : lead.last_contact_at === null || lead.contacted_at <= lead.last_contact_at, 'last_contact_at before contacted_at');
  return problems;
}
