import { sql } from 'kysely';
import { DateTime } from 'luxon';
import { getCampaignRow } from '../app/campaigns/data.js';
import type { AppContext } from '../app/context.js';
import { ENGINE_PROSPECT_COLUMNS, type EngineProspect } from '../core/campaign-sends.js';
import { AppError, BusyError } from '../core/errors.js';
import { seededRandom } from '../core/random.js';
import { SandboxPlatform } from '../platforms/sandbox.js';
import { insertRows } from '../store/bulk.js';
import { openScratchStore, type Db } from '../store/db.js';
import type { Database, ProspectRow, TeamRow } from '../store/schema.js';
import type { CampaignRow } from '../store/schema-campaigns.js';
import type { CampaignIntentRow } from '../store/schema-engine.js';
import { runInVirtualTime } from '../engine/dispatcher.js';
import type { EngineState } from '../engine/memory-store.js';
import { memoryEngine, sendingEngine } from './engine.js';

/**
 * GET /campaigns/v2/{id}/forecast: the engine run in virtual time on a copy of the campaign's current state
 * (its open leads, senders, sequence and the senders' last day of sends), together with the other active
 * campaigns sharing its senders (which compete for the senders' caps), where every send succeeds and nobody
 * replies, so every lead goes to the end of the sequence. Only the campaign's own sends are reported. The copy
 * is the engine's memory store (engine/memory-store.ts): the same engine code as on the database, recording only
 * the leads' progress and the send log, at 20,000 leads over 10 accounts in about a second instead of the 30 s
 * of the scratch database it used to run on (bench:engine; `database` runs it there still, for comparison).
 */

export interface Forecast {
  /** when the last lead would finish; null when that lies beyond the horizon or nothing can be sent */
  completedAt: string | null;
  /** sends (messages and likes) per local date in the campaign's time zone, in order, and per sending account */
  sendsPerDay: Array<{ date: string; sends: number; byAccount: Record<string, number> }>;
}

/** Where a forecast's engine runs: its memory store, or (the old way, for comparison) a scratch database. */
export type ForecastStore = 'memory' | 'database';

/** How far ahead a forecast looks. */
const HORIZON_DAYS = 365;
const DAY_MS = 86_400_000;

/**
 * The engine's state a forecast copies, and the team it belongs to (which a scratch database's rows refer to); of
 * the prospects, the engine's columns and the platform (which a scratch database's rows need besides).
 */
export interface ForecastCopy extends EngineState {
  team: TeamRow;
  prospects: Array<EngineProspect & Pick<ProspectRow, 'platform'>>;
}

const BATCH = 1_000;

/** Appends `rows` one by one (a spread of a hundred thousand arguments would overflow the stack). */
function append<T>(to: T[], rows: readonly T[]): void {
  for (const row of rows) to.push(row);
}

/** Reads `ids` 1,000 at a time, so no statement carries an unbounded list of parameters. */
async function inBatches<T, R>(ids: readonly T[], read: (batch: T[]) => Promise<R[]>): Promise<R[]> {
  const rows: R[] = [];
  for (let i = 0; i < ids.length; i += BATCH) append(rows, await read(ids.slice(i, i + BATCH)));
  return rows;
}

/**
 * What the engine reads to forecast one campaign, rows it refers to but never reads left out: the campaign
 * (active, its current sequence applied), every other active campaign of the team sharing one of its accounts
 * (they compete for the accounts' hourly and daily caps, so the engine schedules them all together), each with
 * its current sequence version, senders, open leads and their prospects; all those campaigns' accounts and the
 * accounts' campaign sends of the last 24 hours, as slots in the send log only (none left pending, for the
 * engine to reconcile).
 */
export async function forecastCopy(from: Db, teamId: string, campaignId: string, now: Date): Promise<ForecastCopy> {
  const campaign = await getCampaignRow(from, teamId, campaignId);
  const team = await from.selectFrom('teams').selectAll().where('id', '=', teamId).executeTakeFirstOrThrow();
  const copy: ForecastCopy = { team, campaigns: [], sequenceVersions: [], campaignAccounts: [], accounts: [], leads: [], prospects: [], intents: [] };
  const prospectsCopied = new Set<string>();
  /** Copies one campaign; returns the ids of its accounts. */
  const copyOne = async (c: CampaignRow): Promise<string[]> => {
    const leads = await from.selectFrom('campaign_leads').selectAll().where('campaign_id', '=', c.id).where('state', 'in', ['pending', 'active']).execute();
    const senders = await from.selectFrom('campaign_accounts').selectAll().where('campaign_id', '=', c.id).execute();
    copy.campaigns.push({ ...c, status: 'active', applied_sequence_version: c.sequence_version });
    copy.sequenceVersions.push(...(await from.selectFrom('sequence_versions').selectAll().where('campaign_id', '=', c.id).where('version', '=', c.sequence_version).execute()));
    copy.campaignAccounts.push(...senders);
    // Only what the engine reads: whole rows took three quarters of the copy's time at 20,000 leads on PGlite.
    const prospects = await from
      .selectFrom('prospects')
      .select([...ENGINE_PROSPECT_COLUMNS, 'platform'])
      .where('id', 'in', (eb) => eb.selectFrom('campaign_leads').select('prospect_id').where('campaign_id', '=', c.id).where('state', 'in', ['pending', 'active']))
      .execute();
    // A prospect may be a lead of several of the copied campaigns.
    for (const prospect of prospects) {
      if (prospectsCopied.has(prospect.id)) continue;
      prospectsCopied.add(prospect.id);
      copy.prospects.push(prospect);
    }
    append(copy.leads, leads);
    return senders.map((s) => s.account_link_id);
  };
  const ownAccounts = await copyOne(campaign);
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
    for (const rival of rivals) for (const id of await copyOne(rival)) accountIds.add(id);
  }
  const since = new Date(now.getTime() - DAY_MS);
  append(copy.accounts, await inBatches([...accountIds], (ids) => from.selectFrom('account_links').selectAll().where('id', 'in', ids).execute()));
  const sends = await inBatches([...accountIds], (ids) =>
    from.selectFrom('send_intents').selectAll().where('account_link_id', 'in', ids).where('created_at', '>', since).where('campaign_id', 'is not', null).execute(),
  );
  append(
    copy.intents,
    (sends as CampaignIntentRow[]).map((s) => ({ ...s, status: s.status === 'pending' ? ('sent' as const) : s.status })),
  );
  return copy;
}

/** What a forecast's run left: the campaign's sends in time order, and when it completed (if it did). */
interface ForecastRun {
  sends: Array<Pick<CampaignIntentRow, 'created_at' | 'account_link_id'>>;
  completedAt: Date | null;
}

const horizonOf = (start: Date) => new Date(start.getTime() + HORIZON_DAYS * DAY_MS);
const ownSends = (intents: readonly CampaignIntentRow[], campaignId: string, start: Date) =>
  intents.filter((i) => i.campaign_id === campaignId && i.created_at >= start).sort((a, b) => a.created_at.getTime() - b.created_at.getTime());

/** The forecast's run on the engine's memory store. */
async function runInMemory(ctx: AppContext, copy: ForecastCopy, campaignId: string, start: Date, stop?: AbortSignal): Promise<ForecastRun> {
  let now = start;
  const { engine, store } = memoryEngine(copy, { clock: { now: () => now }, logger: ctx.logger }, seededRandom(campaignId), { recording: 'progress', stop });
  const completedAt = () => store.campaign(campaignId)!.completed_at;
  // The other campaigns may go on after this one completes; their later sends cannot change its forecast.
  await runInVirtualTime(engine, start, horizonOf(start), { clock: { set: (at) => void (now = at) }, done: async () => stop?.aborted === true || completedAt() !== null });
  return { sends: ownSends(store.intents(), campaignId, start), completedAt: completedAt() };
}

type Row = Record<string, unknown>;

/** json and jsonb columns come back parsed and go in as JSON text. */
const writable = (row: object): Row =>
  Object.fromEntries(
    Object.entries(row).map(([key, value]) => [
      key,
      value !== null && typeof value === 'object' && !(value instanceof Date) && !(value instanceof Uint8Array) ? JSON.stringify(value) : value,
    ]),
  );

/** The copy written to a scratch database: its rows, 1,000 a statement. */
async function writeCopy(to: Db, copy: ForecastCopy): Promise<void> {
  const write = async (table: keyof Database & string, rows: readonly object[]) => {
    for (let i = 0; i < rows.length; i += BATCH) await insertRows(to, table, rows.slice(i, i + BATCH).map(writable) as never);
  };
  // Foreign keys point at rows the engine never reads (campaigns not copied, intents): the copy skips their checks.
  await sql`set session_replication_role = replica`.execute(to);
  await write('teams', [copy.team]);
  await write('campaigns', copy.campaigns);
  await write('sequence_versions', copy.sequenceVersions);
  await write('campaign_accounts', copy.campaignAccounts);
  await write('prospects', copy.prospects.map((p) => ({ ...p, team_id: copy.team.id })));
  await write('campaign_leads', copy.leads);
  await write('account_links', copy.accounts);
  await write('send_intents', copy.intents);
}

/** The forecast's run on a scratch database (the engine's database store, with the sandbox kept there). */
async function runOnScratchDatabase(ctx: AppContext, copy: ForecastCopy, campaignId: string, start: Date, stop?: AbortSignal): Promise<ForecastRun> {
  const scratch = await openScratchStore();
  try {
    await writeCopy(scratch.db, copy);
    let now = start;
    const clock = { now: () => now };
    const sandbox = new SandboxPlatform(scratch.db, clock);
    const engine = sendingEngine({ ...ctx, db: scratch.db, clock, platforms: { get: () => sandbox } }, seededRandom(campaignId), { recording: 'progress', stop });
    const completedAt = async () => (await scratch.db.selectFrom('campaigns').select('completed_at').where('id', '=', campaignId).executeTakeFirstOrThrow()).completed_at;
    await runInVirtualTime(engine, start, horizonOf(start), { clock: { set: (at) => void (now = at) }, done: async () => stop?.aborted === true || (await completedAt()) !== null });
    const intents = await scratch.db.selectFrom('send_intents').selectAll().where('campaign_id', '=', campaignId).execute();
    return { sends: ownSends(intents as CampaignIntentRow[], campaignId, start), completedAt: await completedAt() };
  } finally {
    await scratch.close();
  }
}

/** Nobody is waiting for the forecast any more (499, as proxies log a request its client closed). */
const abandoned = () => new AppError(499, 'FORECAST_ABANDONED', 'Every request for this forecast has gone away');

/** `stop`: aborted once nobody waits for the result; the run then ends at its next instant of virtual time. */
export async function forecastCampaign(ctx: AppContext, teamId: string, campaignId: string, stop?: AbortSignal, on: ForecastStore = 'memory'): Promise<Forecast> {
  if (stop?.aborted) throw abandoned();
  const start = ctx.clock.now();
  const campaign = await getCampaignRow(ctx.db, teamId, campaignId);
  if (campaign.status === 'completed') return { completedAt: campaign.completed_at?.toISOString() ?? null, sendsPerDay: [] };
  const copy = await forecastCopy(ctx.db, teamId, campaignId, start);
  const run = await (on === 'memory' ? runInMemory : runOnScratchDatabase)(ctx, copy, campaignId, start, stop);
  if (stop?.aborted) throw abandoned();
  const perDay = new Map<string, { date: string; sends: number; byAccount: Record<string, number> }>();
  for (const { created_at, account_link_id } of run.sends) {
    const date = DateTime.fromJSDate(created_at, { zone: campaign.timezone }).toISODate()!;
    let day = perDay.get(date);
    if (!day) perDay.set(date, (day = { date, sends: 0, byAccount: {} }));
    day.sends++;
    day.byAccount[account_link_id] = (day.byAccount[account_link_id] ?? 0) + 1;
  }
  return { completedAt: run.completedAt?.toISOString() ?? null, sendsPerDay: [...perDay.values()] };
}

/**
 * Forecasts one at a time per process: each holds a copy of its campaigns in memory and keeps a core busy for
 * as long as it runs. A request for a campaign whose forecast
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
