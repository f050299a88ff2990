import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // The engine takes a sender's due follow-ups before its first touches (core/send-plan.ts), loading each kind
  // soonest first: this index finds the follow-ups without walking a backlog of first touches due long ago
  // (the first touches walk campaign_leads_due, past the few follow-ups due and not yet sent).
  await sql`
    create index campaign_leads_due_follow_ups on campaign_leads (campaign_id, account_link_id, next_step_at, prospect_id)
      where state in ('pending', 'active') and next_rank > 0;
  `.execute(db);
}
