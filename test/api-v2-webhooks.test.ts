import type { FastifyInstance } from 'fastify';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { WebhookDispatcher } from '../src/app/events/webhook-delivery.js';
import { fanOutAll } from '../src/app/events/webhook-fan-out.js';
import { buildServer } from '../src/http/server.js';
import { newTeam, testContext, type TeamClient } from './helpers/app.js';
import { expectV2WebhookPayload, servedV2Contract } from './helpers/contract-v2.js';
import { verifyInboxSignature } from './helpers/inbox-signature.js';
import { startReceiver, type Receiver } from './helpers/receiver.js';
import { inbound, linkAccount, ok, randomPlatformId } from './helpers/sandbox.js';
import { addMember } from './helpers/session.js';
import { sharedStore } from './helpers/store.js';

/**
 * v2 webhook endpoints (our extension of v2): managed at /api/v2/webhooks, in the same table as v1's webhooks,
 * delivered as v2's event envelope and signed in X-Inbox-Signature. Every answer is checked against the v2
 * document we serve and, for the vendor's error codes, the vendor's schemas; every delivery against the
 * payload the vendor's document gives its type.
 */

let app: FastifyInstance;
let dispatcher: WebhookDispatcher;
let expectServed: ReturnType<typeof servedV2Contract>;

beforeAll(async () => {
  const ctx = await testContext();
  app = await buildServer(ctx);
  await app.ready();
  dispatcher = new WebhookDispatcher(ctx, { random: () => 0.5, requestTimeoutMs: 2_000 });
  expectServed = servedV2Contract((await app.inject({ method: 'GET', url: '/openapi/v2.json' })).json());
  return async () => {
    await dispatcher.stop();
    await app.close();
  };
});

// Each test removes its teams' webhooks, so no queue outlives it (another file's dispatcher serves every team).
const teamIds: string[] = [];
afterEach(async () => {
  const { db } = await sharedStore();
  if (teamIds.length > 0) await db.deleteFrom('webhooks').where('team_id', 'in', teamIds.splice(0)).execute();
});

async function team(): Promise<TeamClient> {
  const client = await newTeam(app);
  teamIds.push(client.teamId);
  return client;
}

async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  onTestFinished(() => r.close());
  return r;
}

/** A v2 request, its answer checked against the served document's `servedPath`. */
async function v2(client: TeamClient, method: 'GET' | 'POST' | 'DELETE', url: string, servedPath: string, payload?: unknown) {
  const response = await client.request(method, `/api/v2${url}`, payload);
  const body = response.body === '' ? undefined : response.json();
  expectServed(method, servedPath, response.statusCode, body);
  if (response.statusCode >= 400) expect(response.headers['x-request-id']).toBe(body.requestId);
  return { status: response.statusCode, body };
}

async function expectError(client: TeamClient, method: 'GET' | 'POST' | 'DELETE', url: string, servedPath: string, status: number, code: string, payload?: unknown) {
  const response = await v2(client, method, url, servedPath, payload);
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(response.body.code).toBe(code);
  return response.body;
}

async function createEndpoint(client: TeamClient, body: Record<string, unknown>) {
  const created = await v2(client, 'POST', '/webhooks', '/webhooks', body);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body as { id: string; url: string; types: string[] | null; secret: string; createdAt: string };
}

async function drain(): Promise<void> {
  while ((await dispatcher.runOnce()) > 0);
}

describe('v2 webhook endpoints', () => {
  it('are created (201, the secret once), listed in pages and deleted (204), apart from v1 webhooks', async () => {
    const client = await team();
    const every = await createEndpoint(client, { url: 'https://example.com/every' });
    expect(every).toEqual({ id: expect.stringMatching(/^[0-9a-z]+$/), url: 'https://example.com/every', types: null, secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/), createdAt: expect.any(String) });
    const some = await createEndpoint(client, { url: 'https://example.com/some', types: ['message.received', 'tag.created', 'message.received'] });
    expect(some.types).toEqual(['message.received', 'tag.created']);
    expect(some.secret).not.toBe(every.secret);

    const listed = await v2(client, 'GET', '/webhooks', '/webhooks');
    expect(listed.body).toEqual({
      data: [
        { id: every.id, url: every.url, types: null, enabled: true, failingSince: null, disabledReason: null, createdAt: every.createdAt },
        { id: some.id, url: some.url, types: ['message.received', 'tag.created'], enabled: true, failingSince: null, disabledReason: null, createdAt: some.createdAt },
      ],
      nextCursor: null,
    });
    const first = await v2(client, 'GET', '/webhooks?limit=1', '/webhooks');
    expect(first.body.data.map((w: { id: string }) => w.id)).toEqual([every.id]);
    const second = await v2(client, 'GET', `/webhooks?limit=1&cursor=${first.body.nextCursor}`, '/webhooks');
    expect(second.body).toMatchObject({ data: [{ id: some.id }], nextCursor: null });
    await expectError(client, 'GET', `/webhooks/${some.id}/deliveries?cursor=${first.body.nextCursor}`, '/webhooks/{webhookId}/deliveries', 400, 'invalidCursor');
    await expectError(client, 'GET', `/webhooks?cursor=${first.body.nextCursor}x`, '/webhooks', 400, 'invalidCursor');

    // One table, each version its own endpoints: v1 neither lists nor reaches a v2 endpoint, nor v2 a v1 one.
    const v1 = await ok<{ id: string }>(client.request('POST', '/api/v1/webhooks', { url: 'https://example.com/v1', eventTypes: ['*'] }));
    expect((await ok<Array<{ id: string }>>(client.request('GET', '/api/v1/webhooks'))).map((w) => w.id)).toEqual([v1.id]);
    expect((await client.request('GET', `/api/v1/webhooks/${every.id}`)).statusCode).toBe(404);
    expect((await client.request('PATCH', `/api/v1/webhooks/${every.id}`, { enabled: false })).statusCode).toBe(404);
    expect((await client.request('DELETE', `/api/v1/webhooks/${every.id}`)).statusCode).toBe(404);
    await expectError(client, 'DELETE', `/webhooks/${v1.id}`, '/webhooks/{webhookId}', 404, 'webhookNotFound');
    await expectError(client, 'GET', `/webhooks/${v1.id}/deliveries`, '/webhooks/{webhookId}/deliveries', 404, 'webhookNotFound');
    expect((await v2(client, 'GET', '/webhooks', '/webhooks')).body.data).toHaveLength(2);

    // Another team's endpoint is a missing one.
    const other = await team();
    await expectError(other, 'DELETE', `/webhooks/${every.id}`, '/webhooks/{webhookId}', 404, 'webhookNotFound');

    expect((await v2(client, 'DELETE', `/webhooks/${every.id}`, '/webhooks/{webhookId}')).status).toBe(204);
    await expectError(client, 'DELETE', `/webhooks/${every.id}`, '/webhooks/{webhookId}', 404, 'webhookNotFound');
    expect((await v2(client, 'GET', '/webhooks', '/webhooks')).body.data.map((w: { id: string }) => w.id)).toEqual([some.id]);
    expect((await ok<Array<{ id: string }>>(client.request('GET', '/api/v1/webhooks'))).map((w) => w.id)).toEqual([v1.id]);
  });

  it('refuses bad input with invalidRequest, and members who may not manage webhooks with 403 forbidden', async () => {
    const client = await team();
    const bad: Array<[Record<string, unknown>, Array<string | number>]> = [
      [{}, ['url']],
      [{ url: 'not a url' }, ['url']],
      [{ url: 'ftp://example.com/x' }, ['url']],
      [{ url: 5 }, ['url']],
      [{ url: `https://example.com/${'x'.repeat(2100)}` }, ['url']],
      [{ url: 'https://example.com/x', types: [] }, ['types']],
      [{ url: 'https://example.com/x', types: 'tag.created' }, ['types']],
      // v1's names are not v2's: message.created is message.sent or message.received.
      [{ url: 'https://example.com/x', types: ['message.created'] }, ['types', 0]],
      [{ url: 'https://example.com/x', types: ['tag'] }, ['types', 0]],
      [{ url: 'https://example.com/x', eventTypes: ['*'] }, []],
    ];
    for (const [body, path] of bad) {
      const error = await expectError(client, 'POST', '/webhooks', '/webhooks', 400, 'invalidRequest', body);
      if (path.length > 0) expect(error.details.issues.map((i: { path: unknown[] }) => i.path), JSON.stringify(body)).toContainEqual(path);
    }
    await expectError(client, 'GET', '/webhooks?limit=0', '/webhooks', 400, 'invalidRequest');
    await expectError(client, 'GET', '/webhooks?other=1', '/webhooks', 400, 'invalidRequest');
    await expectError(client, 'DELETE', '/webhooks/NOT-AN-ID', '/webhooks/{webhookId}', 400, 'invalidRequest');
    expect((await v2(client, 'GET', '/webhooks', '/webhooks')).body.data).toEqual([]);

    const member = await addMember(client.teamId, 'user');
    const asMember: TeamClient = { ...client, request: (method, url, body) => app.inject({ method, url, headers: { authorization: `Bearer ${member.token}` }, ...(body === undefined ? {} : { payload: body as string }) }) };
    await expectError(asMember, 'POST', '/webhooks', '/webhooks', 403, 'forbidden', { url: 'https://example.com/x' });
    await expectError(asMember, 'GET', '/webhooks', '/webhooks', 403, 'forbidden');
  });

  it('delivers v2 envelopes of the chosen v2 types, signed as documented, beside a v1 endpoint that keeps Standard Webhooks', async () => {
    const client = await team();
    const [v2Receiver, v1Receiver] = [await receiver(), await receiver()];
    const endpoint = await createEndpoint(client, { url: v2Receiver.url, types: ['message.received', 'tag.created', 'contact.tagsChanged'] });
    const every = await createEndpoint(client, { url: v2Receiver.url.replace('/hook', '/every') });
    const v1 = await ok<{ id: string; secret: string }>(client.request('POST', '/api/v1/webhooks', { url: v1Receiver.url, eventTypes: ['*'] }));

    const account = await linkAccount(client);
    const first = await inbound(client, account.id, randomPlatformId(), 'Hello there');
    await ok(client.request('POST', `/api/v1/threads/${first.threadId}/messages`, { content: 'Hello back' }));
    const contactId = (await ok(client.request('GET', `/api/v1/threads/${first.threadId}`))).prospect.externalId;
    expect((await client.request('POST', '/api/v2/tags', { name: 'Hot' })).statusCode).toBe(201);
    expect((await client.request('PUT', `/api/v2/contacts/${contactId}/tags/hot`)).statusCode).toBe(204);
    await drain();

    const v2Events = (await ok<{ data: Array<{ seq: number; type: string }> }>(client.request('GET', '/api/v2/events'))).data;
    const bySeq = new Map(v2Events.map((e) => [e.seq, e]));
    const now = Math.floor(Date.now() / 1000);

    const chosen = v2Receiver.received.filter((r) => verifyInboxSignature(r.headers['x-inbox-signature'] as string, r.body, endpoint.secret, now));
    const toEvery = v2Receiver.received.filter((r) => verifyInboxSignature(r.headers['x-inbox-signature'] as string, r.body, every.secret, now));
    // Every request is signed with the secret of the endpoint it went to, and by nothing else.
    expect(chosen.length + toEvery.length).toBe(v2Receiver.received.length);
    expect(chosen.map((r) => JSON.parse(r.body).type)).toEqual(['message.received', 'tag.created', 'contact.tagsChanged']);
    // No type filter: every event v2 has a name for (not prospect.created), in seq order; the reply is message.sent.
    expect(toEvery.map((r) => JSON.parse(r.body).type)).toEqual(v2Events.map((e) => e.type));
    expect(toEvery.map((r) => JSON.parse(r.body).type)).toEqual(expect.arrayContaining(['thread.created', 'message.received', 'message.sent', 'tag.created', 'contact.tagsChanged']));
    for (const request of v2Receiver.received) {
      const body = JSON.parse(request.body);
      // The same presentation as GET /events, and the payload the vendor's document gives the type.
      expect(body).toEqual(bySeq.get(body.seq));
      expectV2WebhookPayload(body);
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.headers['webhook-signature']).toBeUndefined();
    }
    const received = JSON.parse(chosen[0]!.body);
    expect(received).toMatchObject({ type: 'message.received', apiVersion: '2', object: { type: 'message', id: first.id, url: `/messages/${first.id}` }, data: { threadId: first.threadId } });

    // The verifier refuses what it should: another secret, a changed body, an old timestamp.
    const sample = chosen[0]!;
    const header = sample.headers['x-inbox-signature'] as string;
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifyInboxSignature(header, sample.body, every.secret, now)).toBe(false);
    expect(verifyInboxSignature(header, sample.body.replace('message.received', 'message.sent'), endpoint.secret, now)).toBe(false);
    expect(verifyInboxSignature(header, sample.body, endpoint.secret, now + 3600)).toBe(false);

    // The v1 endpoint in the same team: v1's envelopes and names, Standard Webhooks signatures, as before.
    const verifier = new Webhook(v1.secret);
    const v1Types = v1Receiver.received.map((r) => {
      const verified = verifier.verify(r.body, r.headers as Record<string, string>) as { type: string; version: string };
      expect(verified.version).toBe('1.0');
      expect(r.headers['x-inbox-signature']).toBeUndefined();
      return verified.type;
    });
    expect(v1Types).toEqual(expect.arrayContaining(['thread.created', 'prospect.created', 'message.created', 'tag.created', 'prospect.tagsChanged']));
    expect(v1Types).not.toContain('message.received');
  });

  it("lists an endpoint's deliveries newest first, in v2's names, in pages and by status", async () => {
    const client = await team();
    const target = await receiver();
    const endpoint = await createEndpoint(client, { url: target.url, types: ['tag.created', 'tag.updated'] });
    const tag = (await client.request('POST', '/api/v2/tags', { name: 'One' })).json();
    await ok(client.request('PATCH', `/api/v2/tags/${tag.id}`, { name: 'Two' }));
    expect((await client.request('POST', '/api/v2/tags', { name: 'Three' })).statusCode).toBe(201);
    expect((await client.request('POST', '/api/v2/statuses', { name: 'Not chosen' })).statusCode).toBe(201);
    // Queued by the dispatcher's fan-out, not yet attempted.
    await fanOutAll((await sharedStore()).db, new Date());

    const pending = await v2(client, 'GET', `/webhooks/${endpoint.id}/deliveries`, '/webhooks/{webhookId}/deliveries');
    expect(pending.body.data.map((d: { eventType: string; status: string }) => [d.eventType, d.status])).toEqual([
      ['tag.created', 'pending'],
      ['tag.updated', 'pending'],
      ['tag.created', 'pending'],
    ]);
    await drain();
    expect(target.received).toHaveLength(3);

    const first = await v2(client, 'GET', `/webhooks/${endpoint.id}/deliveries?limit=2&status=delivered`, '/webhooks/{webhookId}/deliveries');
    expect(first.body.data).toHaveLength(2);
    expect(first.body.data[0]).toMatchObject({ eventType: 'tag.created', status: 'delivered', attempts: 1, lastStatusCode: 200, lastError: null, nextAttemptAt: null });
    const second = await v2(client, 'GET', `/webhooks/${endpoint.id}/deliveries?limit=2&status=delivered&cursor=${first.body.nextCursor}`, '/webhooks/{webhookId}/deliveries');
    expect(second.body).toMatchObject({ data: [{ eventType: 'tag.created' }], nextCursor: null });
    const seqs = [...first.body.data, ...second.body.data].map((d: { seq: number }) => d.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    expect(seqs.reverse()).toEqual(target.seqs());
    // A cursor belongs to its filters.
    await expectError(client, 'GET', `/webhooks/${endpoint.id}/deliveries?limit=2&cursor=${first.body.nextCursor}`, '/webhooks/{webhookId}/deliveries', 400, 'invalidCursor');
    expect((await v2(client, 'GET', `/webhooks/${endpoint.id}/deliveries?status=pending`, '/webhooks/{webhookId}/deliveries')).body).toEqual({ data: [], nextCursor: null });
    await expectError(client, 'GET', `/webhooks/${endpoint.id}/deliveries?status=done`, '/webhooks/{webhookId}/deliveries', 400, 'invalidRequest');
  });

  it('are in the served v2 document, as our extension', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi/v2.json' })).json();
    expect(Object.keys(doc.paths['/webhooks']).sort()).toEqual(['get', 'post']);
    expect(Object.keys(doc.paths['/webhooks/{webhookId}'])).toEqual(['delete']);
    expect(Object.keys(doc.paths['/webhooks/{webhookId}/deliveries'])).toEqual(['get']);
    for (const operation of [doc.paths['/webhooks'].post, doc.paths['/webhooks'].get, doc.paths['/webhooks/{webhookId}'].delete, doc.paths['/webhooks/{webhookId}/deliveries'].get]) {
      expect(operation.tags).toEqual(['Webhooks']);
      expect(operation.description).toContain("not an operation of the vendor's Inbox API v2");
    }
    expect(doc.tags).toContainEqual({ name: 'Webhooks', description: expect.stringContaining('Our extension') });
    expect(doc.paths['/webhooks'].post.responses['201'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/CreatedWebhookEndpoint' });
  });
});
