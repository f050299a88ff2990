import type { FastifyInstance } from 'fastify';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneSendKeys, SEND_KEY_RETENTION_MS } from '../src/app/inbox/sends.js';
import { buildServer } from '../src/http/server.js';
import { platformRegistry } from '../src/platforms/platform.js';
import { SandboxPlatform } from '../src/platforms/sandbox.js';
import { LEASE_MS } from '../src/store/send-intents.js';
import { newTeam, testContext, type TeamClient } from './helpers/app.js';
import { TestClock } from './helpers/clock.js';
import { expectV2Contract } from './helpers/contract-v2.js';
import { FaultyPlatform } from './helpers/faulty-platform.js';
import { conversation, inbound, linkAccount, ok, randomPlatformId } from './helpers/sandbox.js';
import { sharedStore } from './helpers/store.js';
import { linkX, xWorld } from './helpers/x.js';

/**
 * POST /api/v2/messages with and without an Idempotency-Key, through the real stack on a sandbox platform with
 * faults injected where the send-intent protocol must hold (helpers/faulty-platform.ts): every answer is checked
 * against the vendor's v2 schema for its status. The run across server processes is in api-v2-send-processes.test.ts.
 */

let app: FastifyInstance;
let clock: TestClock;
let platform: FaultyPlatform;

beforeAll(async () => {
  clock = new TestClock(new Date());
  const ctx = await testContext({ clock });
  const { db } = await sharedStore();
  platform = new FaultyPlatform(new SandboxPlatform(db, clock), clock);
  app = await buildServer({ ...ctx, platforms: platformRegistry([platform]) });
  await app.ready();
});

afterAll(() => app.close());

interface Answer {
  status: number;
  body: any;
}

/** A send (to this file's server unless told), its answer validated against the contract for its status. */
async function send(team: TeamClient, body: unknown, key?: string, server: FastifyInstance = app): Promise<Answer> {
  const response = await server.inject({
    method: 'POST',
    url: '/api/v2/messages',
    headers: { authorization: `Bearer ${team.token}`, 'content-type': 'application/json', ...(key === undefined ? {} : { 'idempotency-key': key }) },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const parsed = response.body === '' ? undefined : response.json();
  expectV2Contract('POST', '/messages', response.statusCode, parsed);
  if (response.statusCode >= 400) expect(response.headers['x-request-id']).toBe(parsed.requestId);
  return { status: response.statusCode, body: parsed };
}

async function expectSent(team: TeamClient, body: unknown, key: string | undefined, status: 200 | 201) {
  const answer = await send(team, body, key);
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  return answer.body;
}

async function expectRefused(team: TeamClient, body: unknown, status: number, code: string, key?: string) {
  const answer = await send(team, body, key);
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect(answer.body.code).toBe(code);
  return answer.body;
}

let keys = 0;
const newKey = () => `key-${process.pid}-${Date.now()}-${++keys}`;

const dmsTo = async (recipient: string) => {
  const { db } = await sharedStore();
  return db.selectFrom('sandbox_dm_events').select(['id', 'text']).where('recipient_id', '=', recipient).orderBy('id').execute();
};

const toThread = (threadId: string, content = 'Hello once') => ({ target: { type: 'thread', threadId }, content });

describe('POST /api/v2/messages', () => {
  it('sends to a thread, a contact and a profile; a retry with the key answers 200 with the original result', async () => {
    const team = await newTeam(app);
    const { account, from, thread, prospectId } = await conversation(team);
    const key = newKey();

    const first = await expectSent(team, toThread(thread.id), key, 201);
    expect(first.message).toMatchObject({ threadId: thread.id, accountLinkId: account.id, direction: 'outbound', content: 'Hello once', sentBy: { type: 'member', memberId: team.ownerMemberId } });
    expect(first.thread).toMatchObject({ id: thread.id, contactId: prospectId, lastMessage: { id: first.message.id, direction: 'outbound' } });
    // The same body, keys in another order: a replay, not a second send.
    const replay = await expectSent(team, { content: 'Hello once', target: { threadId: thread.id, type: 'thread' } }, key, 200);
    expect(replay.message).toEqual(first.message);
    expect(replay.thread.id).toBe(thread.id);
    expect(await dmsTo(from)).toHaveLength(1);
    // v1 sees the message v2 sent.
    const v1 = await ok(team.request('GET', `/api/v1/threads/${thread.id}/messages`));
    expect(v1.messages[0]).toMatchObject({ id: first.message.id, content: 'Hello once', platformId: (await dmsTo(from))[0]!.id });

    // The same key with another body.
    const reused = await expectRefused(team, toThread(thread.id, 'Something else'), 422, 'idempotencyKeyReused', key);
    expect(reused.details).toBeNull();

    const toContact = await expectSent(team, { target: { type: 'contact', accountLinkId: account.id, contactId: prospectId }, content: 'To the contact' }, newKey(), 201);
    expect(toContact.thread.id).toBe(thread.id);

    // A sandbox user the team never talked to: the send makes the contact and the thread.
    const stranger = randomPlatformId();
    const profileBody = { target: { type: 'profile', accountLinkId: account.id, platform: 'sandbox', platformId: stranger }, content: 'Nice to meet you' };
    const profileKey = newKey();
    const toProfile = await expectSent(team, profileBody, profileKey, 201);
    expect(toProfile.thread.id).not.toBe(thread.id);
    const contacts = await ok(team.request('GET', `/api/v2/contacts?platform=sandbox&platformId=${stranger}`));
    expect(contacts.data.map((c: any) => c.id)).toEqual([toProfile.thread.contactId]);
    expect((await expectSent(team, profileBody, profileKey, 200)).message.id).toBe(toProfile.message.id);
    expect(await dmsTo(stranger)).toHaveLength(1);
    // Once the person is a contact, a profile target finds the same thread.
    expect((await expectSent(team, { ...profileBody, content: 'Again' }, newKey(), 201)).thread.id).toBe(toProfile.thread.id);

    // Without a key every request is a send.
    await expectSent(team, toThread(thread.id, 'No key'), undefined, 201);
    await expectSent(team, toThread(thread.id, 'No key'), undefined, 201);
    expect((await dmsTo(from)).filter((d) => d.text === 'No key')).toHaveLength(2);

    // A reply to a message of the thread it lands in.
    const reply = await expectSent(team, { ...toThread(thread.id, 'Replying'), replyToMessageId: first.message.id }, newKey(), 201);
    expect(reply.message.replyTo).toMatchObject({ messageId: first.message.id, content: 'Hello once' });

    // Keys are the team's: another team's same key is its own send.
    const other = await newTeam(app);
    const theirs = await conversation(other);
    expect((await expectSent(other, toThread(theirs.thread.id), key, 201)).message.id).not.toBe(first.message.id);
  });

  it('refuses what cannot be sent with the codes the operation documents, reserving nothing', async () => {
    const team = await newTeam(app);
    const { account, from, thread, prospectId } = await conversation(team);
    const key = newKey();
    await expectRefused(team, toThread('nosuchthread'), 404, 'threadNotFound', key);
    await expectRefused(team, { target: { type: 'contact', accountLinkId: account.id, contactId: 'nosuchcontact' }, content: 'x' }, 404, 'contactNotFound', key);
    await expectRefused(team, { target: { type: 'contact', accountLinkId: 'nosuchlink', contactId: prospectId }, content: 'x' }, 404, 'accountLinkNotFound', key);
    const profile = (platform: string, platformId: string) => ({ target: { type: 'profile', accountLinkId: account.id, platform, platformId }, content: 'x' });
    expect((await expectRefused(team, profile('linkedin', from), 403, 'platformNotAvailable', key)).details).toEqual({ platform: 'linkedin' });
    expect((await expectRefused(team, profile('twitter', from), 422, 'platformNotSupported', key)).details).toEqual({ platform: 'twitter', supported: ['sandbox'] });
    expect((await expectRefused(team, profile('sandbox', 'not-a-user'), 422, 'recipientUnavailable', key)).details).toEqual({ reason: 'notFound' });
    const tooLong = await expectRefused(team, toThread(thread.id, 'x'.repeat(10_001)), 422, 'contentRejected', key);
    expect(tooLong.details.detail).toMatch(/10001 characters/);
    // Characters, not UTF-16 units: 10,000 emoji are within the limit.
    await expectSent(team, toThread(thread.id, '😀'.repeat(10_000)), undefined, 201);
    const badReply = await expectRefused(team, { ...toThread(thread.id), replyToMessageId: 'nosuchmessage' }, 400, 'invalidRequest', key);
    expect(badReply.details.issues[0].path).toEqual(['replyToMessageId']);
    await expectRefused(team, { target: { type: 'thread', threadId: thread.id, accountLinkId: account.id }, content: 'x' }, 400, 'invalidRequest', key);
    await expectRefused(team, { target: { type: 'thread' }, content: 'x' }, 400, 'invalidRequest', key);
    await expectRefused(team, { target: { type: 'email', to: 'a@b.c' }, content: 'x' }, 400, 'invalidRequest', key);
    await expectRefused(team, toThread(thread.id, ''), 400, 'invalidRequest', key);
    await expectRefused(team, '{"target":', 400, 'invalidRequest', key);
    await expectRefused(team, toThread(thread.id), 400, 'invalidRequest', 'x'.repeat(256));
    await expectRefused(team, toThread(thread.id), 400, 'invalidRequest', 'clé');
    const query = await app.inject({ method: 'POST', url: '/api/v2/messages?dryRun=true', headers: { authorization: `Bearer ${team.token}` }, payload: toThread(thread.id) });
    expect(query.statusCode).toBe(400);
    expectV2Contract('POST', '/messages', 400, query.json());

    // A paused account, then one the platform signed out.
    await ok(team.request('PATCH', `/api/v1/account-links/${account.id}`, { status: 'paused' }));
    expect((await expectRefused(team, toThread(thread.id), 409, 'accountLinkDisconnected', key)).details).toEqual({ accountLinkId: account.id, status: 'paused' });
    await ok(team.request('PATCH', `/api/v1/account-links/${account.id}`, { status: 'active' }));
    platform.faults.push('authRevoked');
    expect((await expectRefused(team, toThread(thread.id), 409, 'accountLinkDisconnected', key)).details).toEqual({ accountLinkId: account.id, status: 'offline' });
    await ok(team.request('PATCH', `/api/v1/account-links/${account.id}`, { status: 'active' }));
    // A platform rate limit: nothing went out, so the key is free again and a retry sends.
    platform.resetAt = new Date(clock.now().getTime() + 90_000);
    platform.faults.push('rateLimited');
    expect((await expectRefused(team, toThread(thread.id), 429, 'platformRateLimited', key)).details).toEqual({ retryAfterSeconds: 90 });
    const once = async () => (await dmsTo(from)).filter((d) => d.text === 'Hello once');
    expect(await once()).toHaveLength(0);
    await expectSent(team, toThread(thread.id), key, 201);
    expect(await once()).toHaveLength(1);
  });

  it('names the account link and its status, or the platform’s reset, in the documented details, with a key or without', async () => {
    const team = await newTeam(app);
    const { account, thread } = await conversation(team);
    const disconnected = async (key: string | undefined, status: string) =>
      expect((await expectRefused(team, toThread(thread.id), 409, 'accountLinkDisconnected', key)).details).toEqual({ accountLinkId: account.id, status });
    await ok(team.request('PATCH', `/api/v1/account-links/${account.id}`, { status: 'paused' }));
    await disconnected(undefined, 'paused');
    await ok(team.request('PATCH', `/api/v1/account-links/${account.id}`, { status: 'active' }));
    // Signed out by the platform during a send without a key; then offline as stored, with a key.
    platform.faults.push('authRevoked');
    await disconnected(undefined, 'offline');
    await disconnected(newKey(), 'offline');
    await ok(team.request('PATCH', `/api/v1/account-links/${account.id}`, { status: 'active' }));

    // The platform's reset, in whole seconds rounded up; null when it names none; 0 once it has passed.
    const limited = async (resetInMs: number | undefined, key?: string) => {
      platform.resetAt = resetInMs === undefined ? undefined : new Date(clock.now().getTime() + resetInMs);
      platform.faults.push('rateLimited');
      return (await expectRefused(team, toThread(thread.id), 429, 'platformRateLimited', key)).details;
    };
    expect(await limited(undefined)).toEqual({ retryAfterSeconds: null });
    expect(await limited(undefined, newKey())).toEqual({ retryAfterSeconds: null });
    expect(await limited(90_500)).toEqual({ retryAfterSeconds: 91 });
    expect(await limited(-5_000, newKey())).toEqual({ retryAfterSeconds: 0 });
    platform.resetAt = undefined;
  });

  it('refuses a recipient who cannot receive messages: threadRestricted in a thread, recipientUnavailable before one', async () => {
    const team = await newTeam(app);
    const account = await linkAccount(team);
    const closed = randomPlatformId();
    await ok(team.request('PUT', `/api/v1/sandbox/profiles/${closed}`, { dmsOpen: false }));
    const first = await inbound(team, account.id, closed, 'I write, you cannot answer');
    const inThread = await expectRefused(team, toThread(first.threadId), 422, 'threadRestricted');
    expect(inThread.details).toEqual({ capability: 'message:send' });
    // Everything that would reach the recipient is restricted (docs/api-v2.md, restrictions).
    expect((await ok(team.request('GET', `/api/v2/threads/${first.threadId}`))).restrictions).toEqual(['message:send', 'message:reply', 'message:forward', 'message:edit', 'message:unsend', 'message:react']);
    const stranger = randomPlatformId();
    await ok(team.request('PUT', `/api/v1/sandbox/profiles/${stranger}`, { dmsOpen: false }));
    const before = await expectRefused(team, { target: { type: 'profile', accountLinkId: account.id, platform: 'sandbox', platformId: stranger }, content: 'Hi' }, 422, 'recipientUnavailable');
    expect(before.details).toEqual({ reason: 'dmsClosed' });
  });

  it('names a contact with several profiles on the account’s platform ambiguous', async () => {
    const team = await newTeam(app);
    const { account, prospectId } = await conversation(team);
    const { db } = await sharedStore();
    // The model allows a contact several profiles on a platform (no operation links a second one yet).
    await db.insertInto('profiles').values({ id: `p${randomPlatformId()}`, team_id: team.teamId, contact_id: prospectId, platform: 'sandbox', platform_id: randomPlatformId() }).execute();
    const ambiguous = await expectRefused(team, { target: { type: 'contact', accountLinkId: account.id, contactId: prospectId }, content: 'Which one?' }, 422, 'profileAmbiguous');
    expect(ambiguous.details).toEqual({ contactId: prospectId, platform: 'sandbox' });
  });
});

describe('one key, one send', () => {
  it('two requests at once with one key make one platform send', async () => {
    const team = await newTeam(app);
    const { from, thread } = await conversation(team);
    for (let i = 0; i < 8; i++) {
      const key = newKey();
      const body = toThread(thread.id, `At once ${i}`);
      const answers = await Promise.all([send(team, body, key), send(team, body, key)]);
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses.filter((s) => s === 201), JSON.stringify(answers)).toHaveLength(1);
      const created = answers.find((a) => a.status === 201)!.body;
      for (const other of answers.filter((a) => a.status !== 201)) {
        if (other.status === 200) expect(other.body.message.id).toBe(created.message.id);
        else expect(other.body).toMatchObject({ code: 'sendInProgress', details: { messageId: created.message.id } });
      }
      expect((await dmsTo(from)).filter((d) => d.text === `At once ${i}`)).toHaveLength(1);
    }
  });

  it('answers sendInProgress while the send is in flight, naming the message it will be', async () => {
    const team = await newTeam(app);
    const { from, thread } = await conversation(team);
    const key = newKey();
    let arrived!: () => void;
    const inFlight = new Promise<void>((resolve) => (arrived = resolve));
    let answer!: () => void;
    platform.beforeSend = () => {
      arrived();
      return new Promise<void>((resolve) => (answer = resolve));
    };
    const first = send(team, toThread(thread.id), key);
    await inFlight;
    const meanwhile = await expectRefused(team, toThread(thread.id), 409, 'sendInProgress', key);
    answer();
    const sent = await first;
    expect(sent.status).toBe(201);
    expect(sent.body.message.id).toBe(meanwhile.details.messageId);
    expect((await expectSent(team, toThread(thread.id), key, 200)).message.id).toBe(sent.body.message.id);
    expect(await dmsTo(from)).toHaveLength(1);
  });

  it('a platform call that ends without its answer is sendUnconfirmed until reconciled, then the original result, with no second send', async () => {
    const team = await newTeam(app);
    const { from, thread } = await conversation(team);
    const key = newKey();
    platform.faults.push('crashAfterSend');
    const lost = await expectRefused(team, toThread(thread.id), 502, 'sendUnconfirmed', key);
    const { messageId } = lost.details;
    expect(await dmsTo(from)).toHaveLength(1);
    // Within the send's lease nobody looks: it could still be on its way.
    clock.advance(LEASE_MS / 2);
    expect((await expectRefused(team, toThread(thread.id), 502, 'sendUnconfirmed', key)).details).toEqual({ messageId });
    expect((await ok(team.request('GET', `/api/v1/threads/${thread.id}/messages`))).messages.map((m: any) => m.content)).not.toContain('Hello once');
    clock.advance(LEASE_MS / 2);
    // The lookup itself fails once: still unconfirmed, and the next retry looks again at once.
    platform.faults.push('crashInLookup');
    await expectRefused(team, toThread(thread.id), 502, 'sendUnconfirmed', key);
    const reconciled = await expectSent(team, toThread(thread.id), key, 200);
    expect(reconciled.message).toMatchObject({ id: messageId, content: 'Hello once', platformId: (await dmsTo(from))[0]!.id });
    expect((await expectSent(team, toThread(thread.id), key, 200)).message).toEqual(reconciled.message);
    expect(await dmsTo(from)).toHaveLength(1);
    const { db } = await sharedStore();
    const intents = await db.selectFrom('send_intents').select(['status', 'platform_message_id']).where('id', '=', (await db.selectFrom('send_keys').select('intent_id').where('team_id', '=', team.teamId).where('key', '=', key).executeTakeFirstOrThrow()).intent_id).execute();
    expect(intents).toEqual([{ status: 'sent', platform_message_id: (await dmsTo(from))[0]!.id }]);
  });

  it('a transient platform failure is no refusal: with a key the send is unconfirmed, then found; without one it is v1’s 503', async () => {
    const team = await newTeam(app);
    const { from, thread } = await conversation(team);
    const key = newKey();
    platform.faults.push('answerLost');
    const { messageId } = (await expectRefused(team, toThread(thread.id), 502, 'sendUnconfirmed', key)).details;
    clock.advance(LEASE_MS);
    expect((await expectSent(team, toThread(thread.id), key, 200)).message.id).toBe(messageId);
    expect(await dmsTo(from)).toHaveLength(1);
    platform.faults.push('answerLost');
    expect((await expectRefused(team, toThread(thread.id, 'No key'), 503, 'platformUnavailable')).details).toEqual({ retryAfterSeconds: null });
  });

  it('a send the platform never got is sent once when a retry reconciles it', async () => {
    const team = await newTeam(app);
    const { from, thread } = await conversation(team);
    const key = newKey();
    platform.faults.push('crashBeforeSend');
    await expectRefused(team, toThread(thread.id), 502, 'sendUnconfirmed', key);
    expect(await dmsTo(from)).toHaveLength(0);
    clock.advance(LEASE_MS);
    const sent = await expectSent(team, toThread(thread.id), key, 201);
    expect(await dmsTo(from)).toHaveLength(1);
    expect((await expectSent(team, toThread(thread.id), key, 200)).message.id).toBe(sent.message.id);
  });

  it('sends media with the text on the sandbox, as its capabilities say, once per key, and refuses what the platform does not take', async () => {
    const team = await newTeam(app);
    const { from, thread } = await conversation(team);
    const image = { kind: 'image', url: 'https://cdn.example.com/plans/q3%20plan.png', contentType: 'image/png' };
    const terms = { kind: 'file', url: 'https://cdn.example.com/legal/v2', filename: 'Terms.pdf', contentType: 'application/pdf' };
    const body = { ...toThread(thread.id, 'The plan and the terms'), attachments: [image, terms] };
    const key = newKey();
    const sent = await expectSent(team, body, key, 201);
    expect(sent.message.attachments).toEqual([
      { index: 0, kind: 'image', filename: 'q3 plan.png', contentType: 'image/png', sizeBytes: null, width: null, height: null, aspectRatio: null, durationSeconds: null, status: 'ready', url: image.url, expiresAt: null, poster: null },
      { index: 1, kind: 'file', filename: 'Terms.pdf', contentType: 'application/pdf', sizeBytes: null, width: null, height: null, aspectRatio: null, durationSeconds: null, status: 'ready', url: terms.url, expiresAt: null, poster: null },
    ]);
    expect((await expectSent(team, body, key, 200)).message).toEqual(sent.message);
    await expectRefused(team, { ...body, attachments: [image] }, 422, 'idempotencyKeyReused', key);
    expect((await dmsTo(from)).map((d) => d.text)).toEqual(['The plan and the terms']);
    const attachment = await ok(team.request('GET', `/api/v2/messages/${sent.message.id}/attachments/1`));
    expectV2Contract('GET', '/messages/{messageId}/attachments/{index}', 200, attachment);
    expect(attachment).toEqual(sent.message.attachments[1]);
    // v1's one slot shows the first medium.
    const v1 = (await ok(team.request('GET', `/api/v1/threads/${thread.id}/messages`))).messages.find((m: any) => m.id === sent.message.id);
    expect(v1.attachment).toMatchObject({ type: 'image', url: image.url, mimeType: 'image/png' });

    // Reconciled after a crash, the send is recorded with its media.
    const lostKey = newKey();
    const video = { ...toThread(thread.id, 'The demo'), attachments: [{ kind: 'video', url: 'https://cdn.example.com/demo.mp4' }] };
    platform.faults.push('crashAfterSend');
    const { messageId } = (await expectRefused(team, video, 502, 'sendUnconfirmed', lostKey)).details;
    clock.advance(LEASE_MS);
    const reconciled = await expectSent(team, video, lostKey, 200);
    expect(reconciled.message).toMatchObject({ id: messageId, attachments: [{ kind: 'video', filename: 'demo.mp4', contentType: null, url: 'https://cdn.example.com/demo.mp4' }] });

    const refused = await expectRefused(team, { ...toThread(thread.id), attachments: Array(5).fill(image) }, 422, 'contentRejected', newKey());
    expect(refused.details).toEqual({ detail: "5 attachments, over Sandbox's 4" });
    for (const [attachments, path] of [
      [[], ['attachments']],
      [[{ kind: 'sticker', url: image.url }], ['attachments', 0, 'kind']],
      [[{ kind: 'gif', url: image.url, contentType: 'video/mp4' }], ['attachments', 0, 'contentType']],
      [[{ kind: 'image', url: 'javascript:alert(1)' }], ['attachments', 0, 'url']],
      [[{ kind: 'image', url: image.url, size: 10 }], ['attachments', 0]],
      [Array(11).fill(image), ['attachments']],
    ] as const) {
      const error = await expectRefused(team, { ...toThread(thread.id), attachments }, 400, 'invalidRequest', newKey());
      expect(error.details.issues.map((i: any) => i.path), JSON.stringify(attachments)).toContainEqual(path);
    }
    // Without a key, too.
    const unkeyed = await expectSent(team, { ...toThread(thread.id, 'One more'), attachments: [{ kind: 'audio', url: 'https://cdn.example.com/note.ogg', contentType: 'audio/ogg' }] }, undefined, 201);
    expect(unkeyed.message.attachments.map((a: any) => [a.kind, a.filename])).toEqual([['audio', 'note.ogg']]);
  });

  it('keeps keys at least a day after their send settled; a pending one until it is reconciled', async () => {
    const team = await newTeam(app);
    const { from, thread } = await conversation(team);
    const { db } = await sharedStore();
    const settled = newKey();
    const pending = newKey();
    await expectSent(team, toThread(thread.id, 'Settled'), settled, 201);
    platform.faults.push('crashAfterSend');
    await expectRefused(team, toThread(thread.id, 'Pending'), 502, 'sendUnconfirmed', pending);
    await pruneSendKeys(db, new Date(clock.now().getTime() + SEND_KEY_RETENTION_MS - 1));
    await expectSent(team, toThread(thread.id, 'Settled'), settled, 200);
    clock.advance(SEND_KEY_RETENTION_MS + 1);
    await pruneSendKeys(db, clock.now());
    // Past its retention the key is new again.
    await expectSent(team, toThread(thread.id, 'Settled'), settled, 201);
    expect((await dmsTo(from)).filter((d) => d.text === 'Settled')).toHaveLength(2);
    // The unconfirmed one was kept, and its retry finds the DM instead of sending it again.
    await expectSent(team, toThread(thread.id, 'Pending'), pending, 200);
    expect((await dmsTo(from)).filter((d) => d.text === 'Pending')).toHaveLength(1);
  });
});

describe('on X', () => {
  it('sends through the X adapter once per key, refuses a reply (X API v2 has none), and finds a DM X took but answered 503 for', async () => {
    const world = await xWorld();
    try {
      const team = await world.team();
      const { link } = await linkX(world, team);
      const lead = world.fake.addUser({ username: `lead${Date.now() % 1e6}` });
      const body = { target: { type: 'profile', accountLinkId: link.id, platform: 'twitter', platformId: lead.id }, content: 'Hello on X' };
      const key = newKey();
      const sent = await send(team, body, key, world.app);
      expect(sent.status, JSON.stringify(sent.body)).toBe(201);
      expect(sent.body.message).toMatchObject({ platform: 'twitter', direction: 'outbound', platformData: { _tag: 'twitter' } });
      const replay = await send(team, body, key, world.app);
      expect(replay.status).toBe(200);
      expect(replay.body.message.id).toBe(sent.body.message.id);
      const toLead = world.fake.events.filter((e) => e.dm_conversation_id.split('-').includes(lead.id));
      expect(toLead.map((e) => e.text)).toEqual(['Hello on X']);
      expect(sent.body.message.platformId).toBe(toLead[0]!.id);
      const reply = await send(team, { target: { type: 'thread', threadId: sent.body.thread.id }, content: 'Re', replyToMessageId: sent.body.message.id }, undefined, world.app);
      expect(reply.status).toBe(422);
      expect(reply.body).toMatchObject({ code: 'capabilityNotSupported', details: { capability: 'message:reply' } });
      // X takes a medium only by the id of one uploaded first, which this server cannot make: its X account links
      // send no media, and say so in their capabilities.
      const withMedia = await send(team, { ...body, attachments: [{ kind: 'image', url: 'https://cdn.example.com/a.png', contentType: 'image/png' }] }, newKey(), world.app);
      expect(withMedia.status).toBe(422);
      expect(withMedia.body).toMatchObject({ code: 'capabilityNotSupported', details: { capability: 'media:image' } });
      const shownLink = (await team.request('GET', `/api/v2/account-links/${link.id}`)).json();
      expect(shownLink.capabilities).toEqual(['message:send', 'message:delete:self']);
      expect(world.fake.countRequests('POST', /^\/2\/media/)).toBe(0);

      // X takes a DM and answers 503: the adapter cannot tell, so the send is unconfirmed until X's DM events,
      // looked up once the lease has run out, show it went out.
      const later = { target: { type: 'thread', threadId: sent.body.thread.id }, content: 'Did this go out?' };
      const laterKey = newKey();
      world.fake.injectDm(link.platformId, lead.id, later.content);
      world.fake.failNext('POST', /^\/2\/dm_conversations\/with\/\d+\/messages$/, 503, { title: 'Service Unavailable', status: 503 });
      const lost = await send(team, later, laterKey, world.app);
      expect(lost.body).toMatchObject({ code: 'sendUnconfirmed' });
      world.clock.advance(LEASE_MS);
      const found = await send(team, later, laterKey, world.app);
      expect(found.status, JSON.stringify(found.body)).toBe(200);
      expect(found.body.message).toMatchObject({ id: lost.body.details.messageId, content: 'Did this go out?' });
      expect(world.fake.events.filter((e) => e.text === 'Did this go out?')).toHaveLength(1);

      // X's rate limit: retryAfterSeconds from X's reset; until then the adapter does not call X again.
      const resetSeconds = Math.ceil(world.clock.now().getTime() / 1000) + 120;
      world.fake.failNext('POST', /^\/2\/dm_conversations\/with\/\d+\/messages$/, 429, { title: 'Too Many Requests' }, { 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(resetSeconds) });
      const slowDown = { target: { type: 'thread', threadId: sent.body.thread.id }, content: 'Slow down' };
      const xLimited = await send(team, slowDown, newKey(), world.app);
      expect(xLimited.body.code).toBe('platformRateLimited');
      expect(xLimited.body.details.retryAfterSeconds).toBeGreaterThanOrEqual(120);
      expect(xLimited.body.details.retryAfterSeconds).toBeLessThanOrEqual(121);
      const calls = world.fake.countRequests('POST', /^\/2\/dm_conversations\/with\/\d+\/messages$/);
      const stillLimited = await send(team, slowDown, undefined, world.app);
      expect(stillLimited.body).toMatchObject({ code: 'platformRateLimited', details: { retryAfterSeconds: xLimited.body.details.retryAfterSeconds } });
      expect(world.fake.countRequests('POST', /^\/2\/dm_conversations\/with\/\d+\/messages$/)).toBe(calls);
    } finally {
      await world.close();
    }
  });
});

describe('POST /api/v2/messages fuzzed', () => {
  const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
  const junk = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('', 'null', 'thread', 'contact', 'profile', 'sandbox', 'twitter', 'nosuchid', '\u0000', '\ud800', '😀'), fc.integer(), fc.constant(null), fc.boolean());

  it(`answers ${RUNS} generated sends as the contract documents, never with a server error`, { timeout: Math.max(120_000, RUNS * 1_000) }, async () => {
    const team = await newTeam(app);
    const { account, thread, prospectId, first } = await conversation(team);
    const id = fc.oneof(fc.constantFrom(thread.id, account.id, prospectId, first.id, randomPlatformId()), junk);
    const target = fc.oneof(
      fc.record({ type: fc.constant('thread'), threadId: id }, { requiredKeys: ['type'] }),
      fc.record({ type: fc.constant('contact'), accountLinkId: id, contactId: id }, { requiredKeys: ['type'] }),
      fc.record({ type: fc.constant('profile'), accountLinkId: id, platform: fc.oneof(fc.constantFrom('sandbox', 'twitter'), junk), platformId: id }, { requiredKeys: ['type'] }),
      junk,
    );
    const body = fc.oneof(
      fc.record({ target, content: fc.oneof(fc.string({ minLength: 0, maxLength: 40 }), junk), replyToMessageId: id, extra: junk }, { requiredKeys: [] }),
      junk,
    );
    const key = fc.option(fc.oneof(fc.constantFrom('fuzz-a', 'fuzz-b', ''), fc.string({ maxLength: 300 })), { nil: undefined });
    await fc.assert(
      fc.asyncProperty(body, key, async (generated, generatedKey) => {
        const response = await app.inject({
          method: 'POST',
          url: '/api/v2/messages',
          headers: { authorization: `Bearer ${team.token}`, 'content-type': 'application/json', ...(generatedKey === undefined ? {} : { 'idempotency-key': generatedKey }) },
          payload: JSON.stringify(generated) ?? 'null',
        });
        expect(response.statusCode, `${JSON.stringify(generated)} with key ${JSON.stringify(generatedKey)}: ${response.body}`).toBeLessThan(500);
        expectV2Contract('POST', '/messages', response.statusCode, response.json());
      }),
      { numRuns: RUNS },
    );
  });
});
