import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // An endpoint's health, for fair claiming and for switching off one that has been failing for days:
  // failing_since is the first failed attempt since the last delivered one (null while it delivers), and a
  // webhook the dispatcher switched off keeps when and why, shown on the webhook until it is enabled again.
  // Signing secrets are sealed at rest from now on (core/secret-box): the start-up step that seals the ones
  // stored in clear needs INBOX_SECRET_KEY, which a migration does not see (app/events/webhooks.ts sealWebhookSecrets).
  await sql`
    alter table webhooks add column failing_since timestamptz;
    alter table webhooks add column disabled_at timestamptz;
    alter table webhooks add column disabled_reason text;
  `.execute(db);
}
