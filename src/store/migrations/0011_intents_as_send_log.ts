import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // Every send intent held exactly one account_sends row (its slot in the account's send log, dropped with it):
  // the intent now is the slot, one row a send instead of two (bench:engine). campaign_id needs no foreign key:
  // the intent's lead belongs to the campaign and goes with it.
  await sql`
    alter table send_intents add column campaign_id text;
    update send_intents i set campaign_id = l.campaign_id from campaign_leads l where l.id = i.lead_id;
    alter table send_intents alter column campaign_id set not null;
    create index send_intents_account on send_intents (account_link_id, created_at desc);
    drop table account_sends;
  `.execute(db);
}
