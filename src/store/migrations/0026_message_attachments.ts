import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // A message's media and link card (core/attachments.ts), in the platform's order: an attachment's index is its
  // position. Most messages have none, so the engine's bulk inserts leave the column to its default.
  // reactions_version counts the changes of a message's reactions (API v2 answers it with them).
  await sql`
    alter table messages add column attachments jsonb not null default '[]'::jsonb;
    alter table messages add column reactions_version integer not null default 0;
  `.execute(db);
}
