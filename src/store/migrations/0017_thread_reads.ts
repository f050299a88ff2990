import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // Unread: set when a message from the prospect is recorded, cleared when a member reads the thread (PATCH).
  // Threads that exist already have no read history: the ones still waiting on our answer (last message
  // from the prospect, not done) start unread.
  // Search: built-in full-text search with the 'simple' configuration (no stemming, no stop words, so names
  // and usernames match as typed), which needs no extension on PGlite or PostgreSQL (docs/api-notes.md).
  await sql`
    alter table threads add column unread boolean not null default false;
    update threads set unread = true where last_message_outbound = false and not done and deleted_at is null;
    create index prospects_search on prospects using gin (to_tsvector('simple', display_name || ' ' || username));
    create index messages_search on messages using gin (to_tsvector('simple', content));
  `.execute(db);
}
