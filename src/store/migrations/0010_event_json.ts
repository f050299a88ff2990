import { sql, type Kysely } from 'kysely';
import { compressWithLz4 } from './0009_event_compression.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  // Event payloads are written once and replayed whole, never queried inside: json keeps them as delivered (key
  // order included) and skips jsonb's conversion (15-35% of an event insert on PGlite measured alone; within
  // the noise of a whole bench:engine run).
  await sql`alter table events alter column data type json using data::json`.execute(db);
  await compressWithLz4(db, 'events');
}
