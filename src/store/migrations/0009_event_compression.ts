import { sql, type Kysely } from 'kysely';

/**
 * Event payloads (2-4 KB, the whole thread, prospect and campaign) are compressed on insert. lz4 costs about a
 * third of PostgreSQL's default pglz for the same size (bench:engine); servers built without lz4, PGlite among
 * them, keep pglz. Changing the column's type resets its compression, so 0010 calls this again.
 */
export async function compressEventsWithLz4(db: Kysely<unknown>): Promise<void> {
  await sql`
    do $$
    begin
      alter table events alter column data set compression lz4;
    exception when feature_not_supported then
      null;
    end $$;
  `.execute(db);
}

export const up = compressEventsWithLz4;
