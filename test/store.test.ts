import { sql } from 'kysely';
import pino from 'pino';
import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { buildServer } from '../src/http/server.js';
import { newTeam, testContext } from './helpers/app.js';
import { sharedStore } from './helpers/store.js';
import { emitEvent, listEvents } from '../src/app/events/events.js';
import { insertBuiltRows, insertRows, updateRows } from '../src/store/bulk.js';

it('returns counts, int8 and numeric values as JS numbers on either engine', async () => {
  const { db } = await sharedStore();
  const row = await sql<{ n: unknown; big: unknown; money: unknown }>`
    select count(*) as n, 9007199254740991::int8 as big, 2500.5::numeric as money`.execute(db);
  expect(row.rows[0]).toEqual({ n: expect.any(Number), big: 9007199254740991, money: 2500.5 });
});

it('runs transactions atomically: a failure leaves nothing behind', async () => {
  const team = await newTeam();
  const { db } = await sharedStore();
  await expect(
    db.transaction().execute(async (trx) => {
      await trx.insertInto('tags').values({ id: 'tx1' + team.teamId.slice(3), team_id: team.teamId, name: 'a', color: null }).execute();
      throw new Error('boom');
    }),
  ).rejects.toThrow('boom');
  expect((await team.request('GET', '/api/v1/tags')).json()).toEqual([]);
});

it('never logs a token', async () => {
  let logs = '';
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs += chunk;
      done();
    },
  });
  const ctx = { ...(await testContext()), logger: pino({ level: 'trace' }, sink) };
  const app = await buildServer(ctx);
  const team = await newTeam(app);
  await team.request('GET', '/api/v1/team');
  await team.request('POST', '/api/v1/tokens', { name: 'secret-holder' });
  await team.request('GET', '/api/v1/nope');
  await app.close();
  expect(logs).toContain('incoming request');
  expect(logs).not.toContain(team.token);
  expect(logs).not.toMatch(/inbox_[A-Za-z0-9_-]{20,}/);
});

it('writes bulk rows in one statement, undefined columns left to their defaults row by row', async () => {
  const team = await newTeam();
  const { db } = await sharedStore();
  const rows = Array.from({ length: 17_000 }, (_, i) => ({
    id: `bulk${i}-${team.teamId}`,
    team_id: team.teamId,
    name: `tag ${i}`,
    // Unicode, quotes and a lone surrogate (which the drivers write as U+FFFD) survive the JSON document, and
    // so does text that reads like a surrogate's escape.
    color: i % 2 === 0 ? 'red "\\ é 🎉' : i === 1 ? 'a\uD800b' : i === 3 ? 'x\\ud800y\\\uDC00z' : null,
    created_at: i % 3 === 0 ? new Date('2025-06-01T12:00:00.123Z') : undefined,
  }));
  const returned = await insertRows<'tags', { id: string; color: string | null; created_at: Date }>(db, 'tags', rows, 'returning id, color, created_at');
  expect(returned).toHaveLength(17_000);
  const byId = new Map(returned.map((r) => [r.id, r]));
  expect(byId.get(rows[0]!.id)).toMatchObject({ color: 'red "\\ é 🎉', created_at: new Date('2025-06-01T12:00:00.123Z') });
  expect(byId.get(rows[1]!.id)).toMatchObject({ color: 'a\uFFFDb' });
  expect(byId.get(rows[3]!.id)).toMatchObject({ color: 'x\\ud800y\\\uFFFDz' });
  expect(byId.get(rows[1]!.id)!.created_at.getTime()).toBeGreaterThan(new Date('2025-06-02').getTime());

  await updateRows(db, 'tags', { id: 'text', color: 'text', updated_at: 'timestamptz' }, [
    { id: rows[0]!.id, color: 'blue', updated_at: new Date('2026-01-01T00:00:00Z') },
    { id: rows[1]!.id, color: 'green' },
  ]);
  const updated = await db.selectFrom('tags').select(['id', 'color', 'updated_at']).where('id', 'in', [rows[0]!.id, rows[1]!.id, rows[2]!.id]).orderBy('name').execute();
  expect(updated).toEqual([
    { id: rows[0]!.id, color: 'blue', updated_at: new Date('2026-01-01T00:00:00Z') },
    { id: rows[1]!.id, color: 'green', updated_at: null },
    { id: rows[2]!.id, color: 'red "\\ é 🎉', updated_at: null },
  ]);
  const { count } = await db.selectFrom('tags').select((eb) => eb.fn.countAll<number>().as('count')).where('team_id', '=', team.teamId).executeTakeFirstOrThrow();
  expect(Number(count)).toBe(17_000);
});

it('writes json cells as parameters, past the parameter limit in several statements', async () => {
  const team = await newTeam();
  const { db } = await sharedStore();
  const at = new Date('2026-01-01T00:00:00Z');
  // One json column: 66,000 rows are more parameters than one statement takes.
  const rows = Array.from({ length: 66_000 }, (_, i) => ({
    id: `group${i}-${team.teamId}`,
    team_id: team.teamId,
    first_seq: i,
    last_seq: i,
    created_at: at,
    data: JSON.stringify({ events: [], i }),
  }));
  await insertRows(db, 'event_groups', rows);
  const stored = await db.selectFrom('event_groups').select(['id', 'data']).where('team_id', '=', team.teamId).execute();
  expect(stored).toHaveLength(66_000);
  const data = new Map(stored.map((r) => [r.id, JSON.stringify(r.data)]));
  expect(rows.every((r) => data.get(r.id) === r.data)).toBe(true);
});

it('builds and inserts rows a chunk at a time, in order, and a failing chunk fails with its own error', async () => {
  const team = await newTeam();
  const { db } = await sharedStore();
  const built: number[] = [];
  const tagOf = (i: number) => {
    built.push(i);
    return { id: `built${i}-${team.teamId}`, team_id: team.teamId, name: `built ${String(i).padStart(4, '0')}` };
  };
  // Several chunks, the last one short.
  const rows = await insertBuiltRows(db, 'tags', Array.from({ length: 700 }, (_, i) => i), tagOf);
  expect(built).toEqual(Array.from({ length: 700 }, (_, i) => i));
  expect(rows.map((r) => r.id)).toEqual(built.map((i) => `built${i}-${team.teamId}`));
  const stored = await db.selectFrom('tags').select('id').where('team_id', '=', team.teamId).orderBy('name').execute();
  expect(stored.map((r) => r.id)).toEqual(rows.map((r) => r.id));

  // The third chunk repeats a name: the transaction fails with the unique violation, and keeps nothing.
  const clash = (i: number) => ({ ...tagOf(i + 1000), name: i === 600 ? 'built 0000' : `clash ${i}` });
  await expect(db.transaction().execute((trx) => insertBuiltRows(trx, 'tags', Array.from({ length: 700 }, (_, i) => i), clash))).rejects.toThrow(/duplicate key/);
  const { count } = await db.selectFrom('tags').select((eb) => eb.fn.countAll<number>().as('count')).where('team_id', '=', team.teamId).executeTakeFirstOrThrow();
  expect(Number(count)).toBe(700);
});

it('replays event payloads exactly as written (key order too), compressed with lz4 where the server has it', async () => {
  const team = await newTeam();
  const { db } = await sharedStore();
  const at = new Date('2026-01-01T00:00:00Z');
  // jsonb would hand these back shortest key first.
  const data = { prospect: { username: 'z' }, b: 1, a: [2, { zz: null, y: 'x' }] };
  await emitEvent(db, team.teamId, 'prospect.created', data, at);
  const { events } = await listEvents(db, team.teamId, { limit: 10 }, at);
  expect(JSON.stringify(events.at(-1)!.data)).toBe(JSON.stringify(data));

  const { rows } = await sql<{ type: string; compression: string; lz4: boolean }>`
    select a.atttypid::regtype::text as type, a.attcompression::text as compression,
           'lz4' = any(s.enumvals) as lz4
    from pg_attribute a, pg_settings s
    where a.attrelid = 'event_groups'::regclass and a.attname = 'data' and s.name = 'default_toast_compression'`.execute(db);
  expect(rows[0]!.type).toBe('json');
  expect(rows[0]!.compression).toBe(rows[0]!.lz4 ? 'l' : '');
});
