import { sql, type Kysely } from 'kysely';
import { compressWithLz4 } from './0009_event_compression.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  // A send's two or three events each carried its prospect twice (as `prospect` and inside `thread`): five
  // copies of about 1 KB for a first message. A prospect repeated within one emit is now stored once here and
  // put back in place when the events are read. created_at is the newest of its events' times, so it is
  // pruned with the last of them; no later event refers to it.
  await sql`
    create table event_prospects (
      id text primary key,
      team_id text not null references teams(id) on delete cascade,
      created_at timestamptz not null,
      data json not null
    );
    create index event_prospects_created on event_prospects (created_at);
    alter table events add column prospect_snapshot_id text;
  `.execute(db);
  await compressWithLz4(db, 'event_prospects');
}
