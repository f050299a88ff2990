import fc from 'fast-check';
import { expect, it, onTestFinished } from 'vitest';
import { V2_EVENT_TYPES } from '../src/core/v2-events.js';
import { newTeam, testApp } from './helpers/app.js';
import { expectV2Contract, servedV2Contract } from './helpers/contract-v2.js';
import { sharedStore } from './helpers/store.js';
import { inbound, linkAccount, ok, randomPlatformId } from './helpers/sandbox.js';

/**
 * Generated requests against API v2's operations, query strings and bodies made of the documented names and
 * junk alike: none may answer 5xx, and every answer, error or not, must be one the vendor's document gives its
 * operation for that status (test/helpers/contract-v2.ts). FUZZ_RUNS sets how many.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 150);

const junk = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('', 'true', 'false', '0', '-1', '101', '1.5', 'null', '%', '[]', 'a,b', '\u00e9', 'nosuchid', 'Hot', 'self', 'all', '👍', '👍👍', '🇫🇷'),
  fc.integer({ min: -5, max: 2000 }).map(String),
);

/** A path segment of every kind but those that make another path (empty, `.` and `..`). */
const segment = fc.oneof(
  fc.constantFrom('0', '1', '-1', '1.5', 'abc', '99999999999', '%', '00', ' 1'),
  fc.integer({ min: -5, max: 200 }).map(String),
  fc.string({ minLength: 1, maxLength: 6 }).filter((v) => v !== '.' && v !== '..'),
);

interface Target {
  method: 'GET' | 'PATCH' | 'POST' | 'PUT' | 'DELETE';
  /** the path, from the seeded ids and a generated path segment */
  path: (ids: Ids, segment: string) => string;
  /** the path in the vendor's document, or in the one we serve for our extensions */
  contract: string;
  keys: string[];
  body?: fc.Arbitrary<unknown>;
  /** our extension (the webhook endpoints): checked against the v2 document we serve */
  extension?: true;
}

interface Ids {
  thread: string;
  contact: string;
  /** theirs, with an image */
  message: string;
  /** ours */
  reply: string;
  webhook: string;
}

const TARGETS: Target[] = [
  { method: 'GET', path: () => '/threads', contract: '/threads', keys: ['folder', 'unread', 'tag', 'status', 'assigneeId', 'unassigned', 'campaignId', 'q', 'order', 'expand', 'limit', 'cursor', 'accountLinkId', 'platform', 'contactId', 'tag[]'] },
  { method: 'GET', path: () => '/contacts', contract: '/contacts', keys: ['platform', 'platformId', 'username', 'expand', 'limit', 'cursor'] },
  { method: 'GET', path: () => '/account-links', contract: '/account-links', keys: ['platform', 'status', 'limit', 'cursor'] },
  { method: 'GET', path: () => '/members', contract: '/members', keys: ['limit', 'cursor'] },
  { method: 'GET', path: () => '/events', contract: '/events', keys: ['afterSeq', 'type', 'limit'] },
  { method: 'GET', path: (ids) => `/threads/${ids.thread}/messages`, contract: '/threads/{threadId}/messages', keys: ['order', 'expand', 'limit', 'cursor'] },
  { method: 'GET', path: (ids) => `/messages/${ids.message}`, contract: '/messages/{messageId}', keys: ['expand'] },
  {
    method: 'PATCH',
    path: (ids) => `/contacts/${ids.contact}`,
    contract: '/contacts/{contactId}',
    keys: [],
    body: fc.record({ status: fc.oneof(fc.constant(null), junk), notes: fc.oneof(fc.constant(null), fc.string()), valuation: fc.oneof(fc.constant(null), fc.double(), junk), assigneeId: fc.oneof(fc.constant(null), junk), other: junk }, { requiredKeys: [] }),
  },
  {
    method: 'PATCH',
    path: (ids) => `/threads/${ids.thread}`,
    contract: '/threads/{threadId}',
    keys: [],
    body: fc.record({ archived: fc.oneof(fc.boolean(), junk), unread: fc.oneof(fc.boolean(), junk), assigneeId: fc.oneof(fc.constant(null), junk), typingIndicators: fc.oneof(fc.constantFrom('enabled', 'disabled', 'teamDefault'), junk) }, { requiredKeys: [] }),
  },
  { method: 'POST', path: () => '/tags', contract: '/tags', keys: [], body: fc.record({ name: junk, color: junk }, { requiredKeys: [] }) },
  { method: 'PUT', path: (ids) => `/contacts/${ids.contact}/tags/hot`, contract: '/contacts/{contactId}/tags/{tagRef}', keys: [] },
  { method: 'PATCH', path: () => '/statuses/lead', contract: '/statuses/{statusRef}', keys: [], body: fc.record({ name: junk, color: fc.oneof(fc.constant(null), junk) }, { requiredKeys: [] }) },
  { method: 'PATCH', path: (ids) => `/messages/${ids.reply}`, contract: '/messages/{messageId}', keys: ['expand'], body: fc.record({ content: fc.oneof(fc.string({ maxLength: 20 }), junk, fc.constant(null)), other: junk }, { requiredKeys: [] }) },
  { method: 'DELETE', path: (ids) => `/messages/${ids.reply}`, contract: '/messages/{messageId}', keys: ['scope', 'scope', 'emoji'] },
  { method: 'DELETE', path: (ids) => `/messages/${ids.message}`, contract: '/messages/{messageId}', keys: ['scope'] },
  { method: 'GET', path: (ids) => `/messages/${ids.message}/history`, contract: '/messages/{messageId}/history', keys: ['expand', 'limit'] },
  { method: 'POST', path: (ids) => `/messages/${ids.message}/reactions`, contract: '/messages/{messageId}/reactions', keys: ['emoji'], body: fc.record({ emoji: junk, other: junk }, { requiredKeys: [] }) },
  { method: 'DELETE', path: (ids) => `/messages/${ids.message}/reactions`, contract: '/messages/{messageId}/reactions', keys: ['emoji', 'emoji', 'scope'] },
  { method: 'GET', path: (ids, index) => `/messages/${ids.message}/attachments/${encodeURIComponent(index)}`, contract: '/messages/{messageId}/attachments/{index}', keys: ['index'] },
  { method: 'POST', path: (ids) => `/threads/${ids.thread}/typing`, contract: '/threads/{threadId}/typing', keys: ['typing'], body: fc.oneof(fc.constant(undefined), fc.record({ on: junk }, { requiredKeys: [] })) },
  {
    method: 'POST',
    path: () => '/webhooks',
    contract: '/webhooks',
    keys: [],
    body: fc.record({ url: fc.oneof(fc.constant('https://example.com/hook'), junk), types: fc.oneof(fc.array(fc.oneof(fc.constantFrom(...V2_EVENT_TYPES), junk), { maxLength: 3 }), junk), other: junk }, { requiredKeys: [] }),
    extension: true,
  },
  { method: 'GET', path: () => '/webhooks', contract: '/webhooks', keys: ['limit', 'cursor', 'types'], extension: true },
  { method: 'GET', path: (ids) => `/webhooks/${ids.webhook}/deliveries`, contract: '/webhooks/{webhookId}/deliveries', keys: ['status', 'limit', 'cursor'], extension: true },
  { method: 'DELETE', path: (ids) => `/webhooks/${ids.webhook}`, contract: '/webhooks/{webhookId}', keys: [], extension: true },
];

const request = fc.record({
  target: fc.constantFrom(...TARGETS),
  pairs: fc.array(fc.tuple(fc.nat(), junk), { maxLength: 5 }),
  body: fc.nat(),
  seedBody: fc.integer(),
  segment,
});

it(`answers ${RUNS} generated v2 requests as the contract documents, never with a server error`, { timeout: Math.max(120_000, RUNS * 1_000) }, async () => {
  const team = await newTeam();
  const account = await linkAccount(team);
  const attachment = { type: 'image', url: 'https://cdn.example.com/fuzz.png', mimeType: 'image/png' };
  const first = await ok(team.request('POST', '/api/v1/sandbox/inbound', { accountLinkId: account.id, fromPlatformId: randomPlatformId(), content: 'Fuzz me', attachment }));
  const reply = await ok(team.request('POST', `/api/v1/threads/${first.threadId}/messages`, { content: 'Fuzzed' }));
  const thread = await ok(team.request('GET', `/api/v1/threads/${first.threadId}`));
  await team.request('POST', '/api/v2/tags', { name: 'Hot' });
  await team.request('POST', '/api/v2/statuses', { name: 'Lead' });
  const webhook = (await team.request('POST', '/api/v2/webhooks', { url: 'https://example.com/fuzz' })).json();
  const ids: Ids = { thread: first.threadId, contact: thread.prospect.externalId, message: first.id, reply: reply.id, webhook: webhook.id };
  const expectServed = servedV2Contract((await (await testApp()).inject({ method: 'GET', url: '/openapi/v2.json' })).json());
  // The endpoints it creates must not outlive it: another file's dispatcher serves every team of the store.
  onTestFinished(async () => {
    await (await sharedStore()).db.deleteFrom('webhooks').where('team_id', '=', team.teamId).execute();
  });

  await fc.assert(
    fc.asyncProperty(request, async ({ target, pairs, seedBody, segment }) => {
      const query = pairs.length === 0 || target.keys.length === 0 ? '' : `?${pairs.map(([k, v]) => `${encodeURIComponent(target.keys[k % target.keys.length]!)}=${encodeURIComponent(v)}`).join('&')}`;
      const body = target.body ? fc.sample(target.body, { seed: seedBody, numRuns: 1 })[0] : undefined;
      const path = target.path(ids, segment);
      const response = await team.request(target.method, `/api/v2${path}${query}`, body);
      expect(response.statusCode, `${target.method} ${path}${query} ${JSON.stringify(body)}: ${response.body}`).toBeLessThan(500);
      (target.extension ? expectServed : expectV2Contract)(target.method, target.contract, response.statusCode, response.body === '' ? undefined : response.json());
    }),
    { numRuns: RUNS },
  );
});
