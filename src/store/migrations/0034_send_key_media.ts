import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // The media an API v2 send attaches (app/inbox/sends.ts): kept with its key, so that a send reconciled by a
  // later request is recorded with them as the first request would have.
  await sql`alter table send_keys add column attachments jsonb not null default '[]'::jsonb`.execute(db);
}
