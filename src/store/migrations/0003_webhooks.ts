import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- Retries stop six hours after the first attempt, which may come long after the event when earlier
    -- deliveries to the same endpoint were still being retried.
    alter table webhook_deliveries add column first_attempt_at timestamptz;
  `.execute(db);
}
