import type { Random } from './random.js';
import { nextOpening } from './schedule.js';
import { planAccount, type AccountState, type GateBounds, type PlannedAction, type SenderQueue } from './send-plan.js';

/**
 * Why a campaign lead has not been messaged yet, read off the engine's own plan (core/send-plan): the account's
 * sends are planned from now exactly as the engine will make them when nothing changes, and each lead's next
 * send names its time and what held it back until then. Nothing here models the engine a second time.
 *
 * The reason is the one that decides the time: a step due at 08:00 in a window opening at 09:00 waits for the
 * window, not the delay. When several bounds fall on the same instant, the first of hold, delay, daily limit,
 * hourly limit, pace is named.
 */

export type WaitingFor =
  /** the schedule is closed; `until` is its next opening (null: it never opens) */
  | { reason: 'window'; until: Date | null }
  /** the campaign's messagesPerHour on this account */
  | { reason: 'accountPace'; until: Date; messagesPerHour: number }
  /** the account's hourlyLimit or dailyLimit across all its campaigns */
  | { reason: 'accountLimit'; until: Date; limit: 'hourly' | 'daily'; max: number }
  /** a delay step: the next step is due at `until` */
  | { reason: 'delay'; until: Date }
  /** the sender cannot send: offline or paused (until someone acts: null) or rate limited by the platform (until its reset) */
  | { reason: 'accountUnavailable'; until: Date | null; accountStatus: 'offline' | 'paused' | 'rateLimited' }
  /** the campaign is not running (a draft, or paused by someone) */
  | { reason: 'campaignPaused'; until: null }
  /** `ahead` leads of the same campaign and sender go first; `until` is its own send when known */
  | { reason: 'queued'; until: Date | null; ahead: number };

export interface LeadWait {
  /** when the engine sends the lead's next step, if nothing changes (null: not known or never) */
  nextSendAt: Date | null;
  /** null when the lead is not waiting: it goes out now, or has nothing left to send */
  waitingFor: WaitingFor | null;
}

export const NOT_WAITING: LeadWait = { nextSendAt: null, waitingFor: null };

type Send = Extract<PlannedAction, { kind: 'send' }>;

/** What set a send's time, given that no lead of its own queue went before it since it fell due. */
function boundThatHeld(account: AccountState, queue: SenderQueue, send: Send): WaitingFor {
  const { at, bounds } = send;
  const until = at.getTime();
  const latest = Math.max(...(Object.values(bounds) as number[]));
  if (until > latest) return { reason: 'window', until: at };
  const holds = (bound: keyof GateBounds) => bounds[bound] === until;
  if (holds('held')) return { reason: 'accountUnavailable', until: at, accountStatus: 'rateLimited' };
  if (holds('due')) return { reason: 'delay', until: at };
  if (holds('accountDaily')) return { reason: 'accountLimit', until: at, limit: 'daily', max: account.dailyLimit };
  if (holds('accountHourly')) return { reason: 'accountLimit', until: at, limit: 'hourly', max: account.hourlyLimit };
  return { reason: 'accountPace', until: at, messagesPerHour: queue.messagesPerHour };
}

/**
 * Plans the account from `now` to `until` as the engine does (the queues are not consumed) and explains the wait
 * of each lead of `leadIds` found in them. A lead the plan does not reach (it lies beyond a capped load, or
 * beyond `until`) is queued behind the leads before it, waits for its delay when it falls due after `until`, or,
 * first in its queue, waits for the first window after `until`.
 */
export function explainWaits(
  account: AccountState,
  queues: readonly SenderQueue[],
  now: Date,
  until: Date,
  random: Random,
  leadIds: ReadonlySet<string>,
): Map<string, LeadWait> {
  const found = new Map(queues.flatMap((queue) => queue.leads.flatMap((lead, position) => (leadIds.has(lead.id) ? [[lead.id, { queue, lead, position }] as const] : []))));
  const plan = planAccount(account, queues.map((queue) => ({ ...queue, leads: [...queue.leads] })), now, until, random);
  const waits = new Map<string, LeadWait>();
  const sentByCampaign = new Map<string, number[]>();
  for (const action of plan.actions) {
    const target = found.get(action.lead.id);
    if (target && !waits.has(action.lead.id)) waits.set(action.lead.id, explainAction(account, target.queue, action, now, sentByCampaign.get(action.campaignId) ?? []));
    if (action.kind !== 'send') continue;
    const sent = sentByCampaign.get(action.campaignId);
    if (sent) sent.push(action.at.getTime());
    else sentByCampaign.set(action.campaignId, [action.at.getTime()]);
  }
  for (const [id, { queue, lead, position }] of found) {
    if (waits.has(id)) continue;
    if (!nextOpening(queue.schedule, queue.timeZone, now)) waits.set(id, { nextSendAt: null, waitingFor: { reason: 'window', until: null } });
    else if (lead.dueAt > until) waits.set(id, { nextSendAt: null, waitingFor: { reason: 'delay', until: lead.dueAt } });
    // First in its queue and still not sent by `until`: its account's pace or limits push it past the windows the
    // plan covers, so the next one after them decides.
    else if (position === 0) waits.set(id, { nextSendAt: null, waitingFor: { reason: 'window', until: nextOpening(queue.schedule, queue.timeZone, until) } });
    else waits.set(id, { nextSendAt: null, waitingFor: { reason: 'queued', until: null, ahead: position } });
  }
  return waits;
}

/** The wait that ends in `action`, the lead's first in the plan; `sentBefore` are its campaign's earlier sends. */
function explainAction(account: AccountState, queue: SenderQueue, action: PlannedAction, now: Date, sentBefore: readonly number[]): LeadWait {
  if (action.kind === 'complete') return NOT_WAITING;
  if (action.kind === 'reschedule') return { nextSendAt: null, waitingFor: { reason: 'delay', until: action.dueAt } };
  if (action.at <= now) return { nextSendAt: action.at, waitingFor: null };
  // Leads of its own queue sent after it fell due went first: it waited its turn.
  const dueFrom = Math.max(action.lead.dueAt.getTime(), now.getTime());
  const ahead = sentBefore.filter((at) => at >= dueFrom).length;
  if (ahead > 0) return { nextSendAt: action.at, waitingFor: { reason: 'queued', until: action.at, ahead } };
  return { nextSendAt: action.at, waitingFor: boundThatHeld(account, queue, action) };
}
