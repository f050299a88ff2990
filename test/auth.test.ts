import { Writable } from 'node:stream';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { describe, expect, it } from 'vitest';
import { hashSecret, pruneSignIns } from '../src/app/team/sessions.js';
import { createLogger } from '../src/cli/runtime.js';
import { loadConfig } from '../src/config.js';
import { newId } from '../src/core/ids.js';
import { buildServer } from '../src/http/server.js';
import { newTeam, testApp, testContext } from './helpers/app.js';
import { addMember, browser, freshAddress, HOST, ORIGIN, ownerCredentials, uniqueEmail } from './helpers/session.js';
import { conversation } from './helpers/sandbox.js';
import { sharedStore } from './helpers/store.js';

const WRONG = { code: 'INVALID_CREDENTIALS', message: 'The e-mail or password is incorrect', status: 401 };

async function signedInOwner() {
  const app = await testApp();
  const team = await newTeam();
  const credentials = await ownerCredentials(team.ownerMemberId);
  const page = browser(app);
  const response = await page.request('POST', '/api/v1/auth/sign-in', credentials);
  expect(response.statusCode).toBe(200);
  return { app, team, page, credentials, response };
}

describe('sign-in', () => {
  it('signs in with a session cookie that is HttpOnly, SameSite=Lax, on the whole site, and answers me', async () => {
    const { team, page, credentials, response } = await signedInOwner();
    expect(response.json()).toEqual({
      member: { id: team.ownerMemberId, userId: expect.any(String), name: 'Owner', email: credentials.email, role: 'owner' },
      team: { id: team.teamId, name: expect.any(String) },
    });
    const cookie = response.cookies.find((c) => c.name === 'inbox_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(cookie.secure).toBeUndefined();
    expect(cookie.maxAge).toBe(30 * 86_400);

    const me = await page.request('GET', '/api/v1/auth/me');
    expect(me.statusCode).toBe(200);
    expect(me.json()).toEqual(response.json());
    // the same API as a token: the rate-limit headers included
    const threads = await page.request('GET', '/api/v1/team');
    expect(threads.statusCode).toBe(200);
    expect(threads.headers['x-ratelimit-limit']).toBeDefined();
  });

  it('stores only the hash of the cookie', async () => {
    const { team, page } = await signedInOwner();
    const { db } = await sharedStore();
    const rows = await db.selectFrom('sessions').selectAll().where('team_id', '=', team.teamId).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.id).toBe(hashSecret(page.cookie!));
    expect(JSON.stringify(rows)).not.toContain(page.cookie!);
    const user = await db.selectFrom('users as u').innerJoin('members as m', 'm.user_id', 'u.id').select('u.password_hash').where('m.id', '=', team.ownerMemberId).executeTakeFirstOrThrow();
    expect(user.password_hash).toMatch(/^scrypt\$16384\$8\$1\$[\w-]+\$[\w-]+$/);
  });

  it('answers a wrong password and an unknown e-mail alike', async () => {
    const app = await testApp();
    const team = await newTeam();
    const { email } = await ownerCredentials(team.ownerMemberId);
    const page = browser(app);
    const wrongPassword = await page.request('POST', '/api/v1/auth/sign-in', { email, password: 'not the password' });
    const unknown = await page.request('POST', '/api/v1/auth/sign-in', { email: uniqueEmail(), password: 'not the password' });
    expect(wrongPassword.statusCode).toBe(401);
    expect(wrongPassword.json()).toEqual({ error: WRONG });
    expect(unknown.json()).toEqual({ error: WRONG });
    expect(wrongPassword.cookies).toHaveLength(0);
    // a member who never set a password cannot sign in with any
    const other = await newTeam();
    const noPassword = await page.request('POST', '/api/v1/auth/sign-in', { email: `owner@${(await other.request('GET', '/api/v1/team')).json().slug}.localhost`, password: 'x' });
    expect(noPassword.json()).toEqual({ error: WRONG });
  });

  it('takes the e-mail in any case', async () => {
    const app = await testApp();
    const team = await newTeam();
    const credentials = await ownerCredentials(team.ownerMemberId);
    const response = await browser(app).request('POST', '/api/v1/auth/sign-in', { ...credentials, email: credentials.email.toUpperCase() });
    expect(response.statusCode).toBe(200);
  });

  it('limits sign-in attempts per e-mail and per address', async () => {
    const app = await testApp();
    const team = await newTeam();
    const credentials = await ownerCredentials(team.ownerMemberId);
    const attacker = browser(app);
    for (let i = 0; i < 10; i++) {
      expect((await attacker.request('POST', '/api/v1/auth/sign-in', { email: credentials.email, password: `guess number ${i}` })).statusCode).toBe(401);
    }
    const limited = await attacker.request('POST', '/api/v1/auth/sign-in', credentials);
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // from another address too: the e-mail is what is being guessed
    expect((await browser(app).request('POST', '/api/v1/auth/sign-in', credentials)).statusCode).toBe(429);

    const sprayer = browser(app);
    for (let i = 0; i < 50; i++) {
      expect((await sprayer.request('POST', '/api/v1/auth/sign-in', { email: uniqueEmail('spray'), password: 'a guessed password' })).statusCode).toBe(401);
    }
    expect((await sprayer.request('POST', '/api/v1/auth/sign-in', { email: uniqueEmail('spray'), password: 'x' })).statusCode).toBe(429);
  }, 60_000);

  it('refuses a sign-in form posted from another site', async () => {
    const app = await testApp();
    const team = await newTeam();
    const credentials = await ownerCredentials(team.ownerMemberId);
    const response = await browser(app).request('POST', '/api/v1/auth/sign-in', credentials, { origin: 'https://evil.example' });
    expect(response.statusCode).toBe(403);
    expect(response.json().error.code).toBe('CSRF_REJECTED');
  });
});

describe('behind a proxy (INBOX_TRUST_PROXY)', () => {
  async function serverTrusting(trustProxy: string | undefined) {
    const app = await buildServer(await testContext({ env: { INBOX_AUTH_FAILURES_PER_MINUTE: '3', ...(trustProxy === undefined ? {} : { INBOX_TRUST_PROXY: trustProxy }) } }));
    await app.ready();
    return app;
  }
  const PROXY = '192.0.2.10';
  const signInThrough = (app: FastifyInstance, credentials: { email: string; password: string }, headers: Record<string, string>, remoteAddress = PROXY) =>
    app.inject({ method: 'POST', url: '/api/v1/auth/sign-in', payload: credentials, remoteAddress, headers: { host: HOST, ...headers } });
  const badTokenThrough = (app: FastifyInstance, client: string, remoteAddress = PROXY) =>
    app.inject({ method: 'GET', url: '/api/v1/team', remoteAddress, headers: { authorization: 'Bearer inbox_guessed', 'x-forwarded-for': client } });

  it('marks the cookie Secure when a trusted proxy says the request came over HTTPS, and not when another client says so', async () => {
    const team = await newTeam();
    const credentials = await ownerCredentials(team.ownerMemberId);
    const secure = async (response: LightMyRequestResponse) => {
      expect(response.statusCode).toBe(200);
      return response.cookies.find((c) => c.name === 'inbox_session')!.secure === true;
    };
    const forwardedHttps = { 'x-forwarded-proto': 'https', 'x-forwarded-for': freshAddress() };
    const trustingAll = await serverTrusting('true');
    expect(await secure(await signInThrough(trustingAll, credentials, forwardedHttps))).toBe(true);
    expect(await secure(await signInThrough(trustingAll, credentials, { 'x-forwarded-for': freshAddress() }))).toBe(false);
    await trustingAll.close();

    const trustingOne = await serverTrusting(`${PROXY}, 198.51.100.0/24`);
    expect(await secure(await signInThrough(trustingOne, credentials, forwardedHttps))).toBe(true);
    expect(await secure(await signInThrough(trustingOne, credentials, forwardedHttps, '198.51.100.7'))).toBe(true);
    expect(await secure(await signInThrough(trustingOne, credentials, forwardedHttps, '203.0.113.5'))).toBe(false);
    await trustingOne.close();

    const trustingNone = await serverTrusting(undefined);
    expect(await secure(await signInThrough(trustingNone, credentials, forwardedHttps))).toBe(false);
    await trustingNone.close();
  });

  it('limits the clients a trusted proxy forwards each on its own address', async () => {
    const app = await serverTrusting('1');
    const [first, second] = [freshAddress(), freshAddress()];
    for (let i = 0; i < 3; i++) expect((await badTokenThrough(app, first)).statusCode).toBe(401);
    expect((await badTokenThrough(app, first)).statusCode).toBe(429);
    expect((await badTokenThrough(app, second)).statusCode).toBe(401);

    // sign-in's per-address limit too (50 attempts in 15 minutes)
    const spray = (client: string) => signInThrough(app, { email: uniqueEmail('spray'), password: 'a guessed password' }, { origin: ORIGIN, 'x-forwarded-for': client });
    const sprayer = freshAddress();
    for (let i = 0; i < 50; i++) expect((await spray(sprayer)).statusCode).toBe(401);
    expect((await spray(sprayer)).statusCode).toBe(429);
    expect((await spray(freshAddress())).statusCode).toBe(401);
    await app.close();
  }, 60_000);

  it('without the setting ignores X-Forwarded-For: a client cannot choose its address to escape a limit', async () => {
    const app = await serverTrusting(undefined);
    const client = freshAddress();
    for (let i = 0; i < 3; i++) expect((await badTokenThrough(app, freshAddress(), client)).statusCode).toBe(401);
    expect((await badTokenThrough(app, freshAddress(), client)).statusCode).toBe(429);
    await app.close();
  });

  it("matches a signed-in write's Origin against a trusted proxy's X-Forwarded-Host", async () => {
    const team = await newTeam();
    const credentials = await ownerCredentials(team.ownerMemberId);
    const write = async (app: FastifyInstance) => {
      const viaProxy = { host: '127.0.0.1:3000', 'x-forwarded-host': HOST, origin: ORIGIN, 'x-forwarded-for': freshAddress() };
      const signedIn = await app.inject({ method: 'POST', url: '/api/v1/auth/sign-in', payload: credentials, remoteAddress: PROXY, headers: viaProxy });
      if (signedIn.statusCode !== 200) return signedIn;
      const cookie = `inbox_session=${signedIn.cookies.find((c) => c.name === 'inbox_session')!.value}`;
      return app.inject({ method: 'POST', url: '/api/v1/tags', payload: { name: `via proxy ${newId()}` }, remoteAddress: PROXY, headers: { ...viaProxy, cookie } });
    };
    const trusting = await serverTrusting(PROXY);
    expect((await write(trusting)).statusCode).toBeLessThan(300);
    await trusting.close();
    // unbelieved, the forwarded host is not this one: even the sign-in looks like another site's form
    const untrusting = await serverTrusting(undefined);
    expect((await write(untrusting)).json().error.code).toBe('CSRF_REJECTED');
    await untrusting.close();
  });

  it('refuses a setting that is not true, false, a hop count or addresses', () => {
    expect(loadConfig({ INBOX_TRUST_PROXY: '10.0.0.0/8,loopback, ::1' }).trustProxy).toEqual(['10.0.0.0/8', 'loopback', '::1']);
    expect(loadConfig({ INBOX_TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(() => loadConfig({ INBOX_TRUST_PROXY: 'yes, 10.0.0.0/33' })).toThrow('INBOX_TRUST_PROXY: must be true, false, a hop count or comma-separated addresses or CIDRs (not "yes", "10.0.0.0/33")');
  });
});

describe('sessions', () => {
  it('sign-out ends the session row and clears the cookie', async () => {
    const { app, page, team } = await signedInOwner();
    const secret = page.cookie!;
    const out = await page.request('POST', '/api/v1/auth/sign-out');
    expect(out.statusCode).toBe(204);
    const cleared = out.cookies.find((c) => c.name === 'inbox_session')!;
    expect(cleared.value).toBe('');
    const { db } = await sharedStore();
    expect(await db.selectFrom('sessions').selectAll().where('team_id', '=', team.teamId).execute()).toHaveLength(0);
    const replayed = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { host: HOST, cookie: `inbox_session=${secret}` } });
    expect(replayed.statusCode).toBe(401);
  });

  it('expires after 30 idle days and slides while used, at most once a minute', async () => {
    const { page } = await signedInOwner();
    const { db } = await sharedStore();
    const id = hashSecret(page.cookie!);
    const read = () => db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const created = await read();
    expect(created.expires_at.getTime() - created.created_at.getTime()).toBe(30 * 86_400_000);

    await page.request('GET', '/api/v1/auth/me');
    expect((await read()).expires_at).toEqual(created.expires_at); // used within the minute: no write

    const twoMinutesAgo = new Date(Date.now() - 120_000);
    await db.updateTable('sessions').set({ last_seen_at: twoMinutesAgo, expires_at: new Date(Date.now() + 1000) }).where('id', '=', id).execute();
    expect((await page.request('GET', '/api/v1/auth/me')).statusCode).toBe(200);
    const slid = await read();
    expect(slid.expires_at.getTime()).toBeGreaterThan(Date.now() + 29 * 86_400_000);

    await db.updateTable('sessions').set({ expires_at: new Date(Date.now() - 1000) }).where('id', '=', id).execute();
    const expired = await page.request('GET', '/api/v1/auth/me');
    expect(expired.statusCode).toBe(401);
    expect(expired.json().error.code).toBe('UNAUTHORIZED');

    // Housekeeping deletes it (and only what has expired).
    const { page: other } = await signedInOwner();
    await pruneSignIns(db, new Date());
    expect(await db.selectFrom('sessions').select('id').where('id', '=', id).execute()).toEqual([]);
    expect(await db.selectFrom('sessions').select('id').where('id', '=', hashSecret(other.cookie!)).execute()).toHaveLength(1);
  });

  it('a cookie write needs this server’s Origin; token requests need none', async () => {
    const { page, team } = await signedInOwner();
    const tag = (origin: string | undefined) => page.request('POST', '/api/v1/tags', { name: `tag ${Math.random()}` }, { origin });
    const missing = await tag(undefined);
    expect(missing.statusCode).toBe(403);
    expect(missing.json().error).toMatchObject({ code: 'CSRF_REJECTED', status: 403 });
    expect((await tag('https://evil.example')).json().error.code).toBe('CSRF_REJECTED');
    expect((await tag(`http://${HOST}.evil.example`)).statusCode).toBe(403);
    expect((await tag('null')).statusCode).toBe(403);
    expect((await tag(ORIGIN)).statusCode).toBeLessThan(300);
    // reads need no Origin
    expect((await page.request('GET', '/api/v1/tags', undefined, { origin: undefined })).statusCode).toBe(200);
    // a token needs no Origin
    expect((await team.request('POST', '/api/v1/tags', { name: 'by token' })).statusCode).toBeLessThan(300);
    // a bearer header decides alone: a bad token is not rescued by a good cookie
    const badToken = await page.request('GET', '/api/v1/auth/me', undefined, { authorization: 'Bearer inbox_nope' });
    expect(badToken.statusCode).toBe(401);
  });

  it('me answers for a token too', async () => {
    const team = await newTeam();
    const me = await team.request('GET', '/api/v1/auth/me');
    expect(me.statusCode).toBe(200);
    expect(me.json().member).toMatchObject({ id: team.ownerMemberId, role: 'owner' });
  });
});

describe('invites', () => {
  it('the owner invites someone, who opens the link, chooses a password and later signs in', async () => {
    const { app, page, team } = await signedInOwner();
    const email = uniqueEmail('new');
    const created = await page.request('POST', '/api/v1/invites', { email, role: 'admin' });
    expect(created.statusCode).toBe(201);
    const invite = created.json();
    expect(invite).toEqual({ id: expect.any(String), email, role: 'admin', url: expect.stringMatching(/^\/app\/accept\/[\w-]{43}$/), expiresAt: expect.any(String), createdAt: expect.any(String) });
    expect(Date.parse(invite.expiresAt) - Date.parse(invite.createdAt)).toBe(7 * 86_400_000);
    const listed = (await page.request('GET', '/api/v1/invites')).json();
    expect(listed.data).toEqual([{ id: invite.id, email, role: 'admin', expiresAt: invite.expiresAt, createdAt: invite.createdAt }]);

    const secret = invite.url.split('/').at(-1);
    const guest = browser(app);
    const looked = await guest.request('GET', `/api/v1/invites/accept/${secret}`);
    expect(looked.json()).toEqual({ email, teamName: expect.any(String), kind: 'invite' });

    const short = await guest.request('POST', `/api/v1/invites/accept/${secret}`, { password: 'short' });
    expect(short.statusCode).toBe(400);
    expect(short.json().error.code).toBe('VALIDATION_ERROR');
    expect(short.json().error.details[0].field).toContain('password');

    const accepted = await guest.request('POST', `/api/v1/invites/accept/${secret}`, { password: 'my new password', name: 'Newcomer' });
    expect(accepted.statusCode).toBe(200);
    expect(accepted.json()).toMatchObject({ member: { email, name: 'Newcomer', role: 'admin' }, team: { id: team.teamId } });
    expect((await guest.request('GET', '/api/v1/auth/me')).json().member.email).toBe(email);

    // used: gone from the list and from the link
    expect((await page.request('GET', '/api/v1/invites')).json().data).toEqual([]);
    expect((await guest.request('GET', `/api/v1/invites/accept/${secret}`)).json().error.code).toBe('INVITE_NOT_FOUND');
    expect((await guest.request('POST', `/api/v1/invites/accept/${secret}`, { password: 'my new password' })).statusCode).toBe(404);

    const later = browser(app);
    expect((await later.request('POST', '/api/v1/auth/sign-in', { email, password: 'my new password' })).statusCode).toBe(200);
    const members = (await team.request('GET', '/api/v1/members')).json();
    expect(members.map((m: { email: string }) => m.email)).toContain(email);
  });

  it("refuses accepting an invite from another site's page (CSRF), and the link stays usable", async () => {
    const { app, page } = await signedInOwner();
    const { url } = (await page.request('POST', '/api/v1/invites', { email: uniqueEmail() })).json();
    const secret = url.split('/').at(-1);
    const guest = browser(app);
    const forged = await guest.request('POST', `/api/v1/invites/accept/${secret}`, { password: 'chosen by evil' }, { origin: 'https://evil.example' });
    expect(forged.statusCode).toBe(403);
    expect(forged.json().error.code).toBe('CSRF_REJECTED');
    expect(forged.cookies).toHaveLength(0);
    expect((await guest.request('GET', `/api/v1/invites/accept/${secret}`)).statusCode).toBe(200);
    expect((await guest.request('POST', `/api/v1/invites/accept/${secret}`, { password: 'chosen by the invitee' })).statusCode).toBe(200);
  });

  it('an invite for an existing user adds the membership and asks for that user’s password', async () => {
    const { app, page, team } = await signedInOwner();
    const other = await newTeam();
    const existing = await addMember(other.teamId, 'user');
    const { url } = (await page.request('POST', '/api/v1/invites', { email: existing.email })).json();
    const secret = url.split('/').at(-1);
    const guest = browser(app);
    const wrong = await guest.request('POST', `/api/v1/invites/accept/${secret}`, { password: 'someone elses pw' });
    expect(wrong.statusCode).toBe(401);
    const accepted = await guest.request('POST', `/api/v1/invites/accept/${secret}`, { password: existing.password });
    expect(accepted.statusCode).toBe(200);
    expect(accepted.json()).toMatchObject({ member: { userId: existing.userId, role: 'user' }, team: { id: team.teamId } });
  });

  it('revokes an invite; expired and unknown links are not found', async () => {
    const { page } = await signedInOwner();
    const { id, url } = (await page.request('POST', '/api/v1/invites', { email: uniqueEmail() })).json();
    expect((await page.request('DELETE', `/api/v1/invites/${id}`)).statusCode).toBe(204);
    expect((await page.request('GET', `/api/v1/invites/accept/${url.split('/').at(-1)}`)).json().error.code).toBe('INVITE_NOT_FOUND');
    expect((await page.request('DELETE', `/api/v1/invites/${id}`)).json().error.code).toBe('INVITE_NOT_FOUND');

    const second = (await page.request('POST', '/api/v1/invites', { email: uniqueEmail() })).json();
    const { db } = await sharedStore();
    await db.updateTable('invites').set({ expires_at: new Date(Date.now() - 1000) }).where('id', '=', second.id).execute();
    const secret = second.url.split('/').at(-1);
    expect((await page.request('GET', `/api/v1/invites/accept/${secret}`)).statusCode).toBe(404);
    expect((await page.request('POST', `/api/v1/invites/accept/${secret}`, { password: 'long enough password' })).json().error.code).toBe('INVITE_NOT_FOUND');
    expect((await page.request('GET', '/api/v1/invites')).json().data).toEqual([]);
  });

  it('refuses a bad e-mail and an existing member', async () => {
    const { page, credentials } = await signedInOwner();
    const bad = await page.request('POST', '/api/v1/invites', { email: 'not an e-mail' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('VALIDATION_ERROR');
    expect((await page.request('POST', '/api/v1/invites', { email: credentials.email })).statusCode).toBe(409);
  });
});

describe('members', () => {
  async function signedInAs(app: FastifyInstance, member: { email: string; password: string }) {
    const page = browser(app);
    expect((await page.request('POST', '/api/v1/auth/sign-in', { email: member.email, password: member.password })).statusCode).toBe(200);
    return page;
  }

  it('an owner changes roles; the member acts with the new one from the next request', async () => {
    const { app, page } = await signedInOwner();
    const agent = await addMember((await page.request('GET', '/api/v1/auth/me')).json().team.id, 'user');
    const agentPage = await signedInAs(app, agent);
    expect((await agentPage.request('GET', '/api/v1/invites')).statusCode).toBe(403);

    const promoted = await page.request('PATCH', `/api/v1/members/${agent.memberId}`, { role: 'admin' });
    expect(promoted.statusCode).toBe(200);
    expect(promoted.json()).toMatchObject({ id: agent.memberId, email: agent.email, role: 'admin', updatedAt: expect.any(String) });
    expect((await agentPage.request('GET', '/api/v1/invites')).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/api/v1/invites', headers: { authorization: `Bearer ${agent.token}` } })).statusCode).toBe(200);

    expect((await page.request('PATCH', `/api/v1/members/${agent.memberId}`, { role: 'owner' })).json().role).toBe('owner');
    const bad = await page.request('PATCH', `/api/v1/members/${agent.memberId}`, { role: 'king' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({ code: 'VALIDATION_ERROR', details: [{ field: 'body.role', message: expect.any(String) }] });
  });

  it('an admin manages admins and users but cannot make, change or remove an owner', async () => {
    const app = await testApp();
    const team = await newTeam();
    const [admin, agent] = [await addMember(team.teamId, 'admin'), await addMember(team.teamId, 'user')];
    const page = await signedInAs(app, admin);
    for (const [method, url, body] of [
      ['PATCH', `/api/v1/members/${agent.memberId}`, { role: 'owner' }],
      ['PATCH', `/api/v1/members/${team.ownerMemberId}`, { role: 'user' }],
      ['DELETE', `/api/v1/members/${team.ownerMemberId}`, undefined],
    ] as const) {
      const refused = await page.request(method, url, body);
      expect(refused.statusCode, `${method} ${url}`).toBe(403);
      expect(refused.json().error).toEqual({ code: 'FORBIDDEN', message: 'Only owners can make, change or remove an owner', status: 403 });
    }
    expect((await team.request('GET', `/api/v1/members/${team.ownerMemberId}`)).json().role).toBe('owner');
    expect((await page.request('PATCH', `/api/v1/members/${agent.memberId}`, { role: 'admin' })).json().role).toBe('admin');
    expect((await page.request('DELETE', `/api/v1/members/${agent.memberId}`)).statusCode).toBe(204);
    expect((await team.request('GET', '/api/v1/members')).json().map((m: { id: string }) => m.id).sort()).toEqual([team.ownerMemberId, admin.memberId].sort());
  });

  it('a user member can change no role and remove no one, by cookie or token', async () => {
    const app = await testApp();
    const team = await newTeam();
    const [agent, other] = [await addMember(team.teamId, 'user'), await addMember(team.teamId, 'user')];
    const page = await signedInAs(app, agent);
    for (const response of [
      await page.request('PATCH', `/api/v1/members/${other.memberId}`, { role: 'admin' }),
      await page.request('PATCH', `/api/v1/members/${agent.memberId}`, { role: 'admin' }),
      await page.request('DELETE', `/api/v1/members/${other.memberId}`),
      await app.inject({ method: 'DELETE', url: `/api/v1/members/${other.memberId}`, headers: { authorization: `Bearer ${agent.token}` } }),
    ]) {
      expect(response.statusCode).toBe(403);
      expect(response.json().error.code).toBe('FORBIDDEN');
    }
    expect((await team.request('GET', '/api/v1/members')).json()).toHaveLength(3);
  });

  it('the last owner can be neither demoted nor removed', async () => {
    const { app, page, team } = await signedInOwner();
    for (const response of [
      await page.request('PATCH', `/api/v1/members/${team.ownerMemberId}`, { role: 'admin' }),
      await page.request('DELETE', `/api/v1/members/${team.ownerMemberId}`),
    ]) {
      expect(response.statusCode).toBe(409);
      expect(response.json().error).toEqual({ code: 'LAST_OWNER', message: 'A team keeps at least one owner: make another member an owner first', status: 409 });
    }
    // with a second owner the first may step down, and then the second is the last
    const second = await addMember(team.teamId, 'admin');
    await page.request('PATCH', `/api/v1/members/${second.memberId}`, { role: 'owner' });
    expect((await page.request('PATCH', `/api/v1/members/${team.ownerMemberId}`, { role: 'admin' })).json().role).toBe('admin');
    const secondPage = await signedInAs(app, second);
    expect((await secondPage.request('PATCH', `/api/v1/members/${second.memberId}`, { role: 'user' })).json().error.code).toBe('LAST_OWNER');
    expect((await secondPage.request('DELETE', `/api/v1/members/${second.memberId}`)).json().error.code).toBe('LAST_OWNER');
  });

  it('two owners demoting each other at once leave one owner', async () => {
    const app = await testApp();
    const team = await newTeam();
    const [first, second] = [await addMember(team.teamId, 'admin'), await addMember(team.teamId, 'admin')];
    for (const member of [first, second]) await team.request('PATCH', `/api/v1/members/${member.memberId}`, { role: 'owner' });
    await team.request('PATCH', `/api/v1/members/${team.ownerMemberId}`, { role: 'user' });
    const [firstPage, secondPage] = [await signedInAs(app, first), await signedInAs(app, second)];
    const answers = await Promise.all([
      firstPage.request('PATCH', `/api/v1/members/${second.memberId}`, { role: 'admin' }),
      secondPage.request('PATCH', `/api/v1/members/${first.memberId}`, { role: 'admin' }),
    ]);
    // the other is refused: as the last owner's demotion (409), or, when the first committed before the second
    // was read, as an admin's change of an owner (403)
    const [won, lost] = answers.map((answer) => answer.statusCode).sort();
    expect(won).toBe(200);
    expect([403, 409]).toContain(lost);
    const roles = (await team.request('GET', '/api/v1/members')).json().map((m: { role: string }) => m.role);
    expect(roles.filter((role: string) => role === 'owner')).toHaveLength(1);
  });

  it("a removed member's sessions and tokens stop working at once; their user stays", async () => {
    const { app, page, team } = await signedInOwner();
    const agent = await addMember(team.teamId, 'admin');
    const agentPage = await signedInAs(app, agent);
    expect((await agentPage.request('GET', '/api/v1/auth/me')).statusCode).toBe(200);
    const { thread } = await conversation(team);
    await team.request('PATCH', `/api/v1/threads/${thread.id}`, { assigneeId: agent.memberId });

    expect((await page.request('DELETE', `/api/v1/members/${agent.memberId}`)).statusCode).toBe(204);
    expect((await agentPage.request('GET', '/api/v1/auth/me')).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/api/v1/team', headers: { authorization: `Bearer ${agent.token}` } })).statusCode).toBe(401);
    const { db } = await sharedStore();
    expect(await db.selectFrom('sessions').select('id').where('member_id', '=', agent.memberId).execute()).toEqual([]);
    expect(await db.selectFrom('users').select('id').where('id', '=', agent.userId).execute()).toHaveLength(1);
    expect((await page.request('GET', `/api/v1/members/${agent.memberId}`)).json().error.code).toBe('MEMBER_NOT_FOUND');
    expect((await page.request('DELETE', `/api/v1/members/${agent.memberId}`)).statusCode).toBe(404);
    expect((await team.request('GET', `/api/v1/threads/${thread.id}`)).json().assigneeId).toBeNull();
    // signing in again finds no team to enter
    expect((await browser(app).request('POST', '/api/v1/auth/sign-in', { email: agent.email, password: agent.password })).json()).toEqual({ error: WRONG });
  });

  it("another team's member is not found", async () => {
    const { page } = await signedInOwner();
    const other = await newTeam();
    const stranger = await addMember(other.teamId, 'user');
    for (const response of [
      await page.request('PATCH', `/api/v1/members/${stranger.memberId}`, { role: 'admin' }),
      await page.request('DELETE', `/api/v1/members/${stranger.memberId}`),
      await page.request('PATCH', `/api/v1/members/${other.ownerMemberId}`, { role: 'user' }),
    ]) {
      expect(response.statusCode).toBe(404);
      expect(response.json().error.code).toBe('MEMBER_NOT_FOUND');
    }
    expect((await other.request('GET', `/api/v1/members/${stranger.memberId}`)).json().role).toBe('user');
  });
});

describe('roles', () => {
  it('a user member cannot manage tokens, invites, webhooks or account links, by cookie or token', async () => {
    const app = await testApp();
    const team = await newTeam();
    const agent = await addMember(team.teamId, 'user');
    const page = browser(app);
    expect((await page.request('POST', '/api/v1/auth/sign-in', { email: agent.email, password: agent.password })).statusCode).toBe(200);
    const { id: linkId } = (await team.request('POST', '/api/v1/account-links/sandbox', { username: `acme${Date.now()}` })).json();
    const refused: Array<[string, string, unknown?]> = [
      ['GET', '/api/v1/tokens'],
      ['POST', '/api/v1/tokens', { name: 'mine' }],
      ['GET', '/api/v1/invites'],
      ['POST', '/api/v1/invites', { email: uniqueEmail() }],
      ['GET', '/api/v1/webhooks'],
      ['POST', '/api/v1/webhooks', { url: 'https://example.com/hook', eventTypes: ['tag'] }],
      ['POST', '/api/v1/account-links/sandbox', { username: 'mine' }],
      ['PATCH', `/api/v1/account-links/${linkId}`, { hourlyLimit: 1 }],
      ['POST', '/api/v1/account-links/x/authorize', {}],
    ];
    for (const [method, url, body] of refused) {
      for (const response of [
        await page.request(method as 'GET', url, body),
        await app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${agent.token}` }, ...(body ? { payload: body as object } : {}) }),
      ]) {
        expect(response.statusCode, `${method} ${url}`).toBe(403);
        expect(response.json().error.code).toBe('FORBIDDEN');
      }
    }
    // and what a user does all day still works
    expect((await page.request('GET', '/api/v1/account-links')).statusCode).toBe(200);
    expect((await page.request('GET', '/api/v1/threads')).statusCode).toBe(200);
  });

  it('an admin may manage them', async () => {
    const app = await testApp();
    const team = await newTeam();
    const admin = await addMember(team.teamId, 'admin');
    const page = browser(app);
    await page.request('POST', '/api/v1/auth/sign-in', { email: admin.email, password: admin.password });
    expect((await page.request('POST', '/api/v1/invites', { email: uniqueEmail() })).statusCode).toBe(201);
    expect((await page.request('POST', '/api/v1/tokens', { name: 'admin' })).statusCode).toBe(200);
    expect((await page.request('GET', '/api/v1/webhooks')).statusCode).toBe(200);
  });
});

describe('logs', () => {
  it('redact the cookie, the Set-Cookie header and passwords, and a signed-in request logs neither', async () => {
    let written = '';
    const sink = new Writable({ write: (chunk, _encoding, done) => ((written += String(chunk)), done()) });
    const ctx = await testContext({ env: { LOG_LEVEL: 'trace' } });
    const logger = createLogger(ctx.config, sink);
    const app = await buildServer({ ...ctx, logger });
    await app.ready();
    const team = await newTeam(app);
    const credentials = await ownerCredentials(team.ownerMemberId, 'a password to hide');
    const page = browser(app);
    expect((await page.request('POST', '/api/v1/auth/sign-in', credentials)).statusCode).toBe(200);
    expect((await page.request('GET', '/api/v1/auth/me')).statusCode).toBe(200);
    logger.info({ req: { headers: { cookie: `inbox_session=${page.cookie}` } }, res: { headers: { 'set-cookie': page.cookie } }, body: { password: credentials.password } }, 'probe');
    await app.close();
    expect(written).toContain('probe');
    expect(written).toContain('[redacted]');
    expect(written).not.toContain(page.cookie!);
    expect(written).not.toContain(credentials.password);
  });
});
