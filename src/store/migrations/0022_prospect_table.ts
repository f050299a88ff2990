import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // The prospects table (GET /prospects) pages a team's prospects by keyset on (created_at, id) by default and the
  // pipeline board each status by (updated_at, id): walked in index order, a page reads its rows and no more.
  await sql`
    create index prospects_team_created on prospects (team_id, created_at, id);
    create index prospects_team_updated on prospects (team_id, updated_at, id);
  `.execute(db);
}
