import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getAccountLinkRow } from '../src/app/accounts/account-links.js';
import { PlatformError } from '../src/platforms/platform.js';
import type { XPlatform } from '../src/platforms/x.js';
import { sharedStore } from './helpers/store.js';
import { linkX, xWorld, type XWorld } from './helpers/x.js';

const logged: string[] = [];
let world: XWorld;
let x: XPlatform;
beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logged.push(String(chunk));
      done();
    },
  });
  world = await xWorld({ fake: { refreshDelayMs: 150 }, ctx: { logger: pino({ level: 'trace' }, sink) } });
  x = world.ctx.platforms.get('twitter') as XPlatform;
});
afterAll(() => world.close());

const TWO_HOURS = 2 * 3600_000;
const refreshes = () => world.fake.countRequests('POST', /^\/2\/oauth2\/token$/);

describe('X tokens', () => {
  it('refreshes once for concurrent callers, stores the rotated refresh token and uses it next time', async () => {
    const team = await world.team();
    const { link } = await linkX(world, team);
    const account = { accountLinkId: link.id, platformId: link.platformId };
    const lead = world.fake.addUser({ username: 'lead_refresh' });
    const { db } = await sharedStore();
    const before = await db.selectFrom('x_credentials').selectAll().where('account_link_id', '=', link.id).executeTakeFirstOrThrow();

    world.clock.advance(TWO_HOURS - 60_000);
    const tokenCalls = refreshes();
    const sent = await Promise.all([1, 2, 3].map((i) => x.sendDm(account, lead.id, `concurrent ${i}`)));
    expect(sent).toHaveLength(3);
    expect(refreshes() - tokenCalls).toBe(1);
    const after = await db.selectFrom('x_credentials').selectAll().where('account_link_id', '=', link.id).executeTakeFirstOrThrow();
    expect(after.refresh_token_sealed).not.toBe(before.refresh_token_sealed);
    expect(after.expires_at.getTime()).toBe(world.clock.now().getTime() + TWO_HOURS);
    expect(after.refresh_lease_id).toBeNull();

    // The fake accepts each refresh token once: a second refresh works only with the rotated one.
    world.clock.advance(TWO_HOURS);
    await x.sendDm(account, lead.id, 'after the second refresh');
    expect(refreshes() - tokenCalls).toBe(2);
    expect((await getAccountLinkRow(db, team.teamId, link.id)).status).toBe('active');
  });

  it('takes the account offline when X refuses the refresh', async () => {
    const team = await world.team();
    const { link, user } = await linkX(world, team);
    world.fake.revoke(user.id);
    world.clock.advance(TWO_HOURS);
    const error = await x.sendDm({ accountLinkId: link.id, platformId: link.platformId }, world.fake.addUser({ username: 'lead_x' }).id, 'hi').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlatformError);
    expect((error as PlatformError).kind).toBe('auth_revoked');
    const { db } = await sharedStore();
    expect((await getAccountLinkRow(db, team.teamId, link.id)).status).toBe('offline');
    expect((await team.request('GET', '/api/v1/account-links')).json()[0].status).toBe('offline');
  });

  it('keeps a failed refresh retryable when X is down', async () => {
    const team = await world.team();
    const { link } = await linkX(world, team);
    const account = { accountLinkId: link.id, platformId: link.platformId };
    world.clock.advance(TWO_HOURS);
    world.fake.failNext('POST', /^\/2\/oauth2\/token$/, 503);
    const lead = world.fake.addUser({ username: 'lead_retry' }).id;
    expect(((await x.sendDm(account, lead, 'hi').catch((e: unknown) => e)) as PlatformError).kind).toBe('transient');
    await x.sendDm(account, lead, 'hi again');
    const { db } = await sharedStore();
    expect((await getAccountLinkRow(db, team.teamId, link.id)).status).toBe('active');
  });

  it('never logs a token', () => {
    expect(logged.length).toBeGreaterThan(0);
    const text = logged.join('\n');
    for (const token of world.fake.issuedTokens) expect(text).not.toContain(token);
  });
});
