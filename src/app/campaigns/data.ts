import type { StoredStep } from '../../core/sequence.js';
import type { Db } from '../../store/db.js';
import type { CampaignRow } from '../../store/schema-campaigns.js';
import { rowOr404 } from '../rows.js';

/**
 * The campaign row and its current sequence, as every campaign module (settings, sequence, columns,
 * automations, and later leads and rules) reads them.
 */

export interface Sequence {
  version: number;
  steps: StoredStep[];
}

/** The team's campaign, or 404 CAMPAIGN_NOT_FOUND. `forUpdate` locks it until the transaction ends. */
export async function getCampaignRow(db: Db, teamId: string, campaignId: string, forUpdate = false): Promise<CampaignRow> {
  let query = db.selectFrom('campaigns').selectAll().where('team_id', '=', teamId).where('id', '=', campaignId);
  if (forUpdate) query = query.forUpdate();
  return rowOr404(query, 'CAMPAIGN_NOT_FOUND', 'Campaign', campaignId);
}

/** The current sequence of each campaign; version 0 (never saved) is the empty sequence. */
export async function currentSequences(db: Db, campaigns: readonly CampaignRow[]): Promise<Map<string, Sequence>> {
  const saved = campaigns.filter((c) => c.sequence_version > 0);
  const rows =
    saved.length === 0
      ? []
      : await db
          .selectFrom('sequence_versions as sv')
          .innerJoin('campaigns as c', (join) => join.onRef('c.id', '=', 'sv.campaign_id').onRef('c.sequence_version', '=', 'sv.version'))
          .select(['sv.campaign_id', 'sv.version', 'sv.steps'])
          .where('sv.campaign_id', 'in', saved.map((c) => c.id))
          .execute();
  const byId = new Map(rows.map((r) => [r.campaign_id, { version: r.version, steps: r.steps as StoredStep[] }]));
  return new Map(campaigns.map((c) => [c.id, byId.get(c.id) ?? { version: 0, steps: [] }]));
}

export async function currentSequence(db: Db, campaign: CampaignRow): Promise<Sequence> {
  return (await currentSequences(db, [campaign])).get(campaign.id)!;
}

/** Records that the campaign's configuration changed now. */
export async function touchCampaign(db: Db, campaignId: string, now: Date): Promise<void> {
  await db.updateTable('campaigns').set({ updated_at: now }).where('id', '=', campaignId).execute();
}
