import { expect, it } from 'vitest';
import { createToken, revokeToken } from '../src/app/team/tokens.js';
import { newId } from '../src/core/ids.js';
import { newTeam, testApp } from './helpers/app.js';
import { sharedStore } from './helpers/store.js';

it('creates a token shown once, lists it without the secret, and revokes it at once', async () => {
  const app = await testApp();
  const team = await newTeam();
  const created = await team.request('POST', '/api/v1/tokens', { name: 'zapier' });
  expect(created.statusCode).toBe(200);
  const { token, id, hint } = created.json();
  expect(token).toMatch(/^inbox_/);
  expect(hint).toBe(token.slice(-4));

  const listed = (await team.request('GET', '/api/v1/tokens')).json();
  expect(listed.map((t: { name: string }) => t.name)).toEqual(['test', 'zapier']);
  expect(JSON.stringify(listed)).not.toContain(token);

  const asNew = () => app.inject({ method: 'GET', url: '/api/v1/team', headers: { authorization: `Bearer ${token}` } });
  expect((await asNew()).statusCode).toBe(200);
  const revoked = await team.request('DELETE', `/api/v1/tokens/${id}`);
  expect(revoked.json().revokedAt).not.toBeNull();
  expect((await asNew()).statusCode).toBe(401);
});

it('stores only a hash of each token', async () => {
  const team = await newTeam();
  const { db } = await sharedStore();
  const rows = await db.selectFrom('api_tokens').selectAll().where('team_id', '=', team.teamId).execute();
  expect(rows).toHaveLength(1);
  expect(JSON.stringify(rows)).not.toContain(team.token);
});

it('lets only owners and admins manage tokens', async () => {
  const app = await testApp();
  const team = await newTeam();
  const { db } = await sharedStore();
  const userId = newId();
  const memberId = newId();
  await db.insertInto('users').values({ id: userId, email: `${userId}@example.com`, name: 'Agent', image: null }).execute();
  await db.insertInto('members').values({ id: memberId, team_id: team.teamId, user_id: userId, role: 'user' }).execute();
  const { token } = await createToken(db, { teamId: team.teamId, memberId, name: 'agent' }, new Date());
  const response = await app.inject({ method: 'GET', url: '/api/v1/tokens', headers: { authorization: `Bearer ${token}` } });
  expect(response.statusCode).toBe(403);
  expect(response.json().error.code).toBe('FORBIDDEN');
  const members = await app.inject({ method: 'GET', url: '/api/v1/members', headers: { authorization: `Bearer ${token}` } });
  expect(members.json()).toHaveLength(2);
});

it('cannot revoke another team’s token', async () => {
  const [a, b] = [await newTeam(), await newTeam()];
  const { id } = (await a.request('POST', '/api/v1/tokens', { name: 'x' })).json();
  const response = await b.request('DELETE', `/api/v1/tokens/${id}`);
  expect(response.statusCode).toBe(404);
  expect(response.json().error.code).toBe('TOKEN_NOT_FOUND');
  expect((await a.request('GET', '/api/v1/tokens')).json().every((t: { revokedAt: null }) => t.revokedAt === null)).toBe(true);
});

it('counts a request with a live token against its team, and nothing for a revoked or unknown token', async () => {
  const app = await testApp();
  const team = await newTeam();
  const { db } = await sharedStore();
  const counted = async () =>
    (await db.selectFrom('rate_limit_buckets').select('hits').where('team_id', '=', team.teamId).where('window_seconds', '=', 60).execute())
      .reduce((sum, r) => sum + r.hits, 0);
  const as = (token: string) => app.inject({ method: 'GET', url: '/api/v1/team', headers: { authorization: `Bearer ${token}` } });

  expect((await as(team.token)).statusCode).toBe(200);
  expect(await counted()).toBe(1);
  const used = await db.selectFrom('api_tokens').select('last_used_at').where('team_id', '=', team.teamId).executeTakeFirstOrThrow();
  expect(used.last_used_at).not.toBeNull();

  const second = await createToken(db, { teamId: team.teamId, name: 'second' }, new Date());
  await revokeToken(db, team.teamId, second.id, new Date());
  expect((await as(second.token)).statusCode).toBe(401);
  expect((await as(`${team.token}x`)).statusCode).toBe(401);
  expect(await counted()).toBe(1);
});
