import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../src/http/server.js';
import { newTeam, testContext } from './helpers/app.js';
import { expectContract } from './helpers/contract.js';
import { fails, ok } from './helpers/sandbox.js';
import { sharedStore } from './helpers/store.js';
import { linkX, xWorld, type XWorld } from './helpers/x.js';

let world: XWorld;
beforeAll(async () => {
  world = await xWorld();
});
afterAll(() => world.close());

const callback = (query: Record<string, string>) => world.app.inject({ method: 'GET', url: `/api/v1/account-links/x/callback?${new URLSearchParams(query)}` });

describe('linking an X account through OAuth 2.0 with PKCE', () => {
  it('authorizes with the scopes, a state and an S256 challenge, then links the user X says signed in', async () => {
    const team = await world.team();
    const user = world.fake.addUser({ username: 'acme_sales', name: 'Acme Sales' });
    const { url } = await ok(team.request('POST', '/api/v1/account-links/x/authorize', {}));
    const authorize = new URL(url);
    expect(`${authorize.origin}${authorize.pathname}`).toBe('https://x.com/i/oauth2/authorize');
    expect(Object.fromEntries(authorize.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: 'inbox-client',
      redirect_uri: 'https://inbox.example/api/v1/account-links/x/callback',
      scope: 'dm.read dm.write tweet.read users.read like.write offline.access',
      code_challenge_method: 'S256',
    });
    const { code, state } = world.fake.consent(url, user.id);
    // The browser comes back without any API token.
    const link = await ok(callback({ code, state }));
    expect(link).toMatchObject({ platform: 'twitter', platformId: user.id, name: 'Acme Sales', username: 'acme_sales', image: user.profile_image_url, status: 'active' });
    expectContract('GET', '/account-links', [link]);
    expect(await ok(team.request('GET', '/api/v1/account-links'))).toEqual([link]);
  });

  it('uses each state once, and refuses unknown, expired or denied ones', async () => {
    const team = await world.team();
    const user = world.fake.addUser({ username: 'once_only' });
    const first = await ok(team.request('POST', '/api/v1/account-links/x/authorize', {}));
    const consent = world.fake.consent(first.url, user.id);
    await ok(callback({ code: consent.code, state: consent.state }));
    await fails(callback({ code: consent.code, state: consent.state }), 400, 'X_STATE_INVALID');
    await fails(callback({ code: 'x', state: 'never-issued' }), 400, 'X_STATE_INVALID');

    const late = world.fake.consent((await ok(team.request('POST', '/api/v1/account-links/x/authorize', {}))).url, user.id);
    world.clock.advance(11 * 60_000);
    await fails(callback({ code: late.code, state: late.state }), 400, 'X_STATE_INVALID');

    const refused = new URL((await ok(team.request('POST', '/api/v1/account-links/x/authorize', {}))).url).searchParams.get('state')!;
    await fails(callback({ error: 'access_denied', state: refused }), 400, 'X_AUTHORIZATION_DENIED');
    await fails(callback({ state: refused }), 400, 'VALIDATION_ERROR');
  });

  it('refuses a code whose PKCE verifier does not match', async () => {
    const team = await world.team();
    const user = world.fake.addUser({ username: 'pkce_check' });
    const { url } = await ok(team.request('POST', '/api/v1/account-links/x/authorize', {}));
    const tampered = new URL(url);
    tampered.searchParams.set('code_challenge', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    const { code, state } = world.fake.consent(tampered.toString(), user.id);
    await fails(callback({ code, state }), 400, 'X_AUTHORIZATION_FAILED');
  });

  it('re-activates the existing link when an offline account is linked again', async () => {
    const team = await world.team();
    const { link, user } = await linkX(world, team);
    await ok(team.request('PATCH', `/api/v1/account-links/${link.id}`, { status: 'offline' }));
    const again = await linkX(world, team, user);
    expect(again.link).toMatchObject({ id: link.id, status: 'active' });
    expect(await ok(team.request('GET', '/api/v1/account-links'))).toHaveLength(1);
  });

  it('keeps tokens and verifiers sealed at rest', async () => {
    const team = await world.team();
    const { link } = await linkX(world, team);
    const { db } = await sharedStore();
    const row = await db.selectFrom('x_credentials').selectAll().where('account_link_id', '=', link.id).executeTakeFirstOrThrow();
    const states = await db.selectFrom('x_oauth_states').selectAll().where('team_id', '=', team.teamId).execute();
    const stored = JSON.stringify([row, states]);
    expect(world.fake.issuedTokens.length).toBeGreaterThan(0);
    for (const token of world.fake.issuedTokens) expect(stored).not.toContain(token);
    expect(row.access_token_sealed).toMatch(/^v1\./);
    expect(row.scopes).toBe('dm.read dm.write tweet.read users.read like.write offline.access');
  });

  it('answers 503 X_NOT_CONFIGURED without a secret key or client', async () => {
    for (const env of [{}, { INBOX_SECRET_KEY: Buffer.alloc(32, 1).toString('base64') }] as Record<string, string>[]) {
      const app = await buildServer(await testContext({ env }));
      const team = await newTeam(app);
      const error = await fails(team.request('POST', '/api/v1/account-links/x/authorize', {}), 503, 'X_NOT_CONFIGURED');
      expect(error.message).toContain('INBOX_X_CLIENT_ID');
      await fails(app.inject({ method: 'GET', url: '/api/v1/account-links/x/callback?code=a&state=b' }), 503, 'X_NOT_CONFIGURED');
      await app.close();
    }
  });

  it('needs the API token to start linking, not to come back', async () => {
    const start = await world.app.inject({ method: 'POST', url: '/api/v1/account-links/x/authorize', payload: {} });
    expect(start.statusCode).toBe(401);
  });
});
