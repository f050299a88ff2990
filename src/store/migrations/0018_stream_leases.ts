import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // Event streams: one lease per open stream, so the cap of open streams per team holds across every process on
  // the store. A holder renews its lease with each heartbeat; a process that dies stops renewing, and its leases
  // stop counting once they expire (the next claim for the team deletes them).
  // Unread counts (GET /threads/counts) read only a team's unread threads, by this partial index.
  await sql`
    create table event_stream_leases (
      id text primary key,
      team_id text not null references teams(id) on delete cascade,
      expires_at timestamptz not null
    );
    create index event_stream_leases_team on event_stream_leases (team_id, expires_at);
    create index threads_team_unread on threads (team_id) where unread and deleted_at is null;
  `.execute(db);
}
