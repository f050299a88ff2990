import { sql } from 'kysely';
import type { Db } from '../../src/store/db.js';

/**
 * The oracle for the lead counts the store keeps (migration 0032): every campaign's counts, as a reader outside
 * any transaction sees them, against a recount of its leads in the same statement (one snapshot, so writers
 * running meanwhile cannot make it disagree). The recount is the one campaign reads did before the counts were
 * kept. The test setup (test/lead-counts.setup.ts) runs it after every test on every store the tests opened.
 */

export interface CountMismatch {
  campaign_id: string;
  /** the counts kept, null when the campaign has no counts row */
  kept: Record<string, number> | null;
  /** the recount, null when the counts row's campaign does not exist */
  counted: Record<string, number> | null;
}

export async function leadCountMismatches(db: Db): Promise<CountMismatch[]> {
  const { rows } = await sql<CountMismatch>`
    with kept as (
      select campaign_id, jsonb_build_object(
        'pending', state_pending, 'active', state_active, 'replied', state_replied, 'completed', state_completed,
        'cancelled', state_cancelled, 'failed', state_failed, 'excluded', state_excluded,
        'contacted', contacted, 'repliedAt', replied) as counts
      from campaign_lead_counts
    ),
    counted as (
      select c.id as campaign_id, jsonb_build_object(
        'pending', count(l.id) filter (where l.state = 'pending'), 'active', count(l.id) filter (where l.state = 'active'),
        'replied', count(l.id) filter (where l.state = 'replied'), 'completed', count(l.id) filter (where l.state = 'completed'),
        'cancelled', count(l.id) filter (where l.state = 'cancelled'), 'failed', count(l.id) filter (where l.state = 'failed'),
        'excluded', count(l.id) filter (where l.state = 'excluded'),
        'contacted', count(l.contacted_at), 'repliedAt', count(l.replied_at)) as counts
      from campaigns c left join campaign_leads l on l.campaign_id = c.id
      group by c.id
    )
    select coalesce(k.campaign_id, c.campaign_id) as campaign_id, k.counts as kept, c.counts as counted
    from kept k full join counted c on c.campaign_id = k.campaign_id
    where k.counts is distinct from c.counts
    order by 1
    limit 20`.execute(db);
  return rows;
}
