import { sql } from 'kysely';
import type { AppContext } from '../app/context.js';
import { PollingLoop } from '../app/polling-loop.js';
import type { Random } from '../core/random.js';
import type { Db } from '../store/db.js';
import { claimDue, processLead, releaseClaims } from './dispatch.js';
import { applySequenceEdits, completeFinished, planLeads, updateAvailability } from './plan.js';

export interface EngineOptions {
  /** how often to look for due work in real time */
  pollIntervalMs?: number;
  /** leads claimed per round */
  batchSize?: number;
}

/**
 * The sending engine: plans leads onto senders, sends what is due, pauses, resumes and completes campaigns.
 * Any number of engines, in any number of processes, can share one store: work is claimed row by row with
 * FOR UPDATE SKIP LOCKED and the caps are checked under the account's row lock.
 */
export class Dispatcher {
  readonly #ctx: AppContext;
  readonly #random: Random;
  readonly #batch: number;
  readonly #loop: PollingLoop;

  constructor(ctx: AppContext, random: Random, options: EngineOptions = {}) {
    this.#ctx = ctx;
    this.#random = random;
    this.#batch = options.batchSize ?? 50;
    this.#loop = new PollingLoop(async () => (await this.runOnce()) > 0, options.pollIntervalMs ?? 1_000, (error) =>
      ctx.logger.error({ err: error }, 'engine pass failed'),
    );
  }

  start(): void {
    this.#loop.start();
  }

  /** Stops after the lead in hand is recorded, handing back the leads claimed but not started. */
  stop(): Promise<void> {
    return this.#loop.stop();
  }

  /** One pass at `now`: apply sequence edits, plan, pause or resume, send every due step (round after round), complete. Returns sends. */
  async runOnce(now: Date = this.#ctx.clock.now()): Promise<number> {
    const { db } = this.#ctx;
    await applySequenceEdits(db, now);
    await planLeads(db, now);
    await updateAvailability(db, now);
    let sent = 0;
    for (;;) {
      const claimed = await claimDue(db, now, this.#batch);
      if (claimed.length === 0) break;
      for (const [index, leadId] of claimed.entries()) {
        if (this.#loop.stopping) {
          await releaseClaims(db, claimed.slice(index));
          return sent;
        }
        if (await processLead(this.#ctx, this.#random, leadId, now)) sent++;
      }
    }
    // A failure may have held or revoked the last account of a campaign.
    await updateAvailability(db, now);
    await completeFinished(db, now);
    return sent;
  }
}

/**
 * The next instant after `now` at which the engine may have something to do (a step falling due, a pace or
 * window opening, a hold or lease running out), or null when nothing is waiting. Virtual time jumps there.
 */
export async function nextEngineInstant(db: Db, now: Date): Promise<Date | null> {
  const { rows } = await sql<{ at: Date | null }>`
    select min(at) as at from (
      select greatest(ca.next_send_at, al.held_until, head.next_step_at, head.claimed_until) as at
      from campaign_accounts ca
      join campaigns c on c.id = ca.campaign_id and c.status = 'active'
      join account_links al on al.id = ca.account_link_id and al.status = 'active'
      cross join lateral (
        select l.next_step_at, l.claimed_until from campaign_leads l
        where l.campaign_id = ca.campaign_id and l.account_link_id = ca.account_link_id
          and l.state in ('pending', 'active') and l.next_step_at is not null
        order by l.next_step_at, l.prospect_id limit 1
      ) head
      union all
      select al.held_until from campaigns c
      join campaign_accounts ca on ca.campaign_id = c.id
      join account_links al on al.id = ca.account_link_id
      where c.status in ('active', 'paused') and al.held_until > ${now}
    ) due where at > ${now}`.execute(db);
  const at = rows[0]?.at;
  return at ? new Date(at) : null;
}
