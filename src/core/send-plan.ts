import { nextAction, type ActionStep, type RankedStep } from './lead-progress.js';
import { DAY_MS, nextDispatch, type PacingBounds } from './pacing.js';
import type { Random } from './random.js';
import type { Schedule } from './schedule.js';

/**
 * Which sends one account makes between `from` and `until`, and when: the engine's pure core. It walks time
 * forward, always taking the send that can happen soonest among the account's (campaign, account) queues
 * under every pace, cap, window and hold, so a plan over a long span (virtual time) gives exactly the sends a
 * pass at each instant would have made. In real time `from` and `until` are both now.
 */

/** A lead waiting in a sender's queue. */
export interface QueuedLead {
  id: string;
  prospectId: string;
  /** rank of its first step not yet sent */
  nextRank: number;
  lastContactAt: Date | null;
  /** when its next step is due, as stored (next_step_at) */
  dueAt: Date;
}

/** One campaign's queue on the account: its leads due by `until`, soonest first (ties by prospect id). */
export interface SenderQueue {
  campaignId: string;
  messagesPerHour: number;
  schedule: Schedule;
  timeZone: string;
  steps: readonly RankedStep[];
  leads: QueuedLead[];
  /** the store holds due leads beyond `leads` (the load was capped) */
  more: boolean;
}

export interface AccountState {
  id: string;
  hourlyLimit: number;
  dailyLimit: number;
  heldUntil: Date | null;
  /** the account's sends and likes of the last 24 hours before `from`, every campaign's, oldest first */
  sends: ReadonlyArray<{ campaignId: string; at: Date }>;
}

/**
 * What decided a send's time: each lower bound on it in epoch ms (-Infinity when one does not bind), `due` being
 * when the lead's step was due (or the plan's start) and `held` the account's platform hold; the send goes out at
 * the schedule's first opening at or after the latest of them.
 */
export type GateBounds = PacingBounds & { held: number };

export type PlannedAction =
  /**
   * send `step` at `at`; `then` is the lead afterwards (null: its sequence ends with this step); `bounds` say
   * why not earlier (core/waiting explains a lead's wait with them)
   */
  | { kind: 'send'; campaignId: string; lead: QueuedLead; step: ActionStep; at: Date; bounds: GateBounds; then: QueuedLead | null }
  /** nothing left to send: the lead completes */
  | { kind: 'complete'; campaignId: string; lead: QueuedLead; at: Date }
  /** the step is not due yet after all (a sequence edit changed a delay): store the new due time */
  | { kind: 'reschedule'; campaignId: string; lead: QueuedLead; dueAt: Date };

export interface AccountPlan {
  actions: PlannedAction[];
  /** per campaign: the earliest instant the pair may send again (a lower bound the store keeps) */
  nextSendAt: Map<string, Date>;
  /** set when a capped queue ran dry while the pair could still send: only the plan before it is exact */
  cutAt: Date | null;
}

/** How long to wait before looking again when a campaign's schedule has no sending day at all. */
const NO_WINDOW_RECHECK_MS = DAY_MS;

const byDue = (a: QueuedLead, b: QueuedLead) => a.dueAt.getTime() - b.dueAt.getTime() || (a.prospectId < b.prospectId ? -1 : a.prospectId > b.prospectId ? 1 : 0);

function enqueue(queue: QueuedLead[], lead: QueuedLead): void {
  let at = queue.length;
  while (at > 0 && byDue(queue[at - 1]!, lead) > 0) at--;
  queue.splice(at, 0, lead);
}

/** The account's send times as planning goes: all of them and each campaign's, oldest first. */
class SendLog {
  readonly all: number[] = [];
  readonly #byCampaign = new Map<string, number[]>();

  constructor(sends: AccountState['sends']) {
    for (const { campaignId, at } of sends) this.add(campaignId, at.getTime());
  }

  /** A send later than every one before (the account's minimum gap makes every planned send so). */
  add(campaignId: string, at: number): void {
    this.all.push(at);
    const own = this.#byCampaign.get(campaignId);
    if (own) own.push(at);
    else this.#byCampaign.set(campaignId, [at]);
  }

  of(campaignId: string): readonly number[] {
    return this.#byCampaign.get(campaignId) ?? [];
  }
}

/**
 * The earliest instant at or after `earliest` at which `queue`'s campaign may send from the account, given
 * the sends so far (null: its schedule never opens). The jitter comes from a stream named by campaign, account
 * and the pair's last send of the past day, so asking again (after a crash, from another process) gives the
 * same answer.
 */
function senderGate(account: AccountState, queue: SenderQueue, log: SendLog, earliest: Date, random: Random): { at: Date; bounds: GateBounds } | null {
  const own = log.of(queue.campaignId);
  const lastOwn = own.at(-1);
  const lastOwnKey = lastOwn !== undefined && lastOwn > earliest.getTime() - DAY_MS ? new Date(lastOwn).toISOString() : 'first';
  const held = account.heldUntil && account.heldUntil > earliest ? account.heldUntil : earliest;
  const gate = nextDispatch(
    { campaign: own, account: log.all },
    {
      messagesPerHour: queue.messagesPerHour,
      hourlyLimit: account.hourlyLimit,
      dailyLimit: account.dailyLimit,
      earliest: held,
      jitter: random.derive(`${queue.campaignId}:${account.id}:${lastOwnKey}`).next(),
      schedule: queue.schedule,
      timeZone: queue.timeZone,
    },
  );
  return gate && { at: gate.at, bounds: { ...gate.bounds, due: earliest.getTime(), held: account.heldUntil?.getTime() ?? -Infinity } };
}

/** Plans one account's sends in (from .. until]; queues are consumed. */
export function planAccount(account: AccountState, queues: readonly SenderQueue[], from: Date, until: Date, random: Random): AccountPlan {
  const log = new SendLog(account.sends);
  // When the account's own caps make several campaigns due at the same instant, the one served least
  // recently goes first, so campaigns sharing an account take turns instead of one starving the others.
  const lastServed = new Map<string, number>(account.sends.map((s) => [s.campaignId, s.at.getTime()]));
  // Served as a pass at `at` sees it, from the day of sends before it: so a plan over a long span takes the
  // turns that passes at each instant would.
  const served = (queue: SenderQueue, at: Date) => {
    const last = lastServed.get(queue.campaignId);
    return last !== undefined && last > at.getTime() - DAY_MS ? last : -Infinity;
  };
  const actions: PlannedAction[] = [];
  const stalled = new Set<string>();
  let cutAt: Date | null = null;

  /** The head of a queue once it is really due: completions and reschedules are settled on the way. */
  const headOf = (queue: SenderQueue): QueuedLead | undefined => {
    for (;;) {
      const head = queue.leads[0];
      if (!head) return undefined;
      const next = nextAction(queue.steps, head.nextRank, head.lastContactAt, head.dueAt);
      if (next.done) {
        queue.leads.shift();
        actions.push({ kind: 'complete', campaignId: queue.campaignId, lead: head, at: new Date(Math.max(from.getTime(), head.dueAt.getTime())) });
        continue;
      }
      if (next.dueAt.getTime() === head.dueAt.getTime()) return head;
      queue.leads.shift();
      if (next.dueAt > until) {
        actions.push({ kind: 'reschedule', campaignId: queue.campaignId, lead: head, dueAt: next.dueAt });
      } else {
        enqueue(queue.leads, { ...head, dueAt: next.dueAt });
      }
    }
  };

  // With a capped load, the store's next lead sorts after the last one loaded: past it the queue is unknown.
  const boundary = new Map(queues.flatMap((q) => (q.more && q.leads.length > 0 ? [[q.campaignId, q.leads.at(-1)!] as const] : [])));
  const unknownAt = (queue: SenderQueue, head: QueuedLead | undefined) => {
    const last = boundary.get(queue.campaignId);
    return last !== undefined && (!head || byDue(head, last) > 0) ? last : null;
  };

  for (;;) {
    let best: { queue: SenderQueue; at: Date; bounds: GateBounds } | null = null;
    for (const queue of queues) {
      if (stalled.has(queue.campaignId)) continue;
      const head = headOf(queue);
      const last = unknownAt(queue, head);
      if (!head && !last) continue;
      const due = last ? last.dueAt : head!.dueAt;
      const gate = senderGate(account, queue, log, due > from ? due : from, random);
      if (!gate) {
        stalled.add(queue.campaignId);
        continue;
      }
      const { at } = gate;
      if (last) {
        // What this pair does from `at` on depends on leads not loaded: plan nothing from there.
        if (at <= until && (!cutAt || at <= cutAt)) cutAt = new Date(at.getTime() - 1);
        continue;
      }
      if (!best || at < best.at || (at.getTime() === best.at.getTime() && served(queue, at) < served(best.queue, at))) best = { queue, ...gate };
    }
    if (!best || best.at > until || (cutAt && best.at > cutAt)) break;
    const { queue, at, bounds } = best;
    const lead = queue.leads.shift()!;
    const next = nextAction(queue.steps, lead.nextRank, lead.lastContactAt, lead.dueAt);
    if (next.done) continue; // settled by headOf; unreachable
    log.add(queue.campaignId, at.getTime());
    lastServed.set(queue.campaignId, at.getTime());
    const after = nextAction(queue.steps, next.step.rank + 1, at, at);
    const then = after.done ? null : { ...lead, nextRank: next.step.rank + 1, lastContactAt: at, dueAt: after.dueAt };
    actions.push({ kind: 'send', campaignId: queue.campaignId, lead, step: next.step, at, bounds, then });
    if (then && then.dueAt <= until) enqueue(queue.leads, then);
  }

  const nextSendAt = new Map<string, Date>();
  for (const queue of queues) {
    const gate = senderGate(account, queue, log, from, random);
    nextSendAt.set(queue.campaignId, gate?.at ?? new Date(from.getTime() + NO_WINDOW_RECHECK_MS));
  }
  return { actions, nextSendAt, cutAt };
}

/**
 * Plans every account, then, if a capped queue cut one account's plan short, plans them all again up to that
 * cut, so every account's plan covers the same span and the engine can move on from one instant.
 */
export function planAccounts(
  accounts: ReadonlyArray<{ account: AccountState; queues: () => SenderQueue[] }>,
  from: Date,
  until: Date,
  random: Random,
): { plans: AccountPlan[]; until: Date } {
  let plans = accounts.map(({ account, queues }) => planAccount(account, queues(), from, until, random));
  const cuts = plans.flatMap((p) => (p.cutAt ? [p.cutAt.getTime()] : []));
  if (cuts.length === 0) return { plans, until };
  const cut = new Date(Math.max(from.getTime(), Math.min(...cuts)));
  plans = accounts.map(({ account, queues }) => planAccount(account, queues(), from, cut, random));
  return { plans, until: cut };
}
