import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // When a typing indicator was last sent in a thread: at most one goes out per thread in a short interval, for
  // every process sharing the store (one conditional upsert decides).
  await sql`
    create table thread_typing (
      thread_id text primary key references threads (id) on delete cascade,
      sent_at timestamptz not null
    );
  `.execute(db);
}
