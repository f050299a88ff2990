import { sql, type Kysely } from 'kysely';
import { encodeGroup, type Payload } from '../../core/event-groups.js';
import { insertRows } from '../bulk.js';
import type { Db } from '../schema.js';
import { compressWithLz4 } from './0009_event_compression.js';

/** Old events read per statement while they are copied. */
const PAGE = 1_000;

export async function up(db: Kysely<unknown>): Promise<void> {
  // A change's events that show one prospect are one row now (src/core/event-groups.ts): a send wrote three or four
  // rows (its events and the prospect they share), and one costs about half as much (BENCHMARKS.md). Deliveries
  // name their group, and keep their event's id and type for the outbox listing.
  await sql`
    create table event_groups (
      id text primary key,
      team_id text not null,
      first_seq bigint not null,
      last_seq bigint not null,
      created_at timestamptz not null,
      data json not null,
      unique (team_id, last_seq)
    );
    create index event_groups_created on event_groups (created_at);
    alter table webhook_deliveries add column group_id text, add column event_type text;
  `.execute(db);
  await compressWithLz4(db, 'event_groups');

  // Each retained event becomes a group of its own under its own id, its prospect put back in place.
  let after = '';
  for (;;) {
    const { rows } = await sql<{ id: string; team_id: string; seq: string | number; type: string; created_at: Date; data: Payload; prospect: Payload | null }>`
      select e.id, e.team_id, e.seq, e.type, e.created_at, e.data, p.data as prospect
      from events e left join event_prospects p on p.id = e.prospect_snapshot_id
      where e.id > ${after} order by e.id limit ${PAGE}`.execute(db);
    if (rows.length === 0) break;
    await insertRows(
      db as unknown as Db,
      'event_groups',
      rows.map((e) => {
        const event = { id: e.id, seq: Number(e.seq), type: e.type, timestamp: e.created_at.toISOString(), data: e.prospect ? withProspect(e.data, e.prospect) : e.data };
        return { id: e.id, team_id: e.team_id, first_seq: event.seq, last_seq: event.seq, created_at: e.created_at, data: JSON.stringify(encodeGroup([event])) };
      }),
    );
    after = rows.at(-1)!.id;
  }

  await sql`
    update webhook_deliveries d set group_id = e.id, event_type = e.type from events e where e.id = d.event_id;
    alter table webhook_deliveries
      drop constraint webhook_deliveries_event_id_fkey,
      alter column group_id set not null,
      alter column event_type set not null,
      add foreign key (group_id) references event_groups(id) on delete cascade;
    create index webhook_deliveries_group on webhook_deliveries (group_id);
    drop table events;
    drop table event_prospects;
  `.execute(db);
}

/** How migration 0012 stored a prospect shown more than once: its slots beside the thread and inside it left null. */
function withProspect(data: Payload, prospect: Payload): Payload {
  const out = { ...data };
  if ('prospect' in out) out.prospect = prospect;
  const thread = out.thread;
  if (typeof thread === 'object' && thread !== null && 'prospect' in thread) out.thread = { ...thread, prospect };
  return out;
}
