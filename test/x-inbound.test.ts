import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XPoller } from '../src/app/inbox/x-inbound.js';
import { crcResponseToken, webhookSignature } from '../src/core/x-protocol.js';
import { buildServer } from '../src/http/server.js';
import { accountActivityDm } from './fixtures/fake-x/server.js';
import { testContext } from './helpers/app.js';
import { fails, ok } from './helpers/sandbox.js';
import { sharedStore } from './helpers/store.js';
import { linkX, X_CONSUMER_SECRET, xWorld, type XWorld } from './helpers/x.js';

let world: XWorld;
beforeAll(async () => {
  world = await xWorld({ env: { INBOX_X_POLL_INTERVAL_SECONDS: '60' } });
});
afterAll(() => world.close());

async function messagesOf(teamId: string) {
  const { db } = await sharedStore();
  return db.selectFrom('messages').selectAll().where('team_id', '=', teamId).orderBy('created_at').orderBy('id').execute();
}

const nextPoll = async (poller: XPoller) => {
  world.clock.advance(61_000);
  await poller.runOnce();
};

describe('polling X DMs', () => {
  it('ingests new DMs once, oldest first, and knows our own sends from replies', async () => {
    const team = await world.team();
    const { link, user: me } = await linkX(world, team);
    const lead = world.fake.addUser({ username: 'lead_poll', name: 'Lead' });
    world.fake.injectDm(lead.id, me.id, 'Hi, saw your post');
    world.clock.advance(1000);
    const sent = await ok(team.request('POST', '/api/v1/threads/messages', { accountLinkId: link.id, externalPlatformId: lead.id, content: 'Thanks!' }));
    world.clock.advance(1000);
    world.fake.injectDm(me.id, lead.id, 'Sent from my phone');

    expect(link.syncedAt).toBeNull();
    const poller = new XPoller(world.ctx);
    await poller.runOnce();
    expect((await ok(team.request('GET', '/api/v1/account-links')))[0].syncedAt).toBe(world.clock.now().toISOString());
    const messages = await messagesOf(team.teamId);
    expect(messages.map((m) => [m.content, m.outbound, m.origin])).toEqual([
      ['Hi, saw your post', false, 'external'],
      ['Thanks!', true, 'api'],
      ['Sent from my phone', true, 'external'],
    ]);
    expect(messages[1]!.id).toBe(sent.message.id);
    expect(new Set(messages.map((m) => m.thread_id)).size).toBe(1);
    const prospect = (await ok(team.request('GET', `/api/v1/threads/${messages[0]!.thread_id}`))).prospect;
    expect(prospect).toMatchObject({ platformId: lead.id, username: 'lead_poll' });

    // Not due again before the interval; then only what is new.
    await poller.runOnce();
    world.clock.advance(1000);
    world.fake.injectDm(lead.id, me.id, 'Tell me more');
    await nextPoll(poller);
    expect((await messagesOf(team.teamId)).map((m) => m.content)).toEqual(['Hi, saw your post', 'Thanks!', 'Sent from my phone', 'Tell me more']);
    const { db } = await sharedStore();
    const cursor = await db.selectFrom('x_poll_cursors').selectAll().where('account_link_id', '=', link.id).executeTakeFirstOrThrow();
    expect(cursor.newest_event_id).toBe(world.fake.events[0]!.id);
  });

  it('pages through a burst and stores each DM once even when seen twice', async () => {
    const team = await world.team();
    const { user: me, link } = await linkX(world, team);
    const lead = world.fake.addUser({ username: 'lead_burst' });
    for (let i = 0; i < 110; i++) world.fake.injectDm(lead.id, me.id, `burst ${i}`);
    const poller = new XPoller(world.ctx);
    await poller.runOnce();
    expect(await messagesOf(team.teamId)).toHaveLength(110);
    // A lost cursor (a crash after ingesting) reads the events again: nothing is stored twice.
    const { db } = await sharedStore();
    await db.updateTable('x_poll_cursors').set({ newest_event_id: null }).where('account_link_id', '=', link.id).execute();
    await nextPoll(poller);
    expect(await messagesOf(team.teamId)).toHaveLength(110);
  });

  it('reads a backlog deeper than a few pages in one poll, and keeps its cursor when a poll stops short', async () => {
    const team = await world.team();
    const { user: me, link } = await linkX(world, team);
    const lead = world.fake.addUser({ username: 'lead_backlog' });
    for (let i = 0; i < 450; i++) world.fake.injectDm(lead.id, me.id, `backlog ${i}`);
    const poller = new XPoller(world.ctx);
    await poller.runOnce();
    expect(await messagesOf(team.teamId)).toHaveLength(450);

    // A read refused half-way (a 429 on the second page): what was read is in, the cursor stays, nothing is lost.
    const { db } = await sharedStore();
    const before = await db.selectFrom('x_poll_cursors').select('newest_event_id').where('account_link_id', '=', link.id).executeTakeFirstOrThrow();
    for (let i = 0; i < 150; i++) world.fake.injectDm(lead.id, me.id, `more ${i}`);
    const reset = String(Math.floor(world.clock.now().getTime() / 1000) + 900);
    world.fake.failNext('GET', /^\/2\/dm_events$/, 429, { title: 'Too Many Requests', status: 429 }, { 'x-rate-limit-reset': reset }, /pagination_token=/);
    await nextPoll(poller);
    const after = await db.selectFrom('x_poll_cursors').select('newest_event_id').where('account_link_id', '=', link.id).executeTakeFirstOrThrow();
    expect(after.newest_event_id).toBe(before.newest_event_id);
    world.clock.advance(16 * 60_000);
    await nextPoll(poller);
    expect(await messagesOf(team.teamId)).toHaveLength(600);
  });

  it('waits for the reset after a 429 and takes a revoked account offline', async () => {
    const team = await world.team();
    const { link, user: me } = await linkX(world, team);
    const reset = Math.ceil(world.clock.now().getTime() / 1000) + 600;
    world.fake.failNext('GET', /^\/2\/dm_events$/, 429, { title: 'Too Many Requests' }, { 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(reset) });
    const poller = new XPoller(world.ctx);
    await poller.runOnce();
    const { db } = await sharedStore();
    const cursor = await db.selectFrom('x_poll_cursors').selectAll().where('account_link_id', '=', link.id).executeTakeFirstOrThrow();
    expect(cursor.next_poll_at).toEqual(new Date(reset * 1000));

    world.fake.revoke(me.id);
    world.clock.advance(601_000);
    await poller.runOnce();
    expect((await ok(team.request('GET', '/api/v1/account-links')))[0].status).toBe('offline');
  });
});

describe('the Account Activity webhook', () => {
  const post = (body: string, signature?: string) =>
    world.app.inject({
      method: 'POST',
      url: '/api/v1/x/webhook',
      headers: { 'content-type': 'application/json', ...(signature ? { 'x-twitter-webhooks-signature': signature } : {}) },
      payload: body,
    });

  it('answers the CRC check', async () => {
    const response = await ok(world.app.inject({ method: 'GET', url: '/api/v1/x/webhook?crc_token=challenge123' }));
    expect(response).toEqual({ response_token: crcResponseToken(X_CONSUMER_SECRET, 'challenge123') });
    await fails(world.app.inject({ method: 'GET', url: '/api/v1/x/webhook' }), 400, 'VALIDATION_ERROR');
  });

  it('ingests signed deliveries once and refuses unsigned or mis-signed ones', async () => {
    const team = await world.team();
    const { user: me } = await linkX(world, team);
    const lead = world.fake.addUser({ username: 'lead_hook' });
    const body = JSON.stringify(accountActivityDm(me.id, { id: world.fake.newId(), senderId: lead.id, recipientId: me.id, text: 'Pushed reply', at: world.clock.now() }));

    await fails(post(body), 401, 'INVALID_SIGNATURE');
    await fails(post(body, webhookSignature('wrong secret', body)), 401, 'INVALID_SIGNATURE');
    await fails(post(body.replace('Pushed', 'Forged'), webhookSignature(X_CONSUMER_SECRET, body)), 401, 'INVALID_SIGNATURE');
    expect(await messagesOf(team.teamId)).toHaveLength(0);

    expect(await ok(post(body, webhookSignature(X_CONSUMER_SECRET, body)))).toEqual({ ingested: 1 });
    await ok(post(body, webhookSignature(X_CONSUMER_SECRET, body)));
    world.clock.advance(1000);
    const ours = JSON.stringify(accountActivityDm(me.id, { id: world.fake.newId(), senderId: me.id, recipientId: lead.id, text: 'Our answer', at: world.clock.now() }));
    await ok(post(ours, webhookSignature(X_CONSUMER_SECRET, ours)));
    expect((await messagesOf(team.teamId)).map((m) => [m.content, m.outbound])).toEqual([
      ['Pushed reply', false],
      ['Our answer', true],
    ]);

    const garbage = '{"for_user_id":';
    await fails(post(garbage, webhookSignature(X_CONSUMER_SECRET, garbage)), 400, 'BAD_REQUEST');
    const wrongShape = '{"direct_message_events": 5}';
    await fails(post(wrongShape, webhookSignature(X_CONSUMER_SECRET, wrongShape)), 400, 'VALIDATION_ERROR');
  });

  it('answers 503 without a consumer secret', async () => {
    const app = await buildServer(await testContext());
    await fails(app.inject({ method: 'GET', url: '/api/v1/x/webhook?crc_token=a' }), 503, 'X_NOT_CONFIGURED');
    await fails(app.inject({ method: 'POST', url: '/api/v1/x/webhook', headers: { 'content-type': 'application/json' }, payload: '{}' }), 503, 'X_NOT_CONFIGURED');
    await app.close();
  });
});
