import { sql } from 'kysely';
import type { StoredStep } from '../core/sequence.js';
import { markAccountOffline } from '../store/account-links.js';
import { writeLeadChanges } from '../store/campaign-leads.js';
import { isAnyOf, type Db } from '../store/db.js';
import type { AccountLinkRow, ProspectRow } from '../store/schema.js';
import type { CampaignLeadRow } from '../store/schema-campaigns.js';
import {
  findUnsettled,
  leaseEnds,
  markFailed,
  markSent,
  messagedLeads,
  release,
  renew,
  reserve,
  sendLogsOf,
  unsettledIntents,
  untaken,
} from '../store/send-intents.js';
import type { EnginePorts, EngineStore, PairRow } from './ports.js';

/**
 * The engine's store on the database: the tables, row locks (FOR UPDATE, SKIP LOCKED where another worker may
 * hold a row) and transactions, so any number of engines in any number of processes can share it; what the
 * engine's work makes visible goes to the use cases through `ports`.
 */
export function databaseEngineStore(db: Db, ports: EnginePorts): EngineStore<ProspectRow> {
  return {
    transaction: (work) => db.transaction().execute((trx) => work(databaseEngineStore(trx, ports))),

    campaignsToPlan: () => db.selectFrom('campaigns').select(['id', 'sequence_version', 'is_rebalancing']).where('status', '=', 'active').orderBy('id').execute(),
    activeAccounts: async (campaignId) => {
      const rows = await db
        .selectFrom('campaign_accounts as ca')
        .innerJoin('account_links as al', 'al.id', 'ca.account_link_id')
        .select('al.id')
        .where('ca.campaign_id', '=', campaignId)
        .where('al.status', '=', 'active')
        .orderBy('ca.position')
        .execute();
      return rows.map((r) => r.id);
    },
    // Skips through the due index, one probe per sender.
    sendersOfOpenLeads: async (campaignId) => {
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
        select account_link_id from senders where account_link_id is not null`.execute(db);
      return rows.map((r) => r.account_link_id);
    },
    leadsNeedingSender: (campaignId, departed, limit) =>
      db
        .selectFrom('campaign_leads')
        .selectAll()
        .where('campaign_id', '=', campaignId)
        .where((eb) =>
          eb.or([
            eb.and([eb('state', '=', 'pending'), eb('account_link_id', 'is', null)]),
            ...(departed.length > 0 ? [eb.and([eb('state', 'in', ['pending', 'active']), eb('account_link_id', 'in', departed)])] : []),
          ]),
        )
        .orderBy('created_at')
        .orderBy('prospect_id')
        .limit(limit)
        .forUpdate()
        .skipLocked()
        .execute(),
    setRebalancing: async (campaignId, rebalancing) => {
      await db.updateTable('campaigns').set({ is_rebalancing: rebalancing }).where('id', '=', campaignId).execute();
    },
    leadLoads: async (campaignId, accountIds) => {
      const loads = await db
        .selectFrom('campaign_leads')
        .select(['account_link_id', (eb) => eb.fn.countAll<number>().as('n')])
        .where('campaign_id', '=', campaignId)
        .where('account_link_id', 'in', accountIds)
        .groupBy('account_link_id')
        .execute();
      return new Map(loads.map((l) => [l.account_link_id!, Number(l.n)]));
    },
    editedCampaigns: () =>
      db.selectFrom('campaigns').selectAll().where('status', 'in', ['active', 'paused']).whereRef('applied_sequence_version', '<>', 'sequence_version').orderBy('id').execute(),
    leadsOnOtherVersions: (campaignId, version, limit) =>
      db
        .selectFrom('campaign_leads')
        .selectAll()
        .where('campaign_id', '=', campaignId)
        .where('state', '=', 'active')
        .where((eb) => eb.or([eb('sequence_version', 'is', null), eb('sequence_version', '<>', version)]))
        .orderBy('prospect_id')
        .limit(limit)
        .forUpdate()
        .skipLocked()
        .execute(),
    setAppliedSequenceVersion: async (campaignId, version) => {
      await db.updateTable('campaigns').set({ applied_sequence_version: version }).where('id', '=', campaignId).execute();
    },
    campaignAvailability: (now, enginePauses) =>
      db
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
            .$castTo<boolean>()
            .as('can_send'),
          eb
            .exists(
              eb
                .selectFrom('campaign_accounts as ca')
                .innerJoin('account_links as al', 'al.id', 'ca.account_link_id')
                .whereRef('ca.campaign_id', '=', 'c.id')
                .where('al.status', '=', 'active'),
            )
            .$castTo<boolean>()
            .as('has_active'),
        ])
        .where((eb) => eb.or([eb('c.status', '=', 'active'), eb.and([eb('c.status', '=', 'paused'), eb('c.pause_reason', 'in', enginePauses)])]))
        .orderBy('c.id')
        .execute(),
    finishedCampaigns: async () => {
      const rows = await db
        .selectFrom('campaigns as c')
        .select('c.id')
        .where('c.status', '=', 'active')
        .where('c.is_syncing', '=', false)
        .where(({ not, exists, selectFrom }) =>
          not(exists(selectFrom('campaign_leads as l').select('l.id').whereRef('l.campaign_id', '=', 'c.id').where('l.state', 'in', ['pending', 'active']))),
        )
        .orderBy('c.id')
        .execute();
      return rows.map((r) => r.id);
    },
    hasOpenLeads: async (campaignId) =>
      (await db.selectFrom('campaign_leads').select('id').where('campaign_id', '=', campaignId).where('state', 'in', ['pending', 'active']).limit(1).executeTakeFirst()) !==
      undefined,
    lastFinish: async (campaignId, reached) => {
      const last = await db
        .selectFrom('campaign_leads')
        .select((eb) => eb.fn.max('finished_at').as('at'))
        .where('campaign_id', '=', campaignId)
        .where('finished_at', '<=', reached)
        .executeTakeFirst();
      return last?.at ? new Date(last.at) : null;
    },
    moveCampaign: async (campaignId, action, at, pauseReason) => {
      const row = await db.selectFrom('campaigns').selectAll().where('id', '=', campaignId).forUpdate().executeTakeFirstOrThrow();
      return (await ports.applyLifecycle(db, row, action, at, pauseReason)).ok;
    },

    lockAccounts: (from, until, limit) => lockAccounts(db, from, until, limit),
    activePairs: async (accountIds, until) =>
      (await db
        .selectFrom('campaign_accounts as ca')
        .innerJoin('campaigns as c', 'c.id', 'ca.campaign_id')
        .selectAll('c')
        .select('ca.account_link_id')
        .where('ca.account_link_id', 'in', accountIds)
        .where('c.status', '=', 'active')
        .where((w) => w.or([w('ca.next_send_at', 'is', null), w('ca.next_send_at', '<=', until)]))
        .orderBy('c.id')
        .execute()) as PairRow[],
    findUnsettled: (accountIds, from) => findUnsettled(db, accountIds, from),
    loadQueues: (pairs, perQueue, from, until) => loadQueues(db, pairs, perQueue, from, until),
    leadsByIds: (ids) => db.selectFrom('campaign_leads').selectAll().where(isAnyOf('id', ids)).execute(),
    campaignsByIds: (ids) => db.selectFrom('campaigns').selectAll().where('id', 'in', ids).execute(),
    stepsByVersion: (keys) => stepsByVersion(db, keys),
    sendLogsOf: (accountIds, since) => sendLogsOf(db, accountIds, since),
    prospectsByIds: (ids) => db.selectFrom('prospects').selectAll().where(isAnyOf('id', ids)).execute(),
    reserve: (intents) => reserve(db, intents),
    renew: (intents, until) => renew(db, intents, until),
    writeLeadChanges: (changes) => writeLeadChanges(db, changes),
    setPaceGates: async (gates) => {
      await sql`
        update campaign_accounts ca set next_send_at = g.at
        from (values ${sql.join(gates.map((g) => sql`(${g.campaignId}::text, ${g.accountId}::text, ${g.at}::timestamptz)`))}) as g(campaign_id, account_link_id, at)
        where ca.campaign_id = g.campaign_id and ca.account_link_id = g.account_link_id`.execute(db);
    },
    stillWanted: async (leadIds) => {
      const rows = await db
        .selectFrom('campaign_leads as l')
        .innerJoin('campaigns as c', 'c.id', 'l.campaign_id')
        .select('l.id')
        .where(isAnyOf('l.id', leadIds))
        .where('l.state', 'in', ['pending', 'active'])
        .where('c.status', '=', 'active')
        .execute();
      return new Set(rows.map((r) => r.id));
    },

    lockLeads: (ids) => db.selectFrom('campaign_leads').selectAll().where(isAnyOf('id', ids)).forUpdate().execute(),
    markSent: (sent) => markSent(db, sent),
    markFailed: (intent) => markFailed(db, intent),
    release: (intent) => release(db, intent),
    messagedLeads: (leadIds) => messagedLeads(db, leadIds),
    markAccountOffline: (accountId, at) => markAccountOffline(db, accountId, at),
    holdAccount: async (accountId, until) => {
      await db.updateTable('account_links').set({ held_until: until }).where('id', '=', accountId).execute();
    },
    clearPaceGate: async (campaignId, accountId) => {
      await db.updateTable('campaign_accounts').set({ next_send_at: null }).where('campaign_id', '=', campaignId).where('account_link_id', '=', accountId).execute();
    },
    recordSends: (sends, failures, from, writeProgress) => ports.recordSends(db, sends, failures, from, writeProgress),
    runAutomations: (campaign, prospectId, trigger, now) => ports.runAutomations(db, campaign, prospectId, trigger, now),

    nextHoldExpiry: async (now) => {
      const { rows } = await sql<{ at: Date | null }>`select min(at) as at from (${holdsEndingAfter(now)}) holds`.execute(db);
      const at = rows[0]?.at;
      return at ? new Date(at) : null;
    },
    nextInstant: (now) => nextEngineInstant(db, now),
  };
}

/** Accounts with due work, locked; at most `limit` of them (null: all). */
async function lockAccounts(trx: Db, from: Date, until: Date, limit: number | null): Promise<AccountLinkRow[]> {
  const { rows } = await sql<AccountLinkRow>`
    select al.* from account_links al
    where al.status = 'active' and (al.held_until is null or al.held_until <= ${until})
      and (exists (${unsettledIntents(from)} and i.account_link_id = al.id) or exists (
        select 1 from campaign_accounts ca
        join campaigns c on c.id = ca.campaign_id and c.status = 'active'
        where ca.account_link_id = al.id and (ca.next_send_at is null or ca.next_send_at <= ${until})
          and exists (
            select 1 from campaign_leads l
            where l.campaign_id = ca.campaign_id and l.account_link_id = al.id and l.state in ('pending', 'active')
              and l.next_step_at <= ${until} and ${untaken})))
    order by al.id
    ${limit === null ? sql`` : sql`limit ${limit}`}
    for update of al skip locked`.execute(trx);
  return rows;
}

/**
 * The heads of every (campaign, account) queue of the locked accounts: of each kind (follow-ups, first touches)
 * the due leads soonest first, up to `perQueue` + 1 (the one more tells that more wait).
 */
export async function loadQueues(trx: Db, pairs: readonly PairRow[], perQueue: number, from: Date, until: Date): Promise<CampaignLeadRow[]> {
  if (pairs.length === 0) return [];
  const kind = (followUps: boolean) => sql`
    select * from campaign_leads l
    where l.campaign_id = q.campaign_id and l.account_link_id = q.account_link_id and l.state in ('pending', 'active')
      and ${followUps ? sql`l.next_rank > 0` : sql`l.next_rank = 0`} and l.next_step_at <= ${until} and ${untaken}
    order by l.next_step_at, l.prospect_id
    limit ${perQueue + 1}`;
  const { rows } = await sql<CampaignLeadRow>`
    select l.* from unnest(${pairs.map((p) => p.id)}::text[], ${pairs.map((p) => p.account_link_id)}::text[]) as q(campaign_id, account_link_id)
    cross join lateral ((${kind(true)}) union all (${kind(false)})) l`.execute(trx);
  return rows;
}

export async function stepsByVersion(trx: Db, keys: ReadonlyArray<{ campaignId: string; version: number }>): Promise<Map<string, StoredStep[]>> {
  if (keys.length === 0) return new Map();
  const rows = await trx
    .selectFrom('sequence_versions')
    .select(['campaign_id', 'version', 'steps'])
    .where('campaign_id', 'in', [...new Set(keys.map((k) => k.campaignId))])
    .where('version', 'in', [...new Set(keys.map((k) => k.version))])
    .execute();
  return new Map(rows.map((r) => [`${r.campaign_id}:${r.version}`, r.steps as StoredStep[]]));
}

/** The holds on accounts of active or paused campaigns that run out after `now` (a campaign may resume then). */
const holdsEndingAfter = (now: Date) => sql<{ at: Date }>`
  select al.held_until as at from campaigns c
  join campaign_accounts ca on ca.campaign_id = c.id
  join account_links al on al.id = ca.account_link_id
  where c.status in ('active', 'paused') and al.held_until > ${now}`;

/**
 * The next instant after `now` at which the engine may have something to do (a step falling due, a pace or
 * window opening, a hold or lease running out), or null when nothing is waiting. Virtual time jumps there.
 */
export async function nextEngineInstant(db: Db, now: Date): Promise<Date | null> {
  const { rows } = await sql<{ at: Date | null }>`
    select min(at) as at from (
      select greatest(ca.next_send_at, al.held_until, head.next_step_at) as at
      from campaign_accounts ca
      join campaigns c on c.id = ca.campaign_id and c.status = 'active'
      join account_links al on al.id = ca.account_link_id and al.status = 'active'
      cross join lateral (
        select l.next_step_at from campaign_leads l
        where l.campaign_id = ca.campaign_id and l.account_link_id = ca.account_link_id
          and l.state in ('pending', 'active') and l.next_step_at is not null
        order by l.next_step_at, l.prospect_id limit 1
      ) head
      union all
      -- a send in flight, or one a crash left unconfirmed, once its lease runs out
      ${leaseEnds}
      union all
      ${holdsEndingAfter(now)}
    ) due where at > ${now}`.execute(db);
  const at = rows[0]?.at;
  return at ? new Date(at) : null;
}
