import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getAccountLinkRow } from '../src/app/accounts/account-links.js';
import { Maintenance } from '../src/app/workers/maintenance.js';
import { PlatformError, type PlatformAccount } from '../src/platforms/platform.js';
import { inboxConversationId, XPlatform } from '../src/platforms/x.js';
import { sharedStore } from './helpers/store.js';
import { linkX, xWorld, type XWorld } from './helpers/x.js';

let world: XWorld;
let x: XPlatform;
beforeAll(async () => {
  world = await xWorld({ env: { INBOX_X_SEND_LIMIT_15MIN: '3' } });
  x = world.ctx.platforms.get('twitter') as XPlatform;
});
afterAll(() => world.close());

async function linked(): Promise<PlatformAccount & { teamId: string }> {
  const team = await world.team();
  const { link } = await linkX(world, team);
  return { accountLinkId: link.id, platformId: link.platformId, teamId: team.teamId };
}

async function failure(promise: Promise<unknown>): Promise<PlatformError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(PlatformError);
  return error as PlatformError;
}

describe('the X platform', () => {
  it('is offered only when configured', () => {
    expect(x).toBeInstanceOf(XPlatform);
  });

  it('maps X conversation ids to Inbox’s', () => {
    expect(inboxConversationId('1876543210987654321-1566123362161725440')).toBe('1566123362161725440:1876543210987654321');
    expect(inboxConversationId('1566123362161725440-1876543210987654321')).toBe('1566123362161725440:1876543210987654321');
    expect(inboxConversationId('1566123362161725440-1876543210987654321-42')).toBeNull();
  });

  it('looks profiles up by id, by username and in batches of 100', async () => {
    const ada = world.fake.addUser({
      username: 'ada_l',
      name: 'Ada',
      description: 'Analyst',
      location: 'London',
      url: 'https://ada.example',
      protected: true,
      public_metrics: { followers_count: 120, following_count: 7, tweet_count: 42 },
    });
    expect(await x.profileById(ada.id)).toEqual({
      platformId: ada.id,
      username: 'ada_l',
      displayName: 'Ada',
      image: ada.profile_image_url,
      bio: 'Analyst',
      location: 'London',
      websiteUrl: 'https://ada.example',
      followerCount: 120,
      followingCount: 7,
      postCount: 42,
      isProtected: true,
      accountStatus: 'active',
      dmsOpen: true,
    });
    expect((await x.profileByUsername('ADA_L'))?.platformId).toBe(ada.id);
    expect(await x.profileByUsername('nobody_here')).toBeNull();
    expect(await x.profileByUsername('not a username!')).toBeNull();
    expect(await x.profileById('123')).toBeNull();

    const many = Array.from({ length: 150 }, (_, i) => world.fake.addUser({ username: `bulk${i}` }).id);
    const before = world.fake.countRequests('GET', /^\/2\/users$/);
    const found = await x.profilesByIds([...many, '5', 'not-an-id']);
    expect(found.size).toBe(150);
    expect(world.fake.countRequests('GET', /^\/2\/users$/) - before).toBe(2);
  });

  it('sends a DM and reports X’s event id and the Inbox conversation id', async () => {
    const account = await linked();
    const lead = world.fake.addUser({ username: 'lead_send' });
    const sent = await x.sendDm(account, lead.id, 'Hello from Inbox');
    const event = world.fake.events.find((e) => e.id === sent.platformMessageId)!;
    expect(event).toMatchObject({ text: 'Hello from Inbox', sender_id: account.platformId });
    expect(sent.conversationId).toBe(inboxConversationId(event.dm_conversation_id));
    expect(sent.conversationId.split(':').sort()).toEqual([account.platformId, lead.id].sort());
  });

  it('likes the latest post, and reports a user without posts as unreachable', async () => {
    const account = await linked();
    const lead = world.fake.addUser({ username: 'lead_like' });
    world.fake.addTweet(lead.id, 'old');
    const latest = world.fake.addTweet(lead.id, 'new');
    expect(await x.likeLatestPost(account, lead.id)).toEqual({ postId: latest });
    expect(world.fake.likes.has(`${account.platformId}:${latest}`)).toBe(true);
    const silent = world.fake.addUser({ username: 'lead_silent' });
    expect((await failure(x.likeLatestPost(account, silent.id))).kind).toBe('recipient_unreachable');
  });

  it('finds a delivered DM in the conversation for crash reconciliation', async () => {
    const account = await linked();
    const lead = world.fake.addUser({ username: 'lead_reconcile' });
    const since = world.clock.now();
    expect(await x.findDelivered(account, lead.id, 'Are you there?', since)).toBeNull();
    world.fake.injectDm(lead.id, account.platformId, 'Are you there?');
    expect(await x.findDelivered(account, lead.id, 'Are you there?', since)).toBeNull();
    const sent = await x.sendDm(account, lead.id, 'Are you there?');
    expect(await x.findDelivered(account, lead.id, 'Are you there?', since)).toBe(sent.platformMessageId);
    world.clock.advance(10 * 60_000);
    expect(await x.findDelivered(account, lead.id, 'Are you there?', world.clock.now())).toBeNull();
  });

  it('classifies closed DMs, rate limits, revoked access and X failures', async () => {
    const account = await linked();
    const lead = world.fake.addUser({ username: 'lead_errors' });
    world.fake.closedDms.add(lead.id);
    const closed = await failure(x.sendDm(account, lead.id, 'hi'));
    expect(closed.kind).toBe('recipient_unreachable');
    expect(closed.message).toContain('not permitted to send Direct Messages');
    world.fake.closedDms.delete(lead.id);

    for (const status of [500, 503]) {
      world.fake.failNext('POST', /\/messages$/, status);
      expect((await failure(x.sendDm(account, lead.id, 'hi'))).kind).toBe('transient');
    }

    const reset = Math.ceil(world.clock.now().getTime() / 1000) + 600;
    world.fake.failNext('GET', /^\/2\/dm_events$/, 429, { title: 'Too Many Requests' }, {
      'x-rate-limit-limit': '300',
      'x-rate-limit-remaining': '0',
      'x-rate-limit-reset': String(reset),
    });
    const limited = await failure(x.dmEvents(account));
    expect(limited).toMatchObject({ kind: 'rate_limited', resetAt: new Date(reset * 1000) });
    // X's exhausted window is remembered: the next read fails at once, without a request.
    const reads = world.fake.countRequests('GET', /^\/2\/dm_events$/);
    expect((await failure(x.dmEvents(account))).resetAt).toEqual(new Date(reset * 1000));
    expect(world.fake.countRequests('GET', /^\/2\/dm_events$/)).toBe(reads);
    world.clock.advance(601_000);
    await x.dmEvents(account);

    // A fresh account: the configured cap of 3 sends counts the attempts above.
    const revoked = await linked();
    world.fake.revoke(revoked.platformId);
    expect((await failure(x.sendDm(revoked, lead.id, 'hi'))).kind).toBe('auth_revoked');
  });

  it('reports an unreachable X as transient', async () => {
    const down = await xWorld({ env: { INBOX_X_API_URL: 'http://127.0.0.1:1' } });
    const platform = down.ctx.platforms.get('twitter') as XPlatform;
    expect((await failure(platform.profileById('42'))).kind).toBe('transient');
    await down.close();
  });

  it('holds sends at the configured per-account cap', async () => {
    const account = await linked();
    const lead = world.fake.addUser({ username: 'lead_cap' });
    for (let i = 0; i < 3; i++) await x.sendDm(account, lead.id, `msg ${i}`);
    const capped = await failure(x.sendDm(account, lead.id, 'one too many'));
    expect(capped.kind).toBe('rate_limited');
    expect(capped.resetAt!.getTime()).toBeGreaterThan(world.clock.now().getTime());
    expect(world.fake.events.filter((e) => e.text === 'one too many')).toHaveLength(0);
    // Housekeeping drops the counters once no window covers them.
    const { db } = await sharedStore();
    const counters = () => db.selectFrom('rate_limit_buckets').select('bucket').where('team_id', '=', `x:dm_send:${account.accountLinkId}`).execute();
    expect(await counters()).toHaveLength(2);
    world.clock.advance(3 * 86_400_000);
    await new Maintenance(world.ctx).runOnce();
    expect(await counters()).toHaveLength(0);
  });

  it('records X’s rate limit headers per account', async () => {
    const account = await linked();
    await x.sendDm(account, world.fake.addUser({ username: 'lead_headers' }).id, 'hi');
    const { db } = await sharedStore();
    const rows = await db.selectFrom('x_rate_limits').selectAll().where('account_link_id', '=', account.accountLinkId).orderBy('bucket').execute();
    expect(rows.map((r) => [r.bucket, r.remaining])).toEqual([['day', 999], ['dm_send', 299]]);
    expect((await getAccountLinkRow(db, account.teamId, account.accountLinkId)).status).toBe('active');
  });
});

describe('profile lookups without an app-only token', () => {
  it('look up as the asking team’s own account, never borrowing another team’s', async () => {
    const own = await xWorld({ appToken: false });
    try {
      const team = await own.team();
      const { link } = await linkX(own, team);
      const platform = own.ctx.platforms.get('twitter') as XPlatform;
      const grace = own.fake.addUser({ username: 'grace_h', name: 'Grace' });

      expect((await failure(platform.profileById(grace.id))).kind).toBe('transient');
      expect((await platform.profileById(grace.id, { accountLinkId: link.id, platformId: link.platformId }))?.username).toBe('grace_h');

      // Through the API: the team's own link does the lookup that creates the prospect.
      const thread = await team.request('POST', '/api/v1/threads', { accountLinkId: link.id, externalPlatformId: grace.id });
      expect(thread.statusCode).toBe(200);
      expect(thread.json().prospect.username).toBe('grace_h');
    } finally {
      await own.close();
    }
  });
});
