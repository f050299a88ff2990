import { sql } from 'kysely';
import pino from 'pino';
import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { buildServer } from '../src/http/server.js';
import { newTeam, testContext } from './helpers/app.js';
import { sharedStore } from './helpers/store.js';

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
