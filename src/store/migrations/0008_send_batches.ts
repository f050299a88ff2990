import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- Intents a crash left pending, per account: settled before the account sends anything else, whatever
    -- its pace. Few rows at any time, however long the send log grows.
    create index send_intents_pending on send_intents (account_link_id) where status = 'pending';
  `.execute(db);
}
