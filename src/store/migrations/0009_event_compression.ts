import { sql, type Kysely } from 'kysely';

/**
 * Event payloads (2-4 KB, the whole thread, prospect and campaign) are compressed on insert. lz4 costs about a
 * third of PostgreSQL's default pglz for the same size (bench:engine); servers built without lz4, PGlite among
 * them, keep pglz. Changing a column's type resets its compression, so 0010 calls this again.
 */
export async function compressWithLz4(db: Kysely<unknown>, table: 'events' | 'event_prospects' | 'event_groups'): Promise<void> {
  await sql`
    do $$
    begin
      alter table ${sql.table(table)} alter column data set compression lz4;
    exception when feature_not_supported then
      null;
    end $$;
  `.execute(db);
}

export const up = (db: Kysely<unknown>) => compressWithLz4(db, 'events');
