import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // Every send writes a message, two or three events and a prospect snapshot, and often a thread; each row
  // paid a foreign-key check on its team, about a tenth of its insert on PGlite (bench:engine).
  // - The team keys of messages and threads repeat what their thread and account link guarantee (a team's
  //   account links, prospects, threads and messages still go with it).
  // - Events and snapshots are only written for the team of the request or campaign at hand. Teams are never
  //   deleted; whoever deletes one deletes its events and snapshots too.
  await sql`
    alter table messages drop constraint messages_team_id_fkey;
    alter table threads drop constraint threads_team_id_fkey;
    alter table events drop constraint events_team_id_fkey;
    alter table event_prospects drop constraint event_prospects_team_id_fkey;
  `.execute(db);
}
