import type { FastifyInstance } from 'fastify';
import createClient, { type Middleware } from 'openapi-fetch';
import { afterAll, beforeAll, expect, it, onTestFinished } from 'vitest';
import { WebhookDispatcher } from '../src/app/events/webhook-delivery.js';
import { buildServer } from '../src/http/server.js';
import { newTeam, testContext, type TeamClient } from './helpers/app.js';
import type { paths, webhooks } from './fixtures/contract/inbox-v2.types.js';
import { expectV2WebhookPayload, v2Operations } from './helpers/contract-v2.js';
import { verifyInboxSignature } from './helpers/inbox-signature.js';
import { startReceiver } from './helpers/receiver.js';
import { inbound, linkAccount, ok, randomPlatformId } from './helpers/sandbox.js';

/**
 * The vendor's client shapes: a client generated from the vendor's v2 document (openapi-typescript types and
 * openapi-fetch, as the vendor's SDK is generated from it) pointed at this server's /api/v2 over real HTTP,
 * through every operation of the document; and a v2 webhook delivery checked as the document says a receiver
 * checks it.
 */
let server: FastifyInstance;
let baseUrl: string;
let dispatcher: WebhookDispatcher;

beforeAll(async () => {
  const ctx = await testContext();
  server = await buildServer(ctx);
  await server.listen({ port: 0, host: '127.0.0.1' });
  const address = server.server.address();
  baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/api/v2`;
  dispatcher = new WebhookDispatcher(ctx, { random: () => 0.5, requestTimeoutMs: 2_000 });
});
afterAll(async () => {
  await dispatcher.stop();
  await server.close();
});

/** The operations the generated client called, as `METHOD /path` of the vendor document. */
const driven = new Set<string>();
const recordOperation: Middleware = {
  onRequest({ request, schemaPath }) {
    driven.add(`${request.method} ${schemaPath}`);
  },
};

/** The generated client, authenticated as the team. */
function vendorClient(team: TeamClient) {
  const client = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${team.token}` } });
  client.use(recordOperation);
  return client;
}

it('drives the scenario with a client generated from the vendor document', async () => {
  const team = await newTeam(server);
  const account = await linkAccount(team);
  const person = randomPlatformId();
  const first = await inbound(team, account.id, person, 'Hi, is this the right place?');
  await ok(team.request('POST', `/api/v1/threads/${first.threadId}/messages`, { content: 'It is!' }));
  const client = vendorClient(team);

  const platforms = await client.GET('/platforms');
  expect(platforms.data?.map((p) => p.platform)).toEqual(['twitter', 'sandbox']);
  expect((await client.GET('/team')).data?.id).toBe(team.teamId);
  const members = await client.GET('/members', { params: { query: { limit: 10 } } });
  expect(members.data?.data.map((m) => m.id)).toEqual([team.ownerMemberId]);
  expect((await client.GET('/members/{memberId}', { params: { path: { memberId: team.ownerMemberId } } })).data?.role).toBe('owner');
  const links = await client.GET('/account-links', { params: { query: { platform: ['sandbox'], status: ['active'] } } });
  expect(links.data?.data.map((l) => l.id)).toEqual([account.id]);
  const link = await client.GET('/account-links/{accountLinkId}', { params: { path: { accountLinkId: account.id } } });
  expect(link.data?.capabilities).toContain('message:edit');
  expect((await client.GET('/colors')).data?.map((c) => c.name)).toContain('green');

  const tag = await client.POST('/tags', { body: { name: 'Demo', color: 'green' } });
  expect(tag.response.status).toBe(201);
  const taken = await client.POST('/tags', { body: { name: 'démo' } });
  expect(taken.error).toMatchObject({ code: 'nameTaken', details: { name: 'démo' } });
  expect(taken.error?.requestId).toBe(taken.response.headers.get('x-request-id'));

  const contacts = await client.GET('/contacts', { params: { query: { platform: 'sandbox', platformId: [person], expand: ['tags'] } } });
  const contact = contacts.data!.data[0]!;
  expect(contact.profiles[0]?.platformId).toBe(person);
  const tagged = await client.PUT('/contacts/{contactId}/tags/{tagRef}', { params: { path: { contactId: contact.id, tagRef: 'DEMO' } } });
  expect(tagged.response.status).toBe(204);
  const stage = await client.POST('/statuses', { body: { name: 'Talking' } });
  expect(stage.response.status).toBe(201);
  expect((await client.PATCH('/statuses/{statusRef}', { params: { path: { statusRef: 'talking' } }, body: { color: 'blue' } })).data?.color).toBe('#3b82f6');
  const updated = await client.PATCH('/contacts/{contactId}', { params: { path: { contactId: contact.id } }, body: { notes: 'From the SDK', valuation: 50, status: 'TALKING' } });
  expect(updated.data).toMatchObject({ notes: 'From the SDK', valuation: 50, tagIds: [tag.data!.id], statusId: stage.data!.id });
  const shownContact = await client.GET('/contacts/{contactId}', { params: { path: { contactId: contact.id }, query: { expand: ['status'] } } });
  expect(shownContact.data?.status?.name).toBe('Talking');
  expect((await client.GET('/statuses')).data?.data.map((s) => s.id)).toEqual([stage.data!.id]);
  expect((await client.GET('/statuses/{statusRef}', { params: { path: { statusRef: stage.data!.id } } })).data?.name).toBe('Talking');

  const threads = await client.GET('/threads', { params: { query: { folder: 'all', tag: ['demo'], expand: ['contact', 'profile'], limit: 1 } } });
  const thread = threads.data!.data[0]!;
  expect(thread).toMatchObject({ id: first.threadId, contactId: contact.id, contact: { notes: 'From the SDK' }, profile: { platformId: person } });
  expect(threads.data!.nextCursor).toBeNull();
  const archived = await client.PATCH('/threads/{threadId}', { params: { path: { threadId: thread.id } }, body: { archived: true } });
  expect(archived.data?.archived).toBe(true);
  expect((await client.GET('/threads/{threadId}', { params: { path: { threadId: thread.id }, query: { expand: ['accountLink'] } } })).data?.accountLink?.id).toBe(account.id);

  const messages = await client.GET('/threads/{threadId}/messages', { params: { path: { threadId: thread.id }, query: { order: 'asc', limit: 1 } } });
  expect(messages.data!.data[0]?.content).toBe('Hi, is this the right place?');
  const rest = await client.GET('/threads/{threadId}/messages', { params: { path: { threadId: thread.id }, query: { order: 'asc', cursor: messages.data!.nextCursor! } } });
  const reply = rest.data!.data[0]!;
  expect(reply).toMatchObject({ direction: 'outbound', content: 'It is!' });
  const message = await client.GET('/messages/{messageId}', { params: { path: { messageId: reply.id }, query: { expand: ['thread'] } } });
  expect(message.data?.thread?.id).toBe(thread.id);

  const events = await client.GET('/events', { params: { query: { type: ['message.sent', 'message.received', 'contact.tagsChanged'] } } });
  expect(events.data!.data.map((e) => e.type)).toEqual(['message.received', 'message.sent', 'contact.tagsChanged']);

  const missing = await client.GET('/threads/{threadId}', { params: { path: { threadId: 'nosuchthread' } } });
  expect(missing.response.status).toBe(404);
  expect(missing.error).toMatchObject({ code: 'threadNotFound', details: null });
  const untagged = await client.DELETE('/contacts/{contactId}/tags/{tagRef}', { params: { path: { contactId: contact.id, tagRef: tag.data!.id } } });
  expect(untagged.response.status).toBe(204);
  const renamed = await client.PATCH('/tags/{tagRef}', { params: { path: { tagRef: 'demo' } }, body: { name: 'Demo day' } });
  expect(renamed.data?.name).toBe('Demo day');
  expect((await client.GET('/tags/{tagRef}', { params: { path: { tagRef: 'DEMO DAY' } } })).data?.id).toBe(tag.data!.id);
  expect((await client.GET('/tags')).data?.data.map((t) => t.name)).toEqual(['Demo day']);
  const deleted = await client.DELETE('/tags/{tagRef}', { params: { path: { tagRef: 'demo day' } } });
  expect(deleted.response.status).toBe(204);
  expect((await client.DELETE('/statuses/{statusRef}', { params: { path: { statusRef: 'talking' } } })).response.status).toBe(204);
  const gone = await client.DELETE('/threads/{threadId}', { params: { path: { threadId: thread.id } } });
  expect(gone.data).toEqual({ scope: 'local' });
  expect((await client.GET('/threads/{threadId}', { params: { path: { threadId: thread.id } } })).error?.code).toBe('threadNotFound');
});

it('changes, reacts to and deletes messages, reads attachments and shows typing with the generated client', async () => {
  const team = await newTeam(server);
  const account = await linkAccount(team);
  const image = { type: 'image', url: 'https://cdn.example.com/decks/plan.png', mimeType: 'image/png' };
  const theirs = await ok(team.request('POST', '/api/v1/sandbox/inbound', { accountLinkId: account.id, fromPlatformId: randomPlatformId(), content: 'Our plan', attachment: image }));
  const ours = await ok(team.request('POST', `/api/v1/threads/${theirs.threadId}/messages`, { content: 'Looks good' }));
  const client = vendorClient(team);
  const message = (messageId: string) => ({ params: { path: { messageId } } });

  const edited = await client.PATCH('/messages/{messageId}', { ...message(ours.id), body: { content: 'Looks great' } });
  expect(edited.data).toMatchObject({ id: ours.id, content: 'Looks great', editedAt: expect.any(String) });
  const history = await client.GET('/messages/{messageId}/history', message(ours.id));
  expect(history.data?.versions.map((v) => [v.content, v.origin])).toEqual([
    ['Looks good', 'api'],
    ['Looks great', 'api'],
  ]);
  const tooLong = await client.PATCH('/messages/{messageId}', { ...message(ours.id), body: { content: 'x'.repeat(10_001) } });
  expect(tooLong.error).toMatchObject({ code: 'contentRejected', details: { detail: expect.any(String) } });

  const reacted = await client.POST('/messages/{messageId}/reactions', { ...message(theirs.id), body: { emoji: '🎉' } });
  expect(reacted.data).toMatchObject({ reactions: [{ emoji: '🎉', author: { type: 'accountLink', accountLinkId: account.id } }], version: 1 });
  const unreacted = await client.DELETE('/messages/{messageId}/reactions', { params: { path: { messageId: theirs.id }, query: { emoji: '🎉' } } });
  expect(unreacted.data).toEqual({ reactions: [], version: 2 });

  const attachment = await client.GET('/messages/{messageId}/attachments/{index}', { params: { path: { messageId: theirs.id, index: 0 } } });
  expect(attachment.data).toMatchObject({ index: 0, kind: 'image', status: 'ready', url: image.url, contentType: 'image/png', filename: 'plan.png' });
  const pastTheEnd = await client.GET('/messages/{messageId}/attachments/{index}', { params: { path: { messageId: theirs.id, index: 1 } } });
  expect(pastTheEnd.error?.code).toBe('invalidRequest');

  const typing = await client.POST('/threads/{threadId}/typing', { params: { path: { threadId: theirs.threadId } } });
  expect(typing.response.status).toBe(202);
  expect(typing.data).toEqual({ status: 'sent', reason: null });

  const forMe = await client.DELETE('/messages/{messageId}', { params: { path: { messageId: theirs.id }, query: { scope: 'self' } } });
  expect(forMe.data).toMatchObject({ messageId: theirs.id, scope: 'self' });
  const unsent = await client.DELETE('/messages/{messageId}', { params: { path: { messageId: ours.id }, query: { scope: 'all' } } });
  expect(unsent.data).toMatchObject({ messageId: ours.id, scope: 'all' });
  const again = await client.PATCH('/messages/{messageId}', { ...message(ours.id), body: { content: 'Once more' } });
  expect(again.response.status).toBe(422);
  expect(again.error).toMatchObject({ code: 'messageNotModifiable', details: { reason: expect.any(String) } });
  expect((await client.GET('/messages/{messageId}', message(ours.id))).data?.deletedAt).toBe(unsent.data?.deletedAt);
});

it('sends once per Idempotency-Key with the generated client', async () => {
  const team = await newTeam(server);
  const account = await linkAccount(team);
  const client = vendorClient(team);
  const body = { target: { type: 'profile' as const, accountLinkId: account.id, platform: 'sandbox', platformId: randomPlatformId() }, content: 'Hello from the SDK' };
  const params = { header: { 'idempotency-key': 'order-4821-followup' } };
  const sent = await client.POST('/messages', { params, body });
  expect(sent.response.status).toBe(201);
  const again = await client.POST('/messages', { params, body });
  expect(again.response.status).toBe(200);
  expect(again.data?.message.id).toBe(sent.data?.message.id);
  const reused = await client.POST('/messages', { params, body: { ...body, content: 'Something else' } });
  expect(reused.response.status).toBe(422);
  expect(reused.error).toMatchObject({ code: 'idempotencyKeyReused', details: null });
});

type MessageSentEvent = webhooks['message.sent']['post']['requestBody'] extends { content: { 'application/json': infer E } } | undefined ? E : never;

it('sends with an Idempotency-Key and receives the v2 webhook of it, signed as documented', async () => {
  const team = await newTeam(server);
  const account = await linkAccount(team);
  const receiver = await startReceiver();
  onTestFinished(() => receiver.close());
  // Webhook endpoints are our extension, not in the vendor's document (so not in its client).
  const created = await fetch(`${baseUrl}/webhooks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${team.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url: receiver.url, types: ['message.sent'] }),
  });
  expect(created.status).toBe(201);
  const endpoint = (await created.json()) as { id: string; secret: string };
  onTestFinished(async () => {
    expect((await fetch(`${baseUrl}/webhooks/${endpoint.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${team.token}` } })).status).toBe(204);
  });

  const person = randomPlatformId();
  const first = await inbound(team, account.id, person, 'Send me the details');
  const client = vendorClient(team);
  const params = { header: { 'idempotency-key': `details-${first.threadId}` } };
  const body = { target: { type: 'thread' as const, threadId: first.threadId as string }, content: 'Here are the details', replyToMessageId: first.id as string };
  const sent = await client.POST('/messages', { params, body });
  expect(sent.response.status).toBe(201);
  expect(sent.data?.message).toMatchObject({ threadId: first.threadId, direction: 'outbound', replyTo: { messageId: first.id } });
  const replayed = await client.POST('/messages', { params, body });
  expect(replayed.response.status).toBe(200);
  expect(replayed.data).toEqual(sent.data);

  // Once the webhook worker has run, the delivery has arrived (however many passes it takes to get there).
  for (let pass = 0; pass < 10 && receiver.received.length === 0; pass++) await dispatcher.runOnce();
  expect(receiver.received).toHaveLength(1);
  const [delivery] = receiver.received;
  const header = delivery!.headers['x-inbox-signature'] as string;
  expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
  expect(verifyInboxSignature(header, delivery!.body, endpoint.secret, Math.floor(Date.now() / 1000))).toBe(true);
  expect(verifyInboxSignature(header, delivery!.body, `${endpoint.secret}x`, Math.floor(Date.now() / 1000))).toBe(false);
  const event = JSON.parse(delivery!.body) as MessageSentEvent;
  expectV2WebhookPayload(event);
  expect(event).toMatchObject({ type: 'message.sent', apiVersion: '2', object: { type: 'message', id: sent.data!.message.id }, data: { threadId: first.threadId } });
  // The replay sent nothing, so announced nothing: one message.sent in the log, the one delivered.
  const events = await client.GET('/events', { params: { query: { type: ['message.sent'] } } });
  expect(events.data?.data.map((e) => e.id)).toEqual([event.id]);
});

it('drove every operation of the vendor document (run with the whole file)', () => {
  expect(v2Operations().filter((operation) => !driven.has(operation))).toEqual([]);
});
