import { sql } from 'kysely';
import { DateTime } from 'luxon';
import { getCampaignRow } from '../app/campaign-data.js';
import type { AppContext } from '../app/context.js';
import { seededRandom } from '../core/random.js';
import { SandboxPlatform } from '../platforms/sandbox.js';
import { migrateToLatest, openStore, type Db } from '../store/db.js';
import type { Database } from '../store/schema.js';
import { Dispatcher, nextEngineInstant } from './dispatcher.js';

/**
 * GET /campaigns/v2/{id}/forecast: the engine run in virtual time on a copy of the campaign's current state
 * (its open leads, senders, sequence and the senders' last day of sends), on a scratch in-memory store where
 * every send succeeds and nobody replies, so every lead goes to the end of the sequence.
 */

export interface Forecast {
  /** when the last lead would finish; null when that lies beyond the horizon or nothing can be sent */
  completedAt: string | null;
  /** sends (messages and likes) per local date in the campaign's time zone, in order */
  sendsPerDay: Array<{ date: string; sends: number }>;
}

/** How far ahead a forecast looks. */
const HORIZON_DAYS = 365;
const DAY_MS = 86_400_000;

type Row = Record<string, unknown>;

/** jsonb columns come back parsed and go in as JSON text. */
const writable = (row: Row): Row =>
  Object.fromEntries(
    Object.entries(row).map(([key, value]) => [
      key,
      value !== null && typeof value === 'object' && !(value instanceof Date) && !(value instanceof Uint8Array) ? JSON.stringify(value) : value,
    ]),
  );

async function copy(to: Db, table: keyof Database, rows: readonly object[]): Promise<void> {
  if (rows.length > 0) await to.insertInto(table).values(rows.map((r) => writable(r as Row)) as never).execute();
}

/** Copies what the engine reads about one campaign; rows it refers to but never reads are left out. */
async function copyCampaign(from: Db, to: Db, teamId: string, campaignId: string, now: Date): Promise<void> {
  const campaign = await getCampaignRow(from, teamId, campaignId);
  const leads = await from.selectFrom('campaign_leads').selectAll().where('campaign_id', '=', campaignId).where('state', 'in', ['pending', 'active']).execute();
  const senders = await from.selectFrom('campaign_accounts').selectAll().where('campaign_id', '=', campaignId).execute();
  const accountIds = senders.map((s) => s.account_link_id);
  const prospectIds = leads.map((l) => l.prospect_id);
  // Foreign keys point at rows the engine never reads (other campaigns, intents): the copy skips their checks.
  await sql`set session_replication_role = replica`.execute(to);
  await copy(to, 'teams', await from.selectFrom('teams').selectAll().where('id', '=', teamId).execute());
  await copy(to, 'campaigns', [{ ...campaign, status: campaign.status === 'completed' ? 'completed' : 'active', applied_sequence_version: campaign.sequence_version }]);
  await copy(to, 'sequence_versions', await from.selectFrom('sequence_versions').selectAll().where('campaign_id', '=', campaignId).where('version', '=', campaign.sequence_version).execute());
  await copy(to, 'campaign_accounts', senders);
  if (accountIds.length > 0) {
    await copy(to, 'account_links', await from.selectFrom('account_links').selectAll().where('id', 'in', accountIds).execute());
    const since = new Date(now.getTime() - DAY_MS);
    await copy(to, 'account_sends', await from.selectFrom('account_sends').selectAll().where('account_link_id', 'in', accountIds).where('sent_at', '>', since).execute());
  }
  for (let i = 0; i < prospectIds.length; i += 1_000) {
    await copy(to, 'prospects', await from.selectFrom('prospects').selectAll().where('id', 'in', prospectIds.slice(i, i + 1_000)).execute());
  }
  await copy(to, 'campaign_leads', leads.map((l) => ({ ...l, claimed_until: null })));
}

export async function forecastCampaign(ctx: AppContext, teamId: string, campaignId: string): Promise<Forecast> {
  const start = ctx.clock.now();
  const campaign = await getCampaignRow(ctx.db, teamId, campaignId);
  if (campaign.status === 'completed') return { completedAt: campaign.completed_at?.toISOString() ?? null, sendsPerDay: [] };
  const scratch = await openStore({ kind: 'pglite-memory' });
  try {
    await migrateToLatest(scratch.db);
    await copyCampaign(ctx.db, scratch.db, teamId, campaignId, start);
    let now = start;
    const clock = { now: () => now };
    const sandbox = new SandboxPlatform(scratch.db, clock);
    const engine = new Dispatcher({ ...ctx, db: scratch.db, clock, platforms: { get: () => sandbox } }, seededRandom(campaignId));
    const horizon = start.getTime() + HORIZON_DAYS * DAY_MS;
    for (;;) {
      await engine.runOnce(now);
      const next = await nextEngineInstant(scratch.db, now);
      if (!next || next.getTime() > horizon) break;
      now = next;
    }
    const done = await scratch.db.selectFrom('campaigns').select('completed_at').where('id', '=', campaignId).executeTakeFirstOrThrow();
    const sends = await scratch.db.selectFrom('account_sends').select('sent_at').where('campaign_id', '=', campaignId).where('sent_at', '>=', start).orderBy('sent_at').execute();
    const perDay = new Map<string, number>();
    for (const { sent_at } of sends) {
      const date = DateTime.fromJSDate(sent_at, { zone: campaign.timezone }).toISODate()!;
      perDay.set(date, (perDay.get(date) ?? 0) + 1);
    }
    return { completedAt: done.completed_at?.toISOString() ?? null, sendsPerDay: [...perDay].map(([date, n]) => ({ date, sends: n })) };
  } finally {
    await scratch.close();
  }
}
