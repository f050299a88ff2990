import { sql } from 'kysely';
import { leadTransition } from '../core/lead-lifecycle.js';
import { spreadEvenly } from '../core/lead-progress.js';
import { writeLeadChanges } from '../store/campaign-leads.js';
import type { Db } from '../store/db.js';
import type { StoredStep } from '../core/sequence.js';
import { allowed, engineTransition } from './outcomes.js';
import type { EnginePorts } from './ports.js';

/**
 * Campaign-level passes of the engine: giving leads a sender, pausing and resuming campaigns as their
 * accounts come and go, and completing campaigns whose leads have all finished.
 */

async function stepsOf(db: Db, campaignId: string, version: number): Promise<StoredStep[]> {
  const row = await db.selectFrom('sequence_versions').select('steps').where('campaign_id', '=', campaignId).where('version', '=', version).executeTakeFirst();
  return (row?.steps ?? []) as StoredStep[];
}

/** Leads (re)assigned per campaign and pass; the rest wait for the next pass. */
const PLAN_BATCH = 5_000;

/** Why the engine paused a campaign; only these pauses does it lift by itself. */
export const PAUSE_REASONS = {
  rateLimited: 'every linked account is rate limited by the platform',
  unavailable: 'no linked account is active (offline, paused or removed)',
} as const;
const ENGINE_PAUSES: readonly string[] = Object.values(PAUSE_REASONS);

/** The campaign's accounts that can take leads (active), in the campaign's order. */
async function activeAccounts(trx: Db, campaignId: string): Promise<string[]> {
  const rows = await trx
    .selectFrom('campaign_accounts as ca')
    .innerJoin('account_links as al', 'al.id', 'ca.account_link_id')
    .select('al.id')
    .where('ca.campaign_id', '=', campaignId)
    .where('al.status', '=', 'active')
    .orderBy('ca.position')
    .execute();
  return rows.map((r) => r.id);
}

/** The distinct senders of a campaign's open leads, by skipping through the due index (one probe per sender). */
async function sendersOfOpenLeads(trx: Db, campaignId: string): Promise<string[]> {
  const { rows } = await sql<{ account_link_id: string }>`
    with recursive senders as (
      (select account_link_id from campaign_leads
        where campaign_id = ${campaignId} and state in ('pending', 'active') and account_link_id is not null
        order by account_link_id limit 1)
      union all
      select (select l.account_link_id from campaign_leads l
        where l.campaign_id = ${campaignId} and l.state in ('pending', 'active') and l.account_link_id > s.account_link_id
        order by l.account_link_id limit 1)
      from senders s where s.account_link_id is not null
    )
    select account_link_id from senders where account_link_id is not null`.execute(trx);
  return rows.map((r) => r.account_link_id);
}

/**
 * Gives every new lead of an active campaign a sender, spreading them evenly over its active accounts; a lead
 * keeps its sender for every step. Leads whose sender left the campaign or is no longer active move to the
 * remaining accounts (rebalancing) and continue from their next unsent step. A new lead is due from when it
 * entered the campaign, so leads go first come, first served, however many passes planning them takes.
 * Plans at most `batch` leads per campaign; returns whether some campaign has more waiting.
 */
export async function planLeads(db: Db, now: Date, batch = PLAN_BATCH): Promise<boolean> {
  const campaigns = await db
    .selectFrom('campaigns')
    .select(['id', 'sequence_version', 'is_rebalancing'])
    .where('status', '=', 'active')
    .orderBy('id')
    .execute();
  let more = false;
  for (const campaign of campaigns) {
    await db.transaction().execute(async (trx) => {
      const accounts = await activeAccounts(trx, campaign.id);
      if (accounts.length === 0) return;
      const departed = (await sendersOfOpenLeads(trx, campaign.id)).filter((id) => !accounts.includes(id));
      const leads = await trx
        .selectFrom('campaign_leads')
        .selectAll()
        .where('campaign_id', '=', campaign.id)
        .where((eb) =>
          eb.or([
            eb.and([eb('state', '=', 'pending'), eb('account_link_id', 'is', null)]),
            ...(departed.length > 0 ? [eb.and([eb('state', 'in', ['pending', 'active']), eb('account_link_id', 'in', departed)])] : []),
          ]),
        )
        .orderBy('created_at')
        .orderBy('prospect_id')
        .limit(batch)
        .forUpdate()
        .skipLocked()
        .execute();
      // Moving leads off departed senders may take several passes; isRebalancing shows it is under way.
      const rebalancing = departed.length > 0 && leads.length === batch;
      if (rebalancing !== campaign.is_rebalancing) {
        await trx.updateTable('campaigns').set({ is_rebalancing: rebalancing }).where('id', '=', campaign.id).execute();
      }
      if (leads.length === 0) return;
      if (leads.length === batch) more = true;
      const loads = await trx
        .selectFrom('campaign_leads')
        .select(['account_link_id', (eb) => eb.fn.countAll<number>().as('n')])
        .where('campaign_id', '=', campaign.id)
        .where('account_link_id', 'in', accounts)
        .groupBy('account_link_id')
        .execute();
      const loadOf = new Map(loads.map((l) => [l.account_link_id, Number(l.n)]));
      const chosen = spreadEvenly(accounts.map((id) => loadOf.get(id) ?? 0), leads.length);
      const changes = leads.map((lead, i) => {
        const sender = { accountLinkId: accounts[chosen[i]!]!, sequenceVersion: campaign.sequence_version, at: now };
        return { id: lead.id, set: allowed(lead, { type: lead.account_link_id === null ? 'assigned' : 'accountLost', ...sender }) };
      });
      await writeLeadChanges(trx, changes);
    });
  }
  return more;
}

/**
 * After a sequence edit, moves the leads in flight to the new version at once: each continues from its next
 * unsent rank with the new version's delays (counted from its last send), and a lead already past the new
 * version's end is completed. Leads not contacted yet simply start the new version: a lead takes the campaign's
 * version when its first step is reserved, so they are not rewritten here.
 */
export async function applySequenceEdits(db: Db, ports: EnginePorts, now: Date): Promise<void> {
  const edited = await db
    .selectFrom('campaigns')
    .selectAll()
    .where('status', 'in', ['active', 'paused'])
    .whereRef('applied_sequence_version', '<>', 'sequence_version')
    .orderBy('id')
    .execute();
  for (const campaign of edited) {
    await db.transaction().execute(async (trx) => {
      const version = campaign.sequence_version;
      const steps = await stepsOf(trx, campaign.id, version);
      const inFlight = await trx
        .selectFrom('campaign_leads')
        .selectAll()
        .where('campaign_id', '=', campaign.id)
        .where('state', '=', 'active')
        .where((eb) => eb.or([eb('sequence_version', 'is', null), eb('sequence_version', '<>', version)]))
        .orderBy('prospect_id')
        .limit(PLAN_BATCH)
        .forUpdate()
        .skipLocked()
        .execute();
      const moved = inFlight.map((lead) => ({ lead, transition: leadTransition(lead, { type: 'sequenceChanged', version, steps, at: now }) }));
      await writeLeadChanges(
        trx,
        moved.flatMap(({ lead, transition }) => (transition.ok ? [{ id: lead.id, set: transition.set }] : [])),
      );
      for (const { lead, transition } of moved) {
        if (transition.ok && transition.set.state === 'completed') await ports.runAutomations(trx, campaign, lead.prospect_id, 'completed', now);
      }
      if (inFlight.length < PLAN_BATCH) {
        await trx.updateTable('campaigns').set({ applied_sequence_version: version }).where('id', '=', campaign.id).execute();
      }
    });
  }
}

/** A campaign the engine paused (with its pauseReason) or resumed. */
export type AvailabilityChange = { campaignId: string; change: 'paused'; reason: string } | { campaignId: string; change: 'resumed' };

/**
 * Pauses active campaigns none of whose accounts can send (with the reason shown as pauseReason), and resumes
 * campaigns the engine paused once one can again. A manual pause is never lifted here. Returns what it changed.
 */
export async function updateAvailability(db: Db, ports: EnginePorts, now: Date): Promise<AvailabilityChange[]> {
  const campaigns = await db
    .selectFrom('campaigns as c')
    .select(['c.id', 'c.status'])
    .select((eb) => [
      eb
        .exists(
          eb
            .selectFrom('campaign_accounts as ca')
            .innerJoin('account_links as al', 'al.id', 'ca.account_link_id')
            .whereRef('ca.campaign_id', '=', 'c.id')
            .where('al.status', '=', 'active')
            .where((w) => w.or([w('al.held_until', 'is', null), w('al.held_until', '<=', now)])),
        )
        .as('can_send'),
      eb
        .exists(
          eb
            .selectFrom('campaign_accounts as ca')
            .innerJoin('account_links as al', 'al.id', 'ca.account_link_id')
            .whereRef('ca.campaign_id', '=', 'c.id')
            .where('al.status', '=', 'active'),
        )
        .as('has_active'),
    ])
    .where((eb) => eb.or([eb('c.status', '=', 'active'), eb.and([eb('c.status', '=', 'paused'), eb('c.pause_reason', 'in', ENGINE_PAUSES)])]))
    .orderBy('c.id')
    .execute();
  const changes: AvailabilityChange[] = [];
  for (const c of campaigns) {
    if (c.status === 'active' && !c.can_send) {
      const reason = c.has_active ? PAUSE_REASONS.rateLimited : PAUSE_REASONS.unavailable;
      if (await db.transaction().execute((trx) => engineTransition(trx, ports, c.id, 'disable', now, reason))) changes.push({ campaignId: c.id, change: 'paused', reason });
    } else if (c.status === 'paused' && c.can_send) {
      if (await db.transaction().execute((trx) => engineTransition(trx, ports, c.id, 'enable', now))) changes.push({ campaignId: c.id, change: 'resumed' });
    }
  }
  return changes;
}

/**
 * Completes active campaigns with no lead left to contact and no list sync running, as of the last lead's
 * finish within (from .. reached] (a pass over a span of virtual time notices it at the span's end). Returns
 * the campaigns it completed.
 */
export async function completeFinished(db: Db, ports: EnginePorts, from: Date, reached: Date = from): Promise<string[]> {
  const finished = await db
    .selectFrom('campaigns as c')
    .select('c.id')
    .where('c.status', '=', 'active')
    .where('c.is_syncing', '=', false)
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('campaign_leads as l').select('l.id').whereRef('l.campaign_id', '=', 'c.id').where('l.state', 'in', ['pending', 'active']))),
    )
    .orderBy('c.id')
    .execute();
  const completed: string[] = [];
  for (const { id } of finished) {
    await db.transaction().execute(async (trx) => {
      const open = await trx.selectFrom('campaign_leads').select('id').where('campaign_id', '=', id).where('state', 'in', ['pending', 'active']).limit(1).executeTakeFirst();
      if (open) return;
      const last = await trx
        .selectFrom('campaign_leads')
        .select((eb) => eb.fn.max('finished_at').as('at'))
        .where('campaign_id', '=', id)
        .where('finished_at', '<=', reached)
        .executeTakeFirst();
      const at = last?.at && new Date(last.at) > from ? new Date(last.at) : from;
      if (await engineTransition(trx, ports, id, 'complete', at)) completed.push(id);
    });
  }
  return completed;
}
