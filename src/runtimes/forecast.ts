import { sql } from 'kysely';
import { DateTime } from 'luxon';
import { getCampaignRow } from '../app/campaigns/data.js';
import type { AppContext } from '../app/context.js';
import { AppError, BusyError } from '../core/errors.js';
import { seededRandom } from '../core/random.js';
import { SandboxPlatform } from '../platforms/sandbox.js';
import { insertRows } from '../store/bulk.js';
import { openScratchStore, type Db } from '../store/db.js';
import type { Database } from '../store/schema.js';
import type { CampaignRow } from '../store/schema-campaigns.js';
import { runInVirtualTime } from '../engine/dispatcher.js';
import { sendingEngine } from './engine.js';

/**
 * GET /campaigns/v2/{id}/forecast: the engine run in virtual time on a copy of the campaign's current state
 * (its open leads, senders, sequence and the senders' last day of sends), together with the other active
 * campaigns sharing its senders (which compete for the senders' caps), on a scratch in-memory store where
 * every send succeeds and nobody replies, so every lead goes to the end of the sequence. Only the campaign's
 * own sends are reported. The engine records only the leads' progress and the send log there (no messages,
 * threads or events, which nothing reads back): 5,000 leads over 10 accounts in 7-10 s instead of 16.
 */

export interface Forecast {
  /** when the last lead would finish; null when that lies beyond the horizon or nothing can be sent */
  completedAt: string | null;
  /** sends (messages and likes) per local date in the campaign's time zone, in order, and per sending account */
  sendsPerDay: Array<{ date: string; sends: number; byAccount: Record<string, number> }>;
}

/** How far ahead a forecast looks. */
const HORIZON_DAYS = 365;
const DAY_MS = 86_400_000;

type Row = Record<string, unknown>;

/** json and jsonb columns come back parsed and go in as JSON text. */
const writable = (row: Row): Row =>
  Object.fromEntries(
    Object.entries(row).map(([key, value]) => [
      key,
      value !== null && typeof value === 'object' && !(value instanceof Date) && !(value instanceof Uint8Array) ? JSON.stringify(value) : value,
    ]),
  );

async function copy(to: Db, table: keyof Database & string, rows: readonly object[]): Promise<void> {
  await insertRows(to, table, rows.map((r) => writable(r as Row)) as never);
}

const BATCH = 1_000;

/** Runs `each` on `items` 1,000 at a time, so no statement carries an unbounded list of parameters. */
async function inBatches<T>(items: readonly T[], each: (batch: T[]) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += BATCH) await each(items.slice(i, i + BATCH));
}

/**
 * Copies what the engine reads about one campaign: the campaign (active, its current sequence applied), that
 * sequence version, its senders, its open leads and their prospects (those not copied yet, which it adds to
 * `prospectsCopied`). Returns the ids of its accounts; the accounts themselves are copied once for all campaigns.
 */
async function copyOneCampaign(from: Db, to: Db, campaign: CampaignRow, prospectsCopied: Set<string>): Promise<string[]> {
  const leads = await from.selectFrom('campaign_leads').selectAll().where('campaign_id', '=', campaign.id).where('state', 'in', ['pending', 'active']).execute();
  const senders = await from.selectFrom('campaign_accounts').selectAll().where('campaign_id', '=', campaign.id).execute();
  await copy(to, 'campaigns', [{ ...campaign, status: 'active', applied_sequence_version: campaign.sequence_version }]);
  await copy(to, 'sequence_versions', await from.selectFrom('sequence_versions').selectAll().where('campaign_id', '=', campaign.id).where('version', '=', campaign.sequence_version).execute());
  await copy(to, 'campaign_accounts', senders);
  // A prospect may be a lead of several of the copied campaigns.
  const prospectIds = [...new Set(leads.map((l) => l.prospect_id))].filter((id) => !prospectsCopied.has(id));
  await inBatches(prospectIds, async (ids) => copy(to, 'prospects', await from.selectFrom('prospects').selectAll().where('id', 'in', ids).execute()));
  for (const id of prospectIds) prospectsCopied.add(id);
  await inBatches(leads, (batch) => copy(to, 'campaign_leads', batch));
  return senders.map((s) => s.account_link_id);
}

/**
 * Copies what the engine reads to forecast one campaign, rows it refers to but never reads left out: the
 * campaign, every other active campaign of the team sharing one of its accounts (they compete for the
 * accounts' hourly and daily caps, so the engine schedules them all together), all those campaigns' accounts
 * and the accounts' sends of the last 24 hours.
 */
async function copyForecastState(from: Db, to: Db, teamId: string, campaignId: string, now: Date): Promise<void> {
  const campaign = await getCampaignRow(from, teamId, campaignId);
  // Foreign keys point at rows the engine never reads (campaigns not copied, intents): the copy skips their checks.
  await sql`set session_replication_role = replica`.execute(to);
  await copy(to, 'teams', await from.selectFrom('teams').selectAll().where('id', '=', teamId).execute());
  const prospectsCopied = new Set<string>();
  const ownAccounts = await copyOneCampaign(from, to, campaign, prospectsCopied);
  const accountIds = new Set(ownAccounts);
  if (ownAccounts.length > 0) {
    const rivals = await from
      .selectFrom('campaigns')
      .selectAll()
      .where('team_id', '=', teamId)
      .where('status', '=', 'active')
      .where('id', '<>', campaignId)
      .where('id', 'in', (eb) => eb.selectFrom('campaign_accounts').select('campaign_id').where('account_link_id', 'in', ownAccounts))
      .orderBy('id')
      .execute();
    for (const rival of rivals) for (const id of await copyOneCampaign(from, to, rival, prospectsCopied)) accountIds.add(id);
  }
  const since = new Date(now.getTime() - DAY_MS);
  await inBatches([...accountIds], async (ids) => {
    await copy(to, 'account_links', await from.selectFrom('account_links').selectAll().where('id', 'in', ids).execute());
    // As slots in the send log only: none is left for the scratch engine to reconcile.
    const sends = await from.selectFrom('send_intents').selectAll().where('account_link_id', 'in', ids).where('created_at', '>', since).execute();
    await copy(to, 'send_intents', sends.map((s) => ({ ...s, status: s.status === 'pending' ? 'sent' : s.status })));
  });
}

async function completedAt(db: Db, campaignId: string): Promise<Date | null> {
  const row = await db.selectFrom('campaigns').select('completed_at').where('id', '=', campaignId).executeTakeFirstOrThrow();
  return row.completed_at;
}

/** Nobody is waiting for the forecast any more (499, as proxies log a request its client closed). */
const abandoned = () => new AppError(499, 'FORECAST_ABANDONED', 'Every request for this forecast has gone away');

/** `stop`: aborted once nobody waits for the result; the run then ends at its next instant of virtual time. */
export async function forecastCampaign(ctx: AppContext, teamId: string, campaignId: string, stop?: AbortSignal): Promise<Forecast> {
  if (stop?.aborted) throw abandoned();
  const start = ctx.clock.now();
  const campaign = await getCampaignRow(ctx.db, teamId, campaignId);
  if (campaign.status === 'completed') return { completedAt: campaign.completed_at?.toISOString() ?? null, sendsPerDay: [] };
  const scratch = await openScratchStore();
  try {
    await copyForecastState(ctx.db, scratch.db, teamId, campaignId, start);
    let now = start;
    const clock = { now: () => now };
    const sandbox = new SandboxPlatform(scratch.db, clock);
    const engine = sendingEngine({ ...ctx, db: scratch.db, clock, platforms: { get: () => sandbox } }, seededRandom(campaignId), { recording: 'progress', stop });
    // The other campaigns may go on after this one completes; their later sends cannot change its forecast.
    await runInVirtualTime(engine, scratch.db, start, new Date(start.getTime() + HORIZON_DAYS * DAY_MS), {
      clock: { set: (at) => void (now = at) },
      done: async () => stop?.aborted === true || (await completedAt(scratch.db, campaignId)) !== null,
    });
    if (stop?.aborted) throw abandoned();
    const done = await completedAt(scratch.db, campaignId);
    const sends = await scratch.db
      .selectFrom('send_intents')
      .select(['created_at', 'account_link_id'])
      .where('campaign_id', '=', campaignId)
      .where('created_at', '>=', start)
      .orderBy('created_at')
      .execute();
    const perDay = new Map<string, { date: string; sends: number; byAccount: Record<string, number> }>();
    for (const { created_at, account_link_id } of sends) {
      const date = DateTime.fromJSDate(created_at, { zone: campaign.timezone }).toISODate()!;
      let day = perDay.get(date);
      if (!day) perDay.set(date, (day = { date, sends: 0, byAccount: {} }));
      day.sends++;
      day.byAccount[account_link_id] = (day.byAccount[account_link_id] ?? 0) + 1;
    }
    return { completedAt: done?.toISOString() ?? null, sendsPerDay: [...perDay.values()] };
  } finally {
    await scratch.close();
  }
}

/**
 * Forecasts one at a time per process: each holds a scratch store the size of its campaigns in memory and
 * keeps a core busy for as long as it runs. A request for a campaign whose forecast
 * is running or waiting shares it; at most `queue` other campaigns wait their turn, and more are refused with
 * 503 FORECAST_BUSY and a Retry-After. Once every request sharing a forecast has gone (its `gone` signal
 * aborted: the client closed the connection), the forecast stops, or never starts.
 */
export class Forecasts {
  readonly #ctx: AppContext;
  readonly #queue: number;
  /** the forecasts running or waiting, by team and campaign */
  readonly #inHand = new Map<string, InHand>();
  /** settles when the last forecast taken on has finished */
  #last: Promise<unknown> = Promise.resolve();

  constructor(ctx: AppContext, queue = ctx.config.forecastQueue) {
    this.#ctx = ctx;
    this.#queue = queue;
  }

  forecast(teamId: string, campaignId: string, gone?: AbortSignal): Promise<Forecast> {
    const key = `${teamId}:${campaignId}`;
    let entry = this.#inHand.get(key);
    if (!entry) {
      if (this.#inHand.size > this.#queue) {
        throw new BusyError('FORECAST_BUSY', `${this.#inHand.size} forecasts are running or waiting on this server; try again shortly`, 30);
      }
      const stop = new AbortController();
      const result = this.#last.then(() => forecastCampaign(this.#ctx, teamId, campaignId, stop.signal));
      const taken: InHand = { result, stop, waiting: 0 };
      const release = () => {
        if (this.#inHand.get(key) === taken) this.#inHand.delete(key);
      };
      this.#last = result.then(release, release);
      this.#inHand.set(key, (entry = taken));
    }
    const shared = entry;
    shared.waiting++;
    gone?.addEventListener(
      'abort',
      () => {
        if (--shared.waiting > 0) return;
        // A request arriving from now on starts a forecast of its own.
        if (this.#inHand.get(key) === shared) this.#inHand.delete(key);
        shared.stop.abort();
      },
      { once: true },
    );
    return shared.result;
  }
}

interface InHand {
  result: Promise<Forecast>;
  /** aborted when the last request waiting for the result has gone */
  stop: AbortController;
  waiting: number;
}
