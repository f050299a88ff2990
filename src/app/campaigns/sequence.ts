import { AppError, invalidFields } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { leadMessage, leadVariables, profileForVariables } from '../../core/lead-message.js';
import { validateSequence, type ProfileForVariables, type SequenceStep, type StoredStep } from '../../core/sequence.js';
import { iso } from '../../core/time.js';
import type { Db } from '../../store/db.js';
import type { CampaignRow } from '../../store/schema-campaigns.js';
import { currentSequence, getCampaignRow, touchCampaign, type Sequence } from './data.js';
import { CAMPAIGN_COLUMNS, columnIds } from '../leads/columns.js';
import type { AppContext } from '../context.js';

/** Sequences (spec 3.13, 4.13): every PUT is a new version; old versions stay readable. */

export type SequenceVersion = Sequence & { createdAt: string };

/** Every problem that keeps the campaign's current sequence from being sent (empty = sendable). */
export async function sequenceProblems(db: Db, campaign: CampaignRow, field = 'sequence.steps') {
  const { steps } = await currentSequence(db, campaign);
  return validateSequence(steps, await columnIds(db, CAMPAIGN_COLUMNS, campaign.id), field);
}

export async function replaceSequence(ctx: AppContext, teamId: string, campaignId: string, steps: readonly SequenceStep[]): Promise<Sequence> {
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    // Locked, so two PUTs cannot both take the next version number.
    const campaign = await getCampaignRow(trx, teamId, campaignId, true);
    const problems = validateSequence(steps, await columnIds(trx, CAMPAIGN_COLUMNS, campaignId));
    if (problems.length > 0) {
      throw invalidFields('sequence', problems);
    }
    const stored = steps.map((step, rank) => ({ ...step, id: newId(), rank, data: step.data ?? {} }) as StoredStep);
    const version = campaign.sequence_version + 1;
    await trx
      .insertInto('sequence_versions')
      .values({ campaign_id: campaignId, version, steps: JSON.stringify(stored), created_at: now })
      .execute();
    await trx.updateTable('campaigns').set({ sequence_version: version }).where('id', '=', campaignId).execute();
    await touchCampaign(trx, campaignId, now);
    return { version, steps: stored };
  });
}

export async function listSequenceVersions(ctx: AppContext, teamId: string, campaignId: string): Promise<SequenceVersion[]> {
  await getCampaignRow(ctx.db, teamId, campaignId);
  const rows = await ctx.db
    .selectFrom('sequence_versions')
    .selectAll()
    .where('campaign_id', '=', campaignId)
    .orderBy('version', 'desc')
    .execute();
  return rows.map((r) => ({ version: r.version, steps: r.steps as StoredStep[], createdAt: iso(r.created_at) }));
}

export interface PreviewLead {
  /** null for the made-up sample lead */
  prospectId: string | null;
  platformId: string | null;
  username: string;
  displayName: string;
  inCampaign: boolean;
}

export interface SequencePreview {
  /** null for a draft */
  version: number | null;
  lead: PreviewLead;
  /** stepId is null for a draft's steps, which get their ids when saved */
  messages: { stepId: string | null; rank: number; text: string }[];
}

/** Whom a preview shows when no lead is named and the campaign has none yet. */
const SAMPLE_PROFILE: ProfileForVariables = { displayName: 'Jane Doe', username: 'janedoe', bio: 'Building things on the internet.', location: 'San Francisco, CA' };

interface LeadToRender {
  lead: PreviewLead;
  profile: ProfileForVariables;
  data: Record<string, unknown>;
}

async function leadToRender(db: Db, teamId: string, campaignId: string, platformId: string | undefined): Promise<LeadToRender> {
  const columns = ['p.id', 'p.platform_id', 'p.username', 'p.display_name', 'p.bio', 'p.location', 'cl.data', 'cl.id as lead_id'] as const;
  // Without a platform id, the campaign's first lead stands in (read from the campaign's leads by their order, not
  // by joining every prospect of the team: 1.8 s at 30,000 leads before); with one, any of the team's prospects.
  const row =
    platformId === undefined
      ? await db
          .selectFrom('campaign_leads as cl')
          .innerJoin('prospects as p', 'p.id', 'cl.prospect_id')
          .select(columns)
          .where('cl.campaign_id', '=', campaignId)
          .orderBy('cl.created_at')
          .orderBy('cl.id')
          .limit(1)
          .executeTakeFirst()
      : await db
          .selectFrom('prospects as p')
          .leftJoin('campaign_leads as cl', (join) => join.onRef('cl.prospect_id', '=', 'p.id').on('cl.campaign_id', '=', campaignId))
          .select(columns)
          .where('p.team_id', '=', teamId)
          .where('p.platform_id', '=', platformId)
          .orderBy('p.created_at')
          .executeTakeFirst();
  if (!row) {
    if (platformId !== undefined) throw new AppError(404, 'PROSPECT_NOT_FOUND', `No prospect with platform ID '${platformId}' in this team`);
    const lead = { prospectId: null, platformId: null, username: SAMPLE_PROFILE.username, displayName: SAMPLE_PROFILE.displayName!, inCampaign: false };
    return { lead, profile: SAMPLE_PROFILE, data: {} };
  }
  const profile = profileForVariables(row);
  const lead = { prospectId: row.id, platformId: row.platform_id, username: row.username, displayName: row.display_name, inCampaign: row.lead_id !== null };
  return { lead, profile, data: row.data ?? {} };
}

/** The messages of the current sequence, or of a draft of one, as a lead (or a sample lead) would get them; nothing is sent. */
export async function previewSequence(
  ctx: AppContext,
  teamId: string,
  campaignId: string,
  input: { platformId?: string; steps?: readonly SequenceStep[] },
): Promise<SequencePreview> {
  const campaign = await getCampaignRow(ctx.db, teamId, campaignId);
  const { version, steps } = input.steps ? await draftSequence(ctx.db, campaignId, input.steps) : await currentSequence(ctx.db, campaign);
  const { lead, profile, data } = await leadToRender(ctx.db, teamId, campaignId, input.platformId);
  const variables = leadVariables(profile, data);
  const messages = steps.flatMap((step) =>
    step.type === 'message'
      ? [{ stepId: step.id, rank: step.rank, text: leadMessage(campaignId, lead.prospectId ?? 'sample', step.id ?? `draft-${step.rank}`, step.data.segments, variables) }]
      : [],
  );
  return { version, lead, messages };
}

/**
 * A draft checked as a PUT checks it (400 naming each problem), ranked but without ids. Its variations are
 * chosen by rank, so a draft previews the same while it is typed; saving gives new ids and so may pick others.
 */
async function draftSequence(db: Db, campaignId: string, steps: readonly SequenceStep[]) {
  const problems = validateSequence(steps, await columnIds(db, CAMPAIGN_COLUMNS, campaignId));
  if (problems.length > 0) throw invalidFields('sequence', problems);
  return { version: null, steps: steps.map((step, rank) => ({ ...step, id: null, rank })) };
}
