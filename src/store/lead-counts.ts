import type { Db } from './db.js';
import type { CampaignLeadCountsTable, LeadState } from './schema-campaigns.js';

/**
 * A campaign's lead counts as kept by the triggers of migration 0032 (why triggers, and why they cannot deadlock,
 * is told there): read in one indexed statement whatever the number of leads. The reader's own uncommitted
 * changes are added, so a transaction that moved leads reads the counts as of its writes.
 */

export interface LeadCounts {
  byState: Record<LeadState, number>;
  /** leads with contacted_at set */
  contacted: number;
  /** leads with replied_at set */
  replied: number;
}

type CountColumn = Exclude<keyof CampaignLeadCountsTable, 'campaign_id'>;

const STATE_COLUMNS: Readonly<Record<LeadState, CountColumn>> = {
  pending: 'state_pending',
  active: 'state_active',
  replied: 'state_replied',
  completed: 'state_completed',
  cancelled: 'state_cancelled',
  failed: 'state_failed',
  excluded: 'state_excluded',
};
const COUNT_COLUMNS: readonly CountColumn[] = [...Object.values(STATE_COLUMNS), 'contacted', 'replied'];

const noLeads = (): LeadCounts => ({
  byState: Object.fromEntries(Object.keys(STATE_COLUMNS).map((state) => [state, 0])) as Record<LeadState, number>,
  contacted: 0,
  replied: 0,
});

/** The counts of each campaign given (zeros for one without a counts row, which a deleted campaign has). */
export async function leadCountsOf(db: Db, campaignIds: readonly string[]): Promise<Map<string, LeadCounts>> {
  const counts = new Map(campaignIds.map((id) => [id, noLeads()]));
  if (campaignIds.length === 0) return counts;
  const rows = await db
    .selectFrom((eb) =>
      eb
        .selectFrom('campaign_lead_counts')
        .select(['campaign_id', ...COUNT_COLUMNS])
        .where('campaign_id', 'in', campaignIds)
        .unionAll(eb.selectFrom('campaign_lead_count_changes').select(['campaign_id', ...COUNT_COLUMNS]).where('campaign_id', 'in', campaignIds))
        .as('c'),
    )
    .select((eb) => ['c.campaign_id', ...COUNT_COLUMNS.map((column) => eb.fn.sum<number>(`c.${column}`).as(column))])
    .groupBy('c.campaign_id')
    .execute();
  for (const row of rows) {
    const sums = row as unknown as Record<CountColumn, number | string>;
    const of = (column: CountColumn) => Number(sums[column]);
    counts.set(row.campaign_id, {
      byState: Object.fromEntries(Object.entries(STATE_COLUMNS).map(([state, column]) => [state, of(column)])) as Record<LeadState, number>,
      contacted: of('contacted'),
      replied: of('replied'),
    });
  }
  return counts;
}
