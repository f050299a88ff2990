import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- Intents a crash left pending, per account: settled before the account sends anything else, whatever
    -- its pace. Few rows at any time, however long the send log grows.
    create index send_intents_pending on send_intents (account_link_id) where status = 'pending';

    -- Event payloads are stored and replayed whole, never queried inside: json keeps them as written (key order
    -- included, so a replay matches the webhook byte for byte) and costs about 40% less to insert than jsonb.
    alter table events alter column data type json using data::json;
  `.execute(db);
}
