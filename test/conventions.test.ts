import { describe, expect, it } from 'vitest';
import { buildServer } from '../src/http/server.js';
import { newTeam, testApp, testContext } from './helpers/app.js';
import { expectContract } from './helpers/contract.js';

describe('authentication', () => {
  it.each([
    ['missing', undefined],
    ['without Bearer', 'inbox_whatever'],
    ['malformed', 'Bearer'],
    ['unknown', 'Bearer inbox_not_a_real_token'],
    ['two words', 'Bearer a b'],
  ])('rejects a %s token with 401 UNAUTHORIZED', async (_label, authorization) => {
    const app = await testApp();
    const response = await app.inject({ method: 'GET', url: '/api/v1/team', headers: authorization ? { authorization } : {} });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({
      error: { code: 'UNAUTHORIZED', message: 'Invalid or missing authentication token', status: 401 },
    });
  });

  it('knows the team from the token alone', async () => {
    const [a, b] = [await newTeam(undefined, 'Acme Corp'), await newTeam()];
    const team = (await a.request('GET', '/api/v1/team')).json();
    expect(team).toMatchObject({ id: a.teamId, name: 'Acme Corp', currency: 'USD', allowSupportAccess: false });
    expect(team.slug).toMatch(/^acme-corp/);
    expectContract('GET', '/team', team);
    expect((await b.request('GET', '/api/v1/team')).json().id).toBe(b.teamId);
  });
});

describe('members', () => {
  it('lists the team’s members and gets one, matching the contract', async () => {
    const team = await newTeam();
    const members = (await team.request('GET', '/api/v1/members')).json();
    expectContract('GET', '/members', members);
    expect(members).toHaveLength(1);
    expect(members[0]).toMatchObject({ id: team.ownerMemberId, role: 'owner' });
    const member = (await team.request('GET', `/api/v1/members/${team.ownerMemberId}`)).json();
    expectContract('GET', '/members/{memberId}', member);
    const other = await newTeam();
    const foreign = await other.request('GET', `/api/v1/members/${team.ownerMemberId}`);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().error.code).toBe('MEMBER_NOT_FOUND');
  });
});

describe('error envelope', () => {
  it('answers unknown routes with 404 NOT_FOUND', async () => {
    const team = await newTeam();
    for (const url of ['/api/v1/nope', '/nope']) {
      const response = await team.request('GET', url);
      expect(response.statusCode).toBe(404);
      expect(response.json().error).toMatchObject({ code: 'NOT_FOUND', status: 404 });
    }
  });

  it('answers malformed JSON with 400, never 500', async () => {
    const app = await testApp();
    const team = await newTeam();
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/tags',
      headers: { authorization: `Bearer ${team.token}`, 'content-type': 'application/json' },
      payload: '{"name": ',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({ code: 'BAD_REQUEST', status: 400 });
  });

  it('answers an over-size body with 413', async () => {
    const ctx = await testContext({ env: { INBOX_BODY_LIMIT_BYTES: '1024' } });
    const app = await buildServer(ctx);
    const team = await newTeam(app);
    const response = await team.request('POST', '/api/v1/tags', { name: 'x'.repeat(2000) });
    expect(response.statusCode).toBe(413);
    expect(response.json().error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', status: 413 });
    expect((await team.request('GET', '/api/v1/tags')).json()).toEqual([]);
    await app.close();
  });

  it('lists the offending fields of a validation error', async () => {
    const team = await newTeam();
    const response = await team.request('POST', '/api/v1/tags', { name: '', color: 7 });
    expect(response.statusCode).toBe(400);
    const { error } = response.json();
    expect(error.code).toBe('VALIDATION_ERROR');
    expect(error.details.map((d: { field: string }) => d.field).sort()).toEqual(['body.color', 'body.name']);
  });

  it('refuses the NUL character in any field, which the store cannot hold, and stores nothing', async () => {
    const team = await newTeam();
    const response = await team.request('POST', '/api/v1/lists/nope%00/leads?x=a%00', { leads: [{ username: 'a\u0000b' }], 'k\u0000': 1 });
    expect(response.statusCode).toBe(400);
    const { error } = response.json();
    expect(error.code).toBe('VALIDATION_ERROR');
    expect(error.details.map((d: { field: string }) => d.field)).toEqual(['params.listId', 'querystring.x', 'body.leads.0.username', 'body.k\\u0000']);
    const tag = await team.request('POST', '/api/v1/tags', { name: 'Hot\u0000' });
    expect(tag.statusCode).toBe(400);
    expect((await team.request('GET', '/api/v1/tags')).json()).toEqual([]);
  });

  it('answers paths the router refuses in the envelope', async () => {
    const team = await newTeam();
    const long = await team.request('GET', `/api/v1/tags/${'x'.repeat(3000)}`);
    expect(long.statusCode).toBe(414);
    expect(long.json().error).toMatchObject({ code: 'URI_TOO_LONG', status: 414 });
  });

  it('rejects bad query values', async () => {
    const team = await newTeam();
    for (const query of ['limit=0', 'limit=1001', 'limit=abc', 'afterSeq=-1']) {
      const response = await team.request('GET', `/api/v1/events?${query}`);
      expect(response.statusCode, query).toBe(400);
      expect(response.json().error.code).toBe('VALIDATION_ERROR');
    }
  });
});

describe('documentation and health', () => {
  it('serves an OpenAPI 3.1 document generated from the route schemas', async () => {
    const app = await testApp();
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/team', '/api/v1/tags/{tagId}', '/api/v1/events']));
    expect(doc.paths['/api/v1/tags'].post.requestBody.content['application/json'].schema.properties.name).toMatchObject({
      type: 'string',
      minLength: 1,
      maxLength: 255,
    });
    const docs = await app.inject({ method: 'GET', url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['content-type']).toContain('text/html');
  });

  it('reports liveness and readiness', async () => {
    const app = await testApp();
    expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  });

  it('echoes a request id on every response', async () => {
    const team = await newTeam();
    const response = await team.request('GET', '/api/v1/team');
    expect(response.headers['x-request-id']).toMatch(/^[0-9a-z]+$/);
  });
});

describe('query strings', () => {
  it('reads arrays spelled a=1&a=2, a[]=1 and a[0]=1 alike, and objects in bracket notation', async () => {
    const team = await newTeam();
    const link = async (username: string) =>
      (await team.request('POST', '/api/v1/account-links/sandbox', { username: `${username}${Date.now()}` })).json().id as string;
    const [a, b, c] = [await link('qa'), await link('qb'), await link('qc')];
    for (const account of [a, b, c]) {
      const sent = await team.request('POST', '/api/v1/threads/messages', {
        accountLinkId: account,
        externalPlatformId: String(7_000_000_000 + Math.floor(Math.random() * 1e9)),
        content: 'hello',
      });
      expect(sent.statusCode).toBe(200);
    }
    const accountsOf = async (query: string) => {
      const response = await team.request('GET', `/api/v1/threads?inbox=no-reply&${query}`);
      expect(response.statusCode, query).toBe(200);
      return response.json().threads.map((t: { accountLinkId: string }) => t.accountLinkId).sort();
    };
    const expected = [a, b].sort();
    expect(await accountsOf(`accountLinkIds=${a}&accountLinkIds=${b}`)).toEqual(expected);
    expect(await accountsOf(`accountLinkIds[]=${a}&accountLinkIds[]=${b}`)).toEqual(expected);
    expect(await accountsOf(`accountLinkIds[1]=${b}&accountLinkIds[0]=${a}`)).toEqual(expected);
    expect(await accountsOf(`accountLinkIds[]=${c}`)).toEqual([c]);
    expect(await accountsOf(`accountLinkIds=${c}`)).toEqual([c]);
    expect(await accountsOf(`filters[sortOrder]=asc`)).toHaveLength(3);
  });
});
