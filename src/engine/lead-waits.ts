import { sql } from 'kysely';
import { isRunning } from '../core/lead-lifecycle.js';
import { DAY_MS } from '../core/pacing.js';
import type { Random } from '../core/random.js';
import { explainWaits, NOT_WAITING, type LeadWait } from '../core/waiting.js';
import type { Db } from '../store/db.js';
import type { AccountLinkRow } from '../store/schema.js';
import type { CampaignLeadRow, CampaignRow } from '../store/schema-campaigns.js';
import { accountState, senderQueue } from './dispatch.js';
import { loadQueues, stepsByVersion } from './database-store.js';
import type { PairRow } from './ports.js';
import { sendLogsOf } from '../store/send-intents.js';
import { PAUSE_REASONS } from './plan.js';

/**
 * A campaign lead's nextSendAt and waitingFor: the engine's planning inputs for the lead's sender loaded as a
 * batch loads them (dispatch.ts), and the plan from now explained by core/waiting.
 */

/** How far ahead the plan looks. */
const HORIZON_MS = 366 * DAY_MS;
/** Leads loaded per (campaign, account) queue: a lead further back is queued behind the count before it. */
const LEADS_PER_QUEUE = 500;

/** The waits of `leads`, all of `campaign`, as of `now`. */
export async function leadWaits(db: Db, random: Random, now: Date, campaign: CampaignRow, leads: readonly CampaignLeadRow[]): Promise<Map<string, LeadWait>> {
  const waits = new Map<string, LeadWait>(leads.map((l) => [l.id, NOT_WAITING]));
  const open = leads.filter((lead) => isRunning(lead.state));
  if (open.length === 0) return waits;
  const byEngine = campaign.status === 'paused' && Object.values<string | null>(PAUSE_REASONS).includes(campaign.pause_reason);
  if (campaign.status !== 'active' && !byEngine) {
    for (const lead of open) waits.set(lead.id, { nextSendAt: null, waitingFor: { reason: 'campaignPaused', until: null } });
    return waits;
  }
  const accountIds = [...new Set(open.flatMap((l) => (l.account_link_id ? [l.account_link_id] : [])))];
  const accounts = new Map(
    accountIds.length === 0 ? [] : (await db.selectFrom('account_links').selectAll().where('id', 'in', accountIds).execute()).map((a) => [a.id, a]),
  );
  const senderRows = await db
    .selectFrom('campaign_accounts as ca')
    .innerJoin('account_links as al', 'al.id', 'ca.account_link_id')
    .select(['ca.account_link_id', 'al.status'])
    .where('ca.campaign_id', '=', campaign.id)
    .execute();
  // Read off the accounts rather than the campaign's pause: between someone pausing (or resuming) the last sender
  // and the engine's next pass, the campaign's status still says what was.
  if (!senderRows.some((r) => r.status === 'active')) {
    // No sender is active: the engine pauses the campaign, and someone has to bring one back.
    for (const lead of open) {
      const status = accounts.get(lead.account_link_id ?? '')?.status;
      waits.set(lead.id, { nextSendAt: null, waitingFor: { reason: 'accountUnavailable', until: null, accountStatus: status === 'paused' ? 'paused' : 'offline' } });
    }
    return waits;
  }
  const senders = new Set(senderRows.map((r) => r.account_link_id));
  const inFlight = new Map(
    (await db.selectFrom('send_intents').select(['lead_id', 'created_at']).where('lead_id', 'in', open.map((l) => l.id)).where('status', '=', 'pending').execute()).map(
      (i) => [i.lead_id, i.created_at],
    ),
  );
  const until = new Date(now.getTime() + HORIZON_MS);
  const planned = new Map<string, CampaignLeadRow[]>();
  for (const lead of open) {
    const sending = inFlight.get(lead.id);
    const account = lead.account_link_id ? accounts.get(lead.account_link_id) : undefined;
    if (sending) waits.set(lead.id, { nextSendAt: sending, waitingFor: null });
    // A new lead, or one whose sender left the campaign or went offline: the engine's next pass gives it a sender.
    else if (!account || account.status !== 'active' || !senders.has(account.id)) waits.set(lead.id, { nextSendAt: null, waitingFor: { reason: 'queued', until: null, ahead: 0 } });
    else if (lead.next_step_at! > until) waits.set(lead.id, { nextSendAt: null, waitingFor: { reason: 'delay', until: lead.next_step_at! } });
    else planned.set(account.id, [...(planned.get(account.id) ?? []), lead]);
  }
  for (const [id, wait] of await plannedWaits(db, random, now, until, campaign.id, [...planned].map(([id, targets]) => ({ account: accounts.get(id)!, targets })))) {
    waits.set(id, wait);
  }
  return waits;
}

/** The waits of `targets`, leads of `campaignId` grouped by sender, from each sender's plan; a few statements in all. */
async function plannedWaits(
  db: Db,
  random: Random,
  now: Date,
  until: Date,
  campaignId: string,
  senders: ReadonlyArray<{ account: AccountLinkRow; targets: readonly CampaignLeadRow[] }>,
): Promise<Map<string, LeadWait>> {
  const waits = new Map<string, LeadWait>();
  const ahead = await aheadCounts(db, senders.flatMap((s) => s.targets));
  const queued = (lead: CampaignLeadRow): LeadWait => ({ nextSendAt: null, waitingFor: { reason: 'queued', until: null, ahead: ahead.get(lead.id)! } });
  // A lead further back than a queue's load is out of the plan's reach: only its place is told.
  const reachable = senders.flatMap(({ account, targets }) => {
    for (const lead of targets) if (ahead.get(lead.id)! >= LEADS_PER_QUEUE) waits.set(lead.id, queued(lead));
    const near = targets.filter((t) => !waits.has(t.id));
    return near.length > 0 ? [{ account, targets: near }] : [];
  });
  if (reachable.length === 0) return waits;
  const accountIds = reachable.map((s) => s.account.id);
  // The campaigns the engine plans on these accounts: the active ones, and those it paused for the platform's
  // rate limit, which it resumes when the hold runs out.
  const pairs = (await db
    .selectFrom('campaign_accounts as ca')
    .innerJoin('campaigns as c', 'c.id', 'ca.campaign_id')
    .selectAll('c')
    .select('ca.account_link_id')
    .where('ca.account_link_id', 'in', accountIds)
    .where((w) => w.or([w('c.status', '=', 'active'), w.and([w('c.status', '=', 'paused'), w('c.pause_reason', '=', PAUSE_REASONS.rateLimited)])]))
    .orderBy('c.id')
    .execute()) as PairRow[];
  // The targets' own queues are loaded only as far as the last target: each plan is exact up to its send.
  const ownLoad = Math.max(...reachable.flatMap((s) => s.targets.map((t) => ahead.get(t.id)!))) + 1;
  const loadOf = (pair: PairRow) => (pair.id === campaignId ? ownLoad : LEADS_PER_QUEUE);
  const loaded = [
    ...(await loadQueues(db, pairs.filter((p) => p.id === campaignId), ownLoad, now, until)),
    ...(await loadQueues(db, pairs.filter((p) => p.id !== campaignId), LEADS_PER_QUEUE, now, until)),
  ];
  const steps = await stepsByVersion(db, pairs.map((p) => ({ campaignId: p.id, version: p.sequence_version })));
  const sendLogs = await sendLogsOf(db, accountIds, new Date(now.getTime() - DAY_MS));
  for (const { account, targets } of reachable) {
    const queues = pairs
      .filter((pair) => pair.account_link_id === account.id)
      .map((pair) => {
        const own = loaded.filter((l) => l.campaign_id === pair.id && l.account_link_id === account.id);
        return senderQueue(pair, steps.get(`${pair.id}:${pair.sequence_version}`) ?? [], own, loadOf(pair), new Set());
      });
    const planned = explainWaits(accountState(account, sendLogs), queues, now, until, random, new Set(targets.map((t) => t.id)));
    for (const target of targets) waits.set(target.id, planned.get(target.id) ?? queued(target));
  }
  return waits;
}

/**
 * For each lead, how many leads of its (campaign, account) queue go before it: of its own kind (follow-up or first
 * touch) those due earlier, or as early with a lower prospect id; and before a first touch, every follow-up due
 * by its time too (follow-ups go first).
 */
async function aheadCounts(db: Db, leads: readonly CampaignLeadRow[]): Promise<Map<string, number>> {
  if (leads.length === 0) return new Map();
  const { rows } = await sql<{ id: string; n: number | string }>`
    select t.id, (
      select count(*) from campaign_leads l
      where l.campaign_id = t.campaign_id and l.account_link_id = t.account_link_id and l.state in ('pending', 'active')
        and (((l.next_rank > 0) = (t.next_rank > 0) and (l.next_step_at, l.prospect_id) < (t.next_step_at, t.prospect_id))
          or (t.next_rank = 0 and l.next_rank > 0 and l.next_step_at <= t.next_step_at))
    ) as n
    from unnest(${leads.map((l) => l.id)}::text[], ${leads.map((l) => l.campaign_id)}::text[], ${leads.map((l) => l.account_link_id)}::text[],
                ${leads.map((l) => l.next_step_at)}::timestamptz[], ${leads.map((l) => l.prospect_id)}::text[], ${leads.map((l) => l.next_rank)}::int[])
      as t(id, campaign_id, account_link_id, next_step_at, prospect_id, next_rank)`.execute(db);
  return new Map(rows.map((r) => [r.id, Number(r.n)]));
}
