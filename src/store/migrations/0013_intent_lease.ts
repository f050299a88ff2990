import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // The lease on a send in flight moves from its lead to its intent: reserving a send inserts the intent
  // anyway, so the lead is written once a send (when its outcome is recorded), not twice (bench:engine). A lead
  // is taken while it has a pending intent whose lease has not run out.
  await sql`
    alter table send_intents add column claimed_until timestamptz;
    update send_intents i set claimed_until = coalesce(l.claimed_until, i.created_at) from campaign_leads l where l.id = i.lead_id;
    alter table send_intents alter column claimed_until set not null;
    alter table campaign_leads drop column claimed_until;
    -- Is this lead taken? Asked of every due lead a batch considers. The index holds only the few intents in
    -- flight, plus, until vacuumed, those settled since: without it the check scanned every settled one.
    create index send_intents_pending_lead on send_intents (lead_id) where status = 'pending';
  `.execute(db);
}
