import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // Which option of each variation segment a sent message took (an array of indexes, in segment order; null for
  // likes and for messages sent before this column existed), so results can be counted per variation
  // (GET /campaigns/v2/{id}/stats), which reads a campaign's sent messages by this index.
  await sql`
    alter table send_intents add column variation_picks jsonb;
    create index send_intents_campaign_sent on send_intents (campaign_id, lead_id) where kind = 'message' and status = 'sent';
  `.execute(db);
}
