import { deleteRefusal, lifecycleColumns, transition, type LifecycleAction } from '../../core/campaign-lifecycle.js';
import { AppError, conflict, invalidFields } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { validateSchedule, validateTimeZone, type Problem, type Schedule } from '../../core/schedule.js';
import { iso, isoOrNull } from '../../core/time.js';
import type { StoredStep } from '../../core/sequence.js';
import type { Db } from '../../store/db.js';
import { leadCountsOf } from '../../store/lead-counts.js';
import type { CampaignRow, CampaignStatus } from '../../store/schema-campaigns.js';
import { automationsByCampaign, type Automation } from './automations.js';
import { currentSequences, getCampaignRow, type Sequence } from './data.js';
import { sequenceProblems } from './sequence.js';
import { CAMPAIGN_COLUMNS, columnsByOwner } from '../leads/columns.js';
import type { AppContext } from '../context.js';
import { emitEvent } from '../events/events.js';
import { applyLeadRules, type LeadRulesInput } from './lead-rules.js';
import { groupBy } from '../../core/group.js';

/**
 * Campaigns: settings, lifecycle and the three shapes they are shown in (v2 Campaign, legacy v1, and the
 * CampaignSummary of webhook payloads). Counters come from the lead counts the store keeps with the leads
 * (store/lead-counts.ts), so they always agree with the leads without counting them.
 */

export const MESSAGES_PER_HOUR = { min: 1, max: 25, default: 8 } as const;
/** Monday to Friday, 09:00-17:00. */
export const DEFAULT_SCHEDULE: Schedule = Object.fromEntries(
  ['1', '2', '3', '4', '5'].map((day) => [day, { start: 540, end: 1020 }]),
) as Schedule;
export const MAX_ACCOUNT_LINKS = 100;

export interface CampaignSettings {
  name?: string;
  description?: string | null;
  accountLinkIds?: string[];
  messagesPerHour?: number;
  timezone?: string;
  schedule?: Schedule;
}

export interface LeadRules {
  syncedLists: { listId: string; listName: string; columnMapping: Record<string, string> }[];
  excludedLists: { listId: string; listName: string }[];
  excludeContacted: boolean;
  excludeMutuals: boolean;
}

interface Counters {
  targetsCount: number;
  contactedCount: number;
  repliedCount: number;
  completionRate: number;
  replyRate: number;
}

export interface Campaign extends Counters {
  id: string;
  name: string;
  description: string | null;
  status: CampaignStatus;
  enabled: boolean;
  isSimulated: boolean;
  messagesPerHour: number;
  timezone: string;
  schedule: Schedule;
  isRebalancing: boolean;
  isSyncing: boolean;
  scopeAssessedCount: number;
  accountLinkIds: string[];
  rules: LeadRules;
  sequence: Sequence;
  automations: Automation[];
  createdAt: string;
  updatedAt: string | null;
  pausedAt: string | null;
  completedAt: string | null;
  startedAt: string | null;
  pauseReason: string | null;
}

/** The campaign in webhook payloads, with the legacy names (spec 4.12.3). */
export interface CampaignSummary {
  id: string;
  name: string;
  description: string | null;
  status: CampaignStatus;
  dryRun: boolean;
  targetsCount: number;
  contactedCount: number;
  repliesCount: number;
  completionRate: number;
  replyRate: number;
  createdAt: string;
  updatedAt: string | null;
  pausedAt: string | null;
  completedAt: string | null;
  lastStartedAt: string | null;
}

/** The legacy v1 shape (spec 4.12.1). */
export interface CampaignV1 extends CampaignSummary {
  type: 'sequence';
  hourlyMessageRate: number;
  scheduleTimezone: string;
  scheduleHours: Schedule;
  estimatedTargets: number;
  isHydrating: boolean;
  isBuildingPlan: boolean;
  steps: (StoredStep & { campaignVersion: number })[];
  lists: { listId: string; exclude: boolean }[];
  accountLinkIds: string[];
  automations: Automation[];
  customVariables: Record<string, { displayName: string; description: string | null }>;
}

const ratio = (part: number, whole: number) => (whole === 0 ? 0 : part / whole);

async function countersOf(db: Db, ids: readonly string[]): Promise<Map<string, Counters>> {
  const counts = await leadCountsOf(db, ids);
  return new Map(
    ids.map((id) => {
      const { byState, contacted, replied } = counts.get(id)!;
      const targets = Object.values(byState).reduce((sum, n) => sum + n, 0) - byState.excluded;
      return [
        id,
        {
          targetsCount: targets,
          contactedCount: contacted,
          repliedCount: replied,
          // The seed's definition: the share of targets that went through their whole sequence (issue 23).
          completionRate: ratio(byState.completed, targets),
          replyRate: ratio(replied, contacted),
        },
      ];
    }),
  );
}

async function accountsOf(db: Db, ids: readonly string[]): Promise<Map<string, string[]>> {
  const rows = await db
    .selectFrom('campaign_accounts')
    .select(['campaign_id', 'account_link_id'])
    .where('campaign_id', 'in', ids)
    .orderBy('position')
    .execute();
  const groups = groupBy(ids, rows, (r) => r.campaign_id);
  return new Map([...groups].map(([id, accounts]) => [id, accounts.map((a) => a.account_link_id)]));
}

async function rulesOf(db: Db, campaigns: readonly CampaignRow[]): Promise<Map<string, LeadRules>> {
  const ids = campaigns.map((c) => c.id);
  const rows = await db
    .selectFrom('campaign_list_rules as r')
    .innerJoin('lists as l', 'l.id', 'r.list_id')
    .select(['r.campaign_id', 'r.list_id', 'r.kind', 'r.column_mapping', 'l.name'])
    .where('r.campaign_id', 'in', ids)
    .orderBy('l.created_at')
    .orderBy('l.id')
    .execute();
  const groups = groupBy(ids, rows, (r) => r.campaign_id);
  return new Map(
    campaigns.map((c) => {
      const lists = groups.get(c.id)!;
      return [
        c.id,
        {
          syncedLists: lists.filter((l) => l.kind === 'synced').map((l) => ({ listId: l.list_id, listName: l.name, columnMapping: l.column_mapping })),
          excludedLists: lists.filter((l) => l.kind === 'excluded').map((l) => ({ listId: l.list_id, listName: l.name })),
          excludeContacted: c.exclude_contacted,
          excludeMutuals: c.exclude_mutuals,
        },
      ];
    }),
  );
}

/** The v2 Campaign of each row, in order, with a fixed number of queries whatever the number of rows. */
export async function presentCampaigns(db: Db, rows: readonly CampaignRow[]): Promise<Campaign[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const counters = await countersOf(db, ids);
  const accounts = await accountsOf(db, ids);
  const rules = await rulesOf(db, rows);
  const sequences = await currentSequences(db, rows);
  const automations = await automationsByCampaign(db, ids);
  return rows.map((row) => ({
    id: row.id,
    name: row.name,
    description: row.description,
    status: row.status,
    enabled: row.enabled,
    isSimulated: false,
    ...counters.get(row.id)!,
    messagesPerHour: row.messages_per_hour,
    timezone: row.timezone,
    schedule: row.schedule,
    isRebalancing: row.is_rebalancing,
    isSyncing: row.is_syncing,
    scopeAssessedCount: row.scope_assessed_count,
    accountLinkIds: accounts.get(row.id)!,
    rules: rules.get(row.id)!,
    sequence: sequences.get(row.id)!,
    automations: automations.get(row.id)!,
    createdAt: iso(row.created_at),
    updatedAt: isoOrNull(row.updated_at),
    pausedAt: isoOrNull(row.paused_at),
    completedAt: isoOrNull(row.completed_at),
    startedAt: isoOrNull(row.started_at),
    pauseReason: row.pause_reason,
  }));
}

const presentCampaign = async (db: Db, row: CampaignRow): Promise<Campaign> => (await presentCampaigns(db, [row]))[0]!;

/** The CampaignSummary of each campaign (events carry it), counted now. */
export async function campaignSummaries(db: Db, campaignIds: readonly string[]): Promise<Map<string, CampaignSummary>> {
  if (campaignIds.length === 0) return new Map();
  const rows = await db.selectFrom('campaigns').selectAll().where('id', 'in', campaignIds).execute();
  return new Map((await presentCampaigns(db, rows)).map((c) => [c.id, summaryOf(c)]));
}

export const campaignSummary = async (db: Db, campaignId: string): Promise<CampaignSummary> => (await campaignSummaries(db, [campaignId])).get(campaignId)!;

export const summaryOf = (c: Campaign): CampaignSummary => ({
  id: c.id,
  name: c.name,
  description: c.description,
  status: c.status,
  dryRun: c.isSimulated,
  targetsCount: c.targetsCount,
  contactedCount: c.contactedCount,
  repliesCount: c.repliedCount,
  completionRate: c.completionRate,
  replyRate: c.replyRate,
  createdAt: c.createdAt,
  updatedAt: c.updatedAt,
  pausedAt: c.pausedAt,
  completedAt: c.completedAt,
  lastStartedAt: c.startedAt,
});

async function presentV1(db: Db, row: CampaignRow): Promise<CampaignV1> {
  const campaign = await presentCampaign(db, row);
  const columns = (await columnsByOwner(db, CAMPAIGN_COLUMNS, [row.id])).get(row.id)!;
  return {
    ...summaryOf(campaign),
    type: 'sequence',
    hourlyMessageRate: campaign.messagesPerHour,
    scheduleTimezone: campaign.timezone,
    scheduleHours: campaign.schedule,
    estimatedTargets: campaign.targetsCount,
    isHydrating: campaign.isSyncing,
    isBuildingPlan: campaign.isRebalancing,
    steps: campaign.sequence.steps.map((step) => ({ ...step, campaignVersion: campaign.sequence.version })),
    lists: [
      ...campaign.rules.syncedLists.map((l) => ({ listId: l.listId, exclude: false })),
      ...campaign.rules.excludedLists.map((l) => ({ listId: l.listId, exclude: true })),
    ],
    accountLinkIds: campaign.accountLinkIds,
    automations: campaign.automations,
    customVariables: Object.fromEntries(columns.map((c) => [c.id, { displayName: c.name, description: c.description }])),
  };
}

/** Every problem with the settings given, against the team's account links; throws one 400 listing them. */
async function checkSettings(db: Db, teamId: string, input: CampaignSettings): Promise<void> {
  const problems: Problem[] = [];
  if (input.name !== undefined && input.name.trim() === '') problems.push({ field: 'name', message: 'must not be blank' });
  if (input.timezone !== undefined) problems.push(...validateTimeZone(input.timezone));
  if (input.schedule !== undefined) problems.push(...validateSchedule(input.schedule));
  if (input.accountLinkIds !== undefined) problems.push(...(await accountLinkProblems(db, teamId, input.accountLinkIds)));
  if (problems.length > 0) {
    throw invalidFields('campaign settings', problems);
  }
}

async function accountLinkProblems(db: Db, teamId: string, ids: readonly string[]): Promise<Problem[]> {
  const found =
    ids.length === 0
      ? new Set<string>()
      : new Set((await db.selectFrom('account_links').select('id').where('team_id', '=', teamId).where('id', 'in', ids).execute()).map((r) => r.id));
  return ids.flatMap((id, index) => {
    const field = `accountLinkIds.${index}`;
    if (ids.indexOf(id) !== index) return [{ field, message: `'${id}' is listed twice` }];
    return found.has(id) ? [] : [{ field, message: `no account link '${id}' in this team` }];
  });
}

async function setAccounts(db: Db, campaignId: string, accountLinkIds: readonly string[]): Promise<void> {
  await db.deleteFrom('campaign_accounts').where('campaign_id', '=', campaignId).execute();
  if (accountLinkIds.length === 0) return;
  await db
    .insertInto('campaign_accounts')
    .values(accountLinkIds.map((id, position) => ({ campaign_id: campaignId, account_link_id: id, position })))
    .execute();
}

/** Creates a draft; lead rules given at creation are applied in the same transaction (all or nothing). */
export async function createCampaign(
  ctx: AppContext,
  teamId: string,
  input: CampaignSettings & { name: string; rules?: LeadRulesInput },
): Promise<Campaign> {
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    await checkSettings(trx, teamId, input);
    const row = await trx
      .insertInto('campaigns')
      .values({
        id: newId(),
        team_id: teamId,
        name: input.name.trim(),
        description: input.description ?? null,
        messages_per_hour: input.messagesPerHour ?? MESSAGES_PER_HOUR.default,
        timezone: input.timezone ?? 'UTC',
        schedule: JSON.stringify(input.schedule ?? DEFAULT_SCHEDULE),
        pause_reason: null,
        created_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await setAccounts(trx, row.id, input.accountLinkIds ?? []);
    // Rules change the row (exclusion flags, updatedAt), so it is read again only when they were given.
    if (input.rules) await applyLeadRules(trx, teamId, row.id, input.rules, now);
    const campaign = await presentCampaign(trx, input.rules ? await getCampaignRow(trx, teamId, row.id) : row);
    await emitEvent(trx, teamId, 'campaign.created', { campaign: summaryOf(campaign) }, now);
    return campaign;
  });
}

export interface CampaignListQuery {
  status?: CampaignStatus[];
  cursor?: { id: string; timestamp: Date };
  limit: number;
}

/** Newest first; returns up to `limit + 1` campaigns so the caller can tell whether a next page exists. */
export async function listCampaigns(ctx: AppContext, teamId: string, query: CampaignListQuery): Promise<Campaign[]> {
  let rows = ctx.db.selectFrom('campaigns').selectAll().where('team_id', '=', teamId);
  if (query.status?.length) rows = rows.where('status', 'in', query.status);
  if (query.cursor) {
    const { id, timestamp } = query.cursor;
    rows = rows.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(timestamp, id)));
  }
  const page = await rows.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.limit + 1).execute();
  return presentCampaigns(ctx.db, page);
}

export async function getCampaign(ctx: AppContext, teamId: string, campaignId: string): Promise<Campaign> {
  return presentCampaign(ctx.db, await getCampaignRow(ctx.db, teamId, campaignId));
}

export async function getCampaignV1(ctx: AppContext, teamId: string, campaignId: string): Promise<CampaignV1> {
  return presentV1(ctx.db, await getCampaignRow(ctx.db, teamId, campaignId));
}

export async function updateCampaign(ctx: AppContext, teamId: string, campaignId: string, input: CampaignSettings): Promise<Campaign> {
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    const current = await getCampaignRow(trx, teamId, campaignId, true);
    await checkSettings(trx, teamId, input);
    const row = await trx
      .updateTable('campaigns')
      .set({
        name: input.name?.trim() ?? current.name,
        description: input.description === undefined ? current.description : input.description,
        messages_per_hour: input.messagesPerHour ?? current.messages_per_hour,
        timezone: input.timezone ?? current.timezone,
        schedule: JSON.stringify(input.schedule ?? current.schedule),
        updated_at: now,
      })
      .where('id', '=', campaignId)
      .returningAll()
      .executeTakeFirstOrThrow();
    if (input.accountLinkIds !== undefined) await setAccounts(trx, campaignId, input.accountLinkIds);
    // The engine keeps each sender's next allowed send time; pace and windows changed, so it works it out anew.
    if (input.messagesPerHour !== undefined || input.timezone !== undefined || input.schedule !== undefined) {
      await trx.updateTable('campaign_accounts').set({ next_send_at: null }).where('campaign_id', '=', campaignId).execute();
    }
    return presentCampaign(trx, row);
  });
}

/** Deletes a campaign that is not active, with its sequence versions, columns, automations and leads. */
export async function deleteCampaign(ctx: AppContext, teamId: string, campaignId: string): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    const row = await getCampaignRow(trx, teamId, campaignId, true);
    const refusal = deleteRefusal(row.status);
    if (refusal) throw conflict(`Campaign cannot be deleted: ${refusal}`);
    await trx.deleteFrom('campaigns').where('id', '=', campaignId).execute();
  });
}

/** Every reason the campaign cannot start, so the caller can fix them all at once. */
async function readinessProblems(db: Db, campaign: CampaignRow): Promise<Problem[]> {
  const problems: Problem[] = [];
  const lead = await db
    .selectFrom('campaign_leads')
    .select('id')
    .where('campaign_id', '=', campaign.id)
    .where('state', 'in', ['pending', 'active'])
    .limit(1)
    .executeTakeFirst();
  if (!lead) problems.push({ field: 'leads', message: 'the campaign has no lead to contact (none pending or active)' });
  const accounts = await db
    .selectFrom('campaign_accounts as ca')
    .innerJoin('account_links as al', 'al.id', 'ca.account_link_id')
    .select('al.status')
    .where('ca.campaign_id', '=', campaign.id)
    .execute();
  if (accounts.length === 0) problems.push({ field: 'accountLinkIds', message: 'link at least one account to send from' });
  else if (!accounts.some((a) => a.status === 'active')) {
    problems.push({ field: 'accountLinkIds', message: 'none of the linked accounts is active' });
  }
  problems.push(...(await sequenceProblems(db, campaign)));
  return problems;
}

/**
 * The campaign lifecycle's one applier, for the API and the engine alike: moves `current` (locked by the caller)
 * by `action` if the state machine allows it, after `check` (which throws when the campaign is not ready), writes
 * the transition's columns and emits its events.
 */
export async function applyLifecycle(
  trx: Db,
  current: CampaignRow,
  action: LifecycleAction,
  at: Date,
  pauseReason: string | null,
  check?: (trx: Db, row: CampaignRow) => Promise<void>,
): Promise<{ ok: true; row: CampaignRow } | { ok: false; reason: string }> {
  const step = transition(current.status, action);
  if (!step.allowed) return { ok: false, reason: step.reason };
  await check?.(trx, current);
  const row = await trx
    .updateTable('campaigns')
    .set({ ...lifecycleColumns(action, at, pauseReason), status: step.to, updated_at: at })
    .where('id', '=', current.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  const summary = summaryOf(await presentCampaign(trx, row));
  for (const type of step.events) await emitEvent(trx, row.team_id, type, { campaign: summary }, at);
  return { ok: true, row };
}

/** A person's lifecycle change through the API: what the state machine refuses is a 409. */
async function changeStatus(
  ctx: AppContext,
  teamId: string,
  campaignId: string,
  action: LifecycleAction,
  pauseReason: string | null,
  check?: (trx: Db, row: CampaignRow) => Promise<void>,
): Promise<CampaignRow> {
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    const moved = await applyLifecycle(trx, await getCampaignRow(trx, teamId, campaignId, true), action, now, pauseReason, check);
    if (!moved.ok) throw conflict(`Cannot ${action} campaign '${campaignId}': ${moved.reason}`);
    return moved.row;
  });
}

async function assertReady(trx: Db, row: CampaignRow): Promise<void> {
  const problems = await readinessProblems(trx, row);
  if (problems.length > 0) {
    throw new AppError(422, 'CAMPAIGN_NOT_READY', `The campaign cannot be enabled: ${problems.map((p) => p.message).join('; ')}`, problems);
  }
}

/** Starts a draft or resumes a paused campaign once it has leads, an active account and a valid sequence. */
export async function enableCampaign(ctx: AppContext, teamId: string, campaignId: string): Promise<Campaign> {
  const row = await changeStatus(ctx, teamId, campaignId, 'enable', null, assertReady);
  return presentCampaign(ctx.db, row);
}

/** Why a campaign paused through the API is paused; the engine records its own reasons. */
export const MANUAL_PAUSE = 'manual';

const pause = (ctx: AppContext, teamId: string, campaignId: string) =>
  changeStatus(ctx, teamId, campaignId, 'disable', MANUAL_PAUSE);

export async function disableCampaign(ctx: AppContext, teamId: string, campaignId: string): Promise<Campaign> {
  return presentCampaign(ctx.db, await pause(ctx, teamId, campaignId));
}

/** The legacy pause: the same transition, answered in the v1 shape. */
export async function pauseCampaignV1(ctx: AppContext, teamId: string, campaignId: string): Promise<CampaignV1> {
  return presentV1(ctx.db, await pause(ctx, teamId, campaignId));
}
