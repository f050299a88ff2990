import { sql } from 'kysely';
import type { Segment } from '../../core/sequence.js';
import type { Db } from '../../store/db.js';
import type { StoredStep } from '../../core/sequence.js';
import { currentSequence, getCampaignRow } from './data.js';
import type { AppContext } from '../context.js';

/**
 * GET /campaigns/v2/{id}/stats (our extension): for each message step, how many messages it sent and how many
 * leads replied after it (a reply counts for the last message the lead was sent before replying), and the same
 * for each option of each variation segment, which the send log records (send_intents.variation_picks).
 * Counted in SQL from the send log and the leads; steps are named by the sequence version they belong to, since
 * every saved version gives its steps new ids.
 */

export interface Tally {
  sent: number;
  replied: number;
  /** replied / sent, 0 when nothing was sent */
  replyRate: number;
}

export interface VariationStats {
  /** the segment's position in the message's segments */
  segment: number;
  options: Array<Tally & { option: number; text: string }>;
}

export interface StepStats extends Tally {
  stepId: string;
  version: number;
  rank: number;
  /** whether the step belongs to the campaign's current sequence */
  current: boolean;
  variations: VariationStats[];
}

export interface CampaignStats {
  steps: StepStats[];
}

const tally = (sent: number, replied: number): Tally => ({ sent, replied, replyRate: sent === 0 ? 0 : replied / sent });

/** The campaign's sent messages (`sent`) and, per replying lead, the step whose message it answered (`answered`). */
const sentAndAnswered = (campaignId: string) => sql`
  with sent as (
    select i.lead_id, i.step_id, i.sequence_version, i.variation_picks, i.created_at
    from send_intents i
    where i.campaign_id = ${campaignId} and i.kind = 'message' and i.status = 'sent'
  ),
  answered as (
    select distinct on (l.id) l.id as lead_id, s.step_id
    from campaign_leads l
    join sent s on s.lead_id = l.id and s.created_at <= l.replied_at
    where l.campaign_id = ${campaignId} and l.replied_at is not null
    order by l.id, s.created_at desc
  )`;

interface StepRow {
  sequence_version: number;
  step_id: string;
  sent: string | number;
  replied: string | number;
}

interface OptionRow extends StepRow {
  variation: string | number;
  option: string | number;
}

async function countPerStep(db: Db, campaignId: string): Promise<StepRow[]> {
  const { rows } = await sql<StepRow>`
    ${sentAndAnswered(campaignId)}
    select s.sequence_version, s.step_id, count(*) as sent, count(a.lead_id) as replied
    from sent s left join answered a on a.lead_id = s.lead_id and a.step_id = s.step_id
    group by s.sequence_version, s.step_id`.execute(db);
  return rows;
}

/** Per step, per variation segment (its position among the step's variations), per option picked. */
async function countPerOption(db: Db, campaignId: string): Promise<OptionRow[]> {
  const { rows } = await sql<OptionRow>`
    ${sentAndAnswered(campaignId)}
    select s.sequence_version, s.step_id, p.variation - 1 as variation, p.option::int as option,
      count(*) as sent, count(a.lead_id) as replied
    from sent s
    cross join lateral jsonb_array_elements_text(s.variation_picks) with ordinality as p(option, variation)
    left join answered a on a.lead_id = s.lead_id and a.step_id = s.step_id
    where s.variation_picks is not null
    group by s.sequence_version, s.step_id, p.variation, p.option`.execute(db);
  return rows;
}

async function stepsOfVersions(db: Db, campaignId: string, versions: readonly number[]): Promise<Map<number, StoredStep[]>> {
  if (versions.length === 0) return new Map();
  const rows = await db.selectFrom('sequence_versions').select(['version', 'steps']).where('campaign_id', '=', campaignId).where('version', 'in', versions).execute();
  return new Map(rows.map((r) => [r.version, r.steps as StoredStep[]]));
}

function variationsOf(segments: readonly Segment[], options: readonly OptionRow[]): VariationStats[] {
  const variationSegments = segments.flatMap((segment, index) => (segment.type === 'variation' ? [{ segment: index, options: segment.options }] : []));
  return variationSegments.map(({ segment, options: texts }, variation) => ({
    segment,
    options: texts.map((text, option) => {
      const row = options.find((o) => Number(o.variation) === variation && Number(o.option) === option);
      return { option, text, ...tally(Number(row?.sent ?? 0), Number(row?.replied ?? 0)) };
    }),
  }));
}

export async function campaignStats(ctx: AppContext, teamId: string, campaignId: string): Promise<CampaignStats> {
  const campaign = await getCampaignRow(ctx.db, teamId, campaignId);
  const [perStep, perOption, current] = [await countPerStep(ctx.db, campaignId), await countPerOption(ctx.db, campaignId), await currentSequence(ctx.db, campaign)];
  const versions = await stepsOfVersions(ctx.db, campaignId, [...new Set(perStep.map((r) => r.sequence_version))]);
  versions.set(current.version, current.steps);
  // The current sequence's message steps always appear (with zeros before anything is sent); older ones once they sent.
  const shown = new Set([...current.steps.map((s) => `${current.version}:${s.id}`), ...perStep.map((r) => `${r.sequence_version}:${r.step_id}`)]);
  const steps: StepStats[] = [];
  for (const [version, versionSteps] of [...versions].sort(([a], [b]) => b - a)) {
    for (const step of versionSteps) {
      if (step.type !== 'message' || !shown.has(`${version}:${step.id}`)) continue;
      const counted = perStep.find((r) => r.sequence_version === version && r.step_id === step.id);
      steps.push({
        stepId: step.id,
        version,
        rank: step.rank,
        current: version === current.version,
        ...tally(Number(counted?.sent ?? 0), Number(counted?.replied ?? 0)),
        variations: variationsOf(
          step.data.segments,
          perOption.filter((o) => o.sequence_version === version && o.step_id === step.id),
        ),
      });
    }
  }
  return { steps };
}
