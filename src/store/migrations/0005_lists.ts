import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- An uploaded CSV, stored as it arrived in pieces of about a MiB so that any worker process can read
    -- it back as a stream; start_byte lets a resumed import seek to the row after its checkpoint.
    create table import_chunks (
      job_id text not null references jobs(id) on delete cascade,
      seq integer not null,
      start_byte bigint not null,
      data bytea not null,
      primary key (job_id, seq)
    );

    -- GET /import-jobs pages a team's jobs of one kind, newest first.
    create index jobs_team_kind on jobs (team_id, kind, created_at desc, id desc);
  `.execute(db);
}
