import { sql } from 'kysely';
import type { Db } from '../../store/db.js';
import { applyScope, gatherCandidates, lookUpReachability, scopeOf, type CampaignScope } from './scope.js';
import type { AppContext } from '../context.js';
import { enqueueJob, type JobHandler, type RunningJob } from '../workers/jobs.js';

/**
 * The campaign-sync job: applies a campaign's lead rules to its candidates (the leads of its synced
 * lists and the leads it has) in batches of prospects, keyset by prospect id, each batch one short
 * transaction. A full sync (rules saved) walks every candidate and counts them in scopeAssessedCount;
 * a targeted sync (list membership changed) assesses only the prospects named. is_syncing is set
 * when a sync is requested and cleared by the last sync job of the campaign to finish.
 */

export const CAMPAIGN_SYNC = 'campaign-sync';

/** Prospects per transaction: large enough to amortise round trips, small enough to keep locks short. */
const BATCH = 1_000;
/** A targeted request naming more prospects than this becomes a full sync (bounded job payloads). */
const MAX_TARGETED = 10_000;

type SyncPayload = {
  full?: boolean;
  prospectIds?: string[];
  /** checkpoint: every candidate up to this prospect id is done */
  after?: string;
};

export type SyncRequest = { full: true } | { prospectIds: readonly string[] };

/** A queued request and a new one as one: full absorbs everything; too many prospects make it full. */
function merge(queued: SyncPayload, request: SyncRequest): SyncPayload {
  if (queued.full || 'full' in request) return { full: true };
  const ids = [...new Set([...(queued.prospectIds ?? []), ...request.prospectIds])];
  return ids.length > MAX_TARGETED ? { full: true } : { prospectIds: ids };
}

/**
 * Asks for a sync of these campaigns, in the caller's transaction. Requests coalesce: while a sync job
 * of the campaign is still queued, a newer request joins it instead of adding another.
 */
export async function requestCampaignSync(trx: Db, teamId: string, campaignIds: readonly string[], request: SyncRequest, now: Date): Promise<void> {
  if (campaignIds.length === 0) return;
  const queued = await trx
    .selectFrom('jobs')
    .select(['id', 'subject_id', 'payload'])
    .where('kind', '=', CAMPAIGN_SYNC)
    .where('subject_id', 'in', campaignIds)
    .where('status', '=', 'queued')
    .forUpdate()
    .execute();
  for (const campaignId of campaignIds) {
    const job = queued.find((j) => j.subject_id === campaignId);
    if (job) {
      await trx.updateTable('jobs').set({ payload: JSON.stringify(merge(job.payload, request)) }).where('id', '=', job.id).execute();
    } else {
      await enqueueJob(trx, { teamId, kind: CAMPAIGN_SYNC, subjectId: campaignId, payload: merge({}, request) }, now);
    }
  }
  await trx.updateTable('campaigns').set({ is_syncing: true }).where('id', 'in', campaignIds).execute();
}

/**
 * Hook for the list-leads use cases: these prospects joined or left a list (or its values changed),
 * so every unfinished campaign whose rules name the list re-assesses them.
 */
export async function listMembershipChanged(trx: Db, teamId: string, listId: string, prospectIds: readonly string[], now: Date): Promise<void> {
  if (prospectIds.length === 0) return;
  const campaigns = await trx
    .selectFrom('campaign_list_rules as r')
    .innerJoin('campaigns as c', 'c.id', 'r.campaign_id')
    .select('c.id')
    .where('r.list_id', '=', listId)
    .where('c.status', '!=', 'completed')
    .execute();
  await requestCampaignSync(trx, teamId, campaigns.map((c) => c.id), { prospectIds }, now);
}

/** The next batch of candidates after the checkpoint, in prospect id order. */
async function nextCandidates(db: Db, scope: CampaignScope, payload: SyncPayload): Promise<string[]> {
  const after = payload.after ?? '';
  if (!payload.full) {
    return [...new Set(payload.prospectIds ?? [])].filter((id) => id > after).sort().slice(0, BATCH);
  }
  // Each branch reads at most one batch through its index; the union of the branches holds the next batch.
  const branches = [
    ...[...scope.synced.keys()].map(
      (listId) => sql`(select prospect_id from list_leads where list_id = ${listId} and prospect_id > ${after} order by prospect_id limit ${BATCH})`,
    ),
    sql`(select prospect_id from campaign_leads where campaign_id = ${scope.campaignId} and prospect_id > ${after} order by prospect_id limit ${BATCH})`,
  ];
  const { rows } = await sql<{ prospect_id: string }>`
    select prospect_id from (${sql.join(branches, sql` union `)}) as candidates order by prospect_id limit ${BATCH}
  `.execute(db);
  return rows.map((r) => r.prospect_id);
}

/** Whether a full sync asked for after this job began will redo its work anyway. */
async function superseded(trx: Db, job: RunningJob): Promise<boolean> {
  const newer = await trx
    .selectFrom('jobs as other')
    .innerJoin('jobs as me', (join) => join.on('me.id', '=', job.id))
    .select('other.id')
    .where('other.kind', '=', CAMPAIGN_SYNC)
    .where('other.subject_id', '=', job.subjectId)
    .where('other.status', 'in', ['queued', 'running'])
    .where('other.id', '!=', job.id)
    .where(sql<boolean>`other.payload @> '{"full": true}'::jsonb`)
    .whereRef('other.created_at', '>', 'me.created_at')
    .executeTakeFirst();
  return newer !== undefined;
}

/** Clears is_syncing unless another sync of the campaign is still to run (also when a sync fails for good). */
export async function finishSync(trx: Db, job: RunningJob): Promise<void> {
  await trx
    .updateTable('campaigns')
    .set({ is_syncing: false })
    .where('id', '=', job.subjectId)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('jobs')
            .select('id')
            .where('kind', '=', CAMPAIGN_SYNC)
            .where('subject_id', '=', job.subjectId)
            .where('status', 'in', ['queued', 'running'])
            .where('id', '!=', job.id),
        ),
      ),
    )
    .execute();
}

export const runCampaignSync: JobHandler = async (ctx: AppContext, job: RunningJob) => {
  for (;;) {
    const payload = job.payload as SyncPayload;
    const campaign = await ctx.db.selectFrom('campaigns').selectAll().where('id', '=', job.subjectId).executeTakeFirst();
    if (!campaign) return;
    // Reading and asking the platform happen before the transaction, so it stays short.
    const ids = await nextCandidates(ctx.db, await scopeOf(ctx.db, campaign), payload);
    const prospects = ids.length === 0 ? [] : await ctx.db.selectFrom('prospects').select(['id', 'platform', 'platform_id']).where('id', 'in', ids).execute();
    const reachability = await lookUpReachability(ctx, campaign.team_id, prospects);
    let done = false;
    const ran = await job.batch(async (trx) => {
      const locked = await trx.selectFrom('campaigns').selectAll().where('id', '=', job.subjectId).forUpdate().executeTakeFirst();
      if (!locked || (await superseded(trx, job))) {
        done = true;
        return payload;
      }
      const scope = await scopeOf(trx, locked);
      const candidates = await gatherCandidates(trx, scope, prospects.map((p) => p.id), reachability);
      await applyScope(trx, scope, candidates, ctx.clock.now());
      if (payload.full) {
        // A full pass counts from zero at its first batch.
        const assessed = payload.after === undefined ? sql<number>`${ids.length}::int` : sql<number>`scope_assessed_count + ${ids.length}::int`;
        await trx.updateTable('campaigns').set({ scope_assessed_count: assessed }).where('id', '=', job.subjectId).execute();
      }
      if (ids.length < BATCH) {
        done = true;
        await finishSync(trx, job);
      }
      return { ...payload, after: ids.at(-1) ?? payload.after };
    });
    if (!ran || done) return;
  }
};
