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

/**
 * One campaign's queue on the account: its leads due by `until`. Follow-ups go first: whenever the pair may send,
 * the lead it takes is the soonest due of those already contacted, if one is due by then, else the soonest due
 * first touch (ties by prospect id), so a backlog of new leads never delays a sequence's next step.
 */
export interface SenderQueue {
  campaignId: string;
  messagesPerHour: number;
  schedule: Schedule;
  timeZone: string;
  steps: readonly RankedStep[];
  /** follow-ups soonest due first, then first touches soonest due first (the order `queued` counts `ahead` in) */
  leads: QueuedLead[];
  /** the store holds due leads of that kind beyond `leads` (each kind's load is capped apart) */
  more: { followUps: boolean; firstTouches: boolean };
}

/** A lead already contacted: its next step is a follow-up. */
export const isFollowUp = (lead: Pick<QueuedLead, 'nextRank'>): boolean => lead.nextRank > 0;

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

/** A queue's order within one kind of lead: soonest due first, ties by prospect id. */
export const byDue = (a: QueuedLead, b: QueuedLead) => a.dueAt.getTime() - b.dueAt.getTime() || (a.prospectId < b.prospectId ? -1 : a.prospectId > b.prospectId ? 1 : 0);

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
 * The jitters of gates, by campaign, account and the pair's last send of the past day (null: none), each drawn
 * from its own derived stream. A derived stream is the same every time for its key, so each is drawn once: a
 * plan asks for the same one until the pair sends again, and an account planAccounts plans again asks for the
 * ones its first plan drew.
 */
export class Jitters {
  readonly #random: Random;
  readonly #drawn = new Map<string, number>();

  constructor(random: Random) {
    this.#random = random;
  }

  of(campaignId: string, accountId: string, lastOwn: number | null): number {
    const key = `${campaignId}:${accountId}:${lastOwn ?? 'first'}`;
    let jitter = this.#drawn.get(key);
    if (jitter === undefined) {
      jitter = this.#random.derive(`${campaignId}:${accountId}:${lastOwn === null ? 'first' : new Date(lastOwn).toISOString()}`).next();
      this.#drawn.set(key, jitter);
    }
    return jitter;
  }
}

/**
 * The earliest instant at or after `earliest` at which `queue`'s campaign may send from the account, given
 * the sends so far (null: its schedule never opens). The jitter comes from a stream named by campaign, account
 * and the pair's last send of the past day, so asking again (after a crash, from another process) gives the
 * same answer.
 */
function senderGate(account: AccountState, queue: SenderQueue, log: SendLog, earliest: Date, jitters: Jitters): { at: Date; bounds: GateBounds } | null {
  const own = log.of(queue.campaignId);
  const lastOwn = own.at(-1);
  const held = account.heldUntil && account.heldUntil > earliest ? account.heldUntil : earliest;
  const gate = nextDispatch(
    { campaign: own, account: log.all },
    {
      messagesPerHour: queue.messagesPerHour,
      hourlyLimit: account.hourlyLimit,
      dailyLimit: account.dailyLimit,
      earliest: held,
      jitter: jitters.of(queue.campaignId, account.id, lastOwn !== undefined && lastOwn > earliest.getTime() - DAY_MS ? lastOwn : null),
      schedule: queue.schedule,
      timeZone: queue.timeZone,
    },
  );
  return gate && { at: gate.at, bounds: { ...gate.bounds, due: earliest.getTime(), held: account.heldUntil?.getTime() ?? -Infinity } };
}

/** One kind of a queue's leads as planning goes: soonest due first, and the last one loaded when more were left in the store. */
interface Line {
  leads: QueuedLead[];
  /** with a capped load, the store's next lead of this kind sorts after this one: past it the line is unknown */
  boundary: QueuedLead | null;
  /**
   * leads whose next step this plan made due by sending the one before: whether that send goes through (the
   * recipient may refuse it) is known only after the platform call, so the plan goes no further than their turn
   */
  uncertain: Set<QueuedLead>;
}

const lineOf = (leads: QueuedLead[], more: boolean): Line => {
  const sorted = [...leads].sort(byDue);
  return { leads: sorted, boundary: more && sorted.length > 0 ? sorted.at(-1)! : null, uncertain: new Set() };
};

/** The sooner due of two leads (either may be missing). */
const earlier = (a: QueuedLead | null | undefined, b: QueuedLead | null | undefined) => (!a ? b : !b || a.dueAt <= b.dueAt ? a : b);

/** Plans one account's sends in (from .. until]; queues are consumed. */
export function planAccount(account: AccountState, queues: readonly SenderQueue[], from: Date, until: Date, random: Random, jitters = new Jitters(random)): AccountPlan {
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

  /** The head of a line once it is really due: completions and reschedules are settled on the way. */
  const headOf = (queue: SenderQueue, line: Line): QueuedLead | undefined => {
    for (;;) {
      const head = line.leads[0];
      if (!head) return undefined;
      const next = nextAction(queue.steps, head.nextRank, head.lastContactAt, head.dueAt);
      if (next.done) {
        line.leads.shift();
        actions.push({ kind: 'complete', campaignId: queue.campaignId, lead: head, at: new Date(Math.max(from.getTime(), head.dueAt.getTime())) });
        continue;
      }
      if (next.dueAt.getTime() === head.dueAt.getTime()) return head;
      line.leads.shift();
      if (next.dueAt > until) {
        actions.push({ kind: 'reschedule', campaignId: queue.campaignId, lead: head, dueAt: next.dueAt });
      } else {
        enqueue(line.leads, { ...head, dueAt: next.dueAt });
      }
    }
  };

  /** Where the line's unknown part begins, when its known part is used up to it: the boundary lead, or null. */
  const unknownAt = (line: Line, head: QueuedLead | undefined) =>
    line.boundary && (!head || byDue(head, line.boundary) > 0) ? line.boundary : null;

  const lines = new Map(
    queues.map((q) => [q.campaignId, { followUps: lineOf(q.leads.filter(isFollowUp), q.more.followUps), firstTouches: lineOf(q.leads.filter((l) => !isFollowUp(l)), q.more.firstTouches) }]),
  );

  for (;;) {
    let best: { queue: SenderQueue; line: Line; at: Date; bounds: GateBounds } | null = null;
    for (const queue of queues) {
      if (stalled.has(queue.campaignId)) continue;
      const { followUps, firstTouches } = lines.get(queue.campaignId)!;
      const followUp = headOf(queue, followUps);
      const firstTouch = headOf(queue, firstTouches);
      const unknownFollowUps = unknownAt(followUps, followUp);
      const unknownFirstTouches = unknownAt(firstTouches, firstTouch);
      // The soonest anything of the queue, loaded or not, can be due: the pair's next send is at its gate.
      const soonest = earlier(unknownFollowUps ?? followUp, unknownFirstTouches ?? firstTouch);
      if (!soonest) continue;
      const due = Math.max(from.getTime(), soonest.dueAt.getTime());
      const gate = senderGate(account, queue, log, new Date(due), jitters);
      if (!gate) {
        stalled.add(queue.campaignId);
        continue;
      }
      const { at } = gate;
      // The lead taken at `at`: a follow-up due by then, else a first touch. When that depends on leads not
      // loaded, plan nothing of this pair from there.
      const unknown = (unknownFollowUps && unknownFollowUps.dueAt <= at) || (followUp && followUp.dueAt <= at && followUps.uncertain.has(followUp));
      const line = !unknown && followUp && followUp.dueAt <= at ? followUps : firstTouches;
      if (unknown || (line === firstTouches && (!firstTouch || (unknownFirstTouches && unknownFirstTouches.dueAt <= at)))) {
        if (at <= until && (!cutAt || at <= cutAt)) cutAt = new Date(at.getTime() - 1);
        continue;
      }
      // The gate is the first instant the pair may send at or after `due`, and the lead taken was due between
      // the two, so its own gate is the same instant; only the bound its due time sets is its own.
      const bounds = { ...gate.bounds, due: Math.max(from.getTime(), line.leads[0]!.dueAt.getTime()) };
      if (!best || at < best.at || (at.getTime() === best.at.getTime() && served(queue, at) < served(best.queue, at))) best = { queue, line, at, bounds };
    }
    if (!best || best.at > until || (cutAt && best.at > cutAt)) break;
    const { queue, line, at, bounds } = best;
    const lead = line.leads.shift()!;
    const next = nextAction(queue.steps, lead.nextRank, lead.lastContactAt, lead.dueAt);
    if (next.done) continue; // settled by headOf; unreachable
    log.add(queue.campaignId, at.getTime());
    lastServed.set(queue.campaignId, at.getTime());
    const after = nextAction(queue.steps, next.step.rank + 1, at, at);
    const then = after.done ? null : { ...lead, nextRank: next.step.rank + 1, lastContactAt: at, dueAt: after.dueAt };
    actions.push({ kind: 'send', campaignId: queue.campaignId, lead, step: next.step, at, bounds, then });
    if (then && then.dueAt <= until) {
      const { followUps } = lines.get(queue.campaignId)!;
      enqueue(followUps.leads, then);
      followUps.uncertain.add(then);
    }
  }

  const nextSendAt = new Map<string, Date>();
  for (const queue of queues) {
    const gate = senderGate(account, queue, log, from, jitters);
    nextSendAt.set(queue.campaignId, gate?.at ?? new Date(from.getTime() + NO_WINDOW_RECHECK_MS));
  }
  return { actions, nextSendAt, cutAt };
}

/**
 * Plans every account up to the earliest cut any of them makes (a capped queue cutting its plan short), so every
 * account's plan covers the same span and the engine can move on from one instant: each account's plan is
 * planAccount's up to that cut (or up to `until` when none cuts).
 *
 * The accounts are planned one after another, each only up to the earliest cut found so far, and those planned
 * before a still earlier cut was found are planned again up to it. That finds the same cut as planning each up
 * to `until` first: a plan's decisions at or before an instant X are the same whether it stops at X or runs on
 * (sends only get later, and what a longer plan adds after X, follow-ups made due and leads moved past X, never
 * changes a choice made by X), so a plan up to X cuts where the longer plan cuts when that is before X, and not
 * at all otherwise.
 */
export function planAccounts(
  accounts: ReadonlyArray<{ account: AccountState; queues: () => SenderQueue[] }>,
  from: Date,
  until: Date,
  random: Random,
): { plans: AccountPlan[]; until: Date } {
  const jitters = new Jitters(random);
  let limit = until;
  const first = accounts.map(({ account, queues }) => {
    const upTo = limit;
    const plan = planAccount(account, queues(), from, upTo, random, jitters);
    if (plan.cutAt) limit = new Date(Math.max(from.getTime(), plan.cutAt.getTime()));
    return { plan, upTo };
  });
  const plans = first.map(({ plan, upTo }, i) =>
    upTo.getTime() === limit.getTime() ? plan : planAccount(accounts[i]!.account, accounts[i]!.queues(), from, limit, random, jitters),
  );
  return { plans, until: limit };
}
