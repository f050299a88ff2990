import type { FastifyInstance } from 'fastify';
import createClient from 'openapi-fetch';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildServer } from '../src/http/server.js';
import { newTeam, testContext } from './helpers/app.js';
import type { paths } from './fixtures/contract/inbox-v2.types.js';
import { inbound, linkAccount, ok, randomPlatformId } from './helpers/sandbox.js';

/**
 * The vendor's client shapes: a client generated from the vendor's v2 document (openapi-typescript types and
 * openapi-fetch, as the vendor's SDK is generated from it) pointed at this server's /api/v2 over real HTTP.
 */
let server: FastifyInstance;
let baseUrl: string;

beforeAll(async () => {
  server = await buildServer(await testContext());
  await server.listen({ port: 0, host: '127.0.0.1' });
  const address = server.server.address();
  baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/api/v2`;
});
afterAll(() => server.close());

it('drives the scenario with a client generated from the vendor document', async () => {
  const team = await newTeam(server);
  const account = await linkAccount(team);
  const person = randomPlatformId();
  const first = await inbound(team, account.id, person, 'Hi, is this the right place?');
  await ok(team.request('POST', `/api/v1/threads/${first.threadId}/messages`, { content: 'It is!' }));
  const client = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${team.token}` } });

  const platforms = await client.GET('/platforms');
  expect(platforms.data?.map((p) => p.platform)).toEqual(['twitter', 'sandbox']);
  const link = await client.GET('/account-links/{accountLinkId}', { params: { path: { accountLinkId: account.id } } });
  expect(link.data?.capabilities).toContain('message:edit');

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
  const updated = await client.PATCH('/contacts/{contactId}', { params: { path: { contactId: contact.id } }, body: { notes: 'From the SDK', valuation: 50 } });
  expect(updated.data).toMatchObject({ notes: 'From the SDK', valuation: 50, tagIds: [tag.data!.id] });

  const threads = await client.GET('/threads', { params: { query: { folder: 'all', tag: ['demo'], expand: ['contact', 'profile'], limit: 1 } } });
  const thread = threads.data!.data[0]!;
  expect(thread).toMatchObject({ id: first.threadId, contactId: contact.id, contact: { notes: 'From the SDK' }, profile: { platformId: person } });
  expect(threads.data!.nextCursor).toBeNull();
  const archived = await client.PATCH('/threads/{threadId}', { params: { path: { threadId: thread.id } }, body: { archived: true } });
  expect(archived.data?.archived).toBe(true);

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
  const deleted = await client.DELETE('/tags/{tagRef}', { params: { path: { tagRef: 'demo' } } });
  expect(deleted.response.status).toBe(204);
});

it('sends once per Idempotency-Key with the generated client', async () => {
  const team = await newTeam(server);
  const account = await linkAccount(team);
  const client = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${team.token}` } });
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
