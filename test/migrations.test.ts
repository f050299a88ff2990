import { Migrator, sql } from 'kysely';
import { expect, it } from 'vitest';
import { listEvents } from '../src/app/events/events.js';
import { migrateToLatest } from '../src/store/db.js';
import { migrationProvider } from '../src/store/migrations/index.js';
import { emptyStore } from './helpers/fresh-store.js';

it('0015 turns each stored event into a group of its own, its shared prospect put back, and keeps its deliveries', async () => {
  const store = await emptyStore('migrations');
  try {
    const { db } = store;
    const { error } = await new Migrator({ db, provider: migrationProvider }).migrateTo('0014_team_keys');
    expect(error).toBeUndefined();
    const at = new Date('2026-01-01T00:00:00.000Z');
    const prospect = { platformId: '7001', displayName: 'Ada' };
    // As 0012 stored a send's events: the prospect once apart, its slots left null (keys in place).
    await sql`insert into teams (id, name, slug) values ('team1', 'Team', 'team')`.execute(db);
    await sql`insert into event_prospects (id, team_id, created_at, data) values ('snap1', 'team1', ${at}, ${JSON.stringify(prospect)})`.execute(db);
    await sql`
      insert into events (id, team_id, seq, type, created_at, data, prospect_snapshot_id) values
        ('ev1', 'team1', 1, 'thread.created', ${at}, '{"thread":{"id":"t1","prospect":null,"z":1},"prospect":null}', 'snap1'),
        ('ev2', 'team1', 2, 'tag.created', ${at}, '{"tag":{"name":"b","a":1}}', null)`.execute(db);
    await sql`insert into webhooks (id, team_id, url, event_types, secret) values ('hook1', 'team1', 'http://127.0.0.1:9/', '["*"]', 'whsec_x')`.execute(db);
    await sql`insert into webhook_deliveries (id, webhook_id, team_id, event_id, event_seq, next_attempt_at) values ('d2', 'hook1', 'team1', 'ev2', 2, ${at})`.execute(db);

    await migrateToLatest(db);
    const { events } = await listEvents(db, 'team1', { limit: 10 }, at);
    expect(events.map((e) => [e.id, e.seq, e.type, e.timestamp])).toEqual([
      ['ev1', 1, 'thread.created', at.toISOString()],
      ['ev2', 2, 'tag.created', at.toISOString()],
    ]);
    expect(JSON.stringify(events[0]!.data)).toBe(JSON.stringify({ thread: { id: 't1', prospect, z: 1 }, prospect }));
    expect(JSON.stringify(events[1]!.data)).toBe('{"tag":{"name":"b","a":1}}');
    const deliveries = await db.selectFrom('webhook_deliveries').select(['group_id', 'event_id', 'event_type']).execute();
    expect(deliveries).toEqual([{ group_id: 'ev2', event_id: 'ev2', event_type: 'tag.created' }]);
    const tables = await sql<{ name: string }>`select table_name as name from information_schema.tables where table_name in ('events', 'event_prospects')`.execute(db);
    expect(tables.rows).toEqual([]);
  } finally {
    await store.close();
  }
});
