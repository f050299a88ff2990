import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { buildServer } from '../src/http/server.js';
import { newTeam, testContext, type TeamClient } from './helpers/app.js';
import { operationsOf, requestFor, type FuzzRequest } from './helpers/fuzz.js';
import { ok } from './helpers/sandbox.js';
import { seededIds } from './helpers/seeded.js';

/**
 * Generated requests against every operation of our own OpenAPI document (test/helpers/fuzz.ts): none may answer
 * 5xx (but 503 where a documented dependency is missing: X is not configured in tests), every error comes in the
 * envelope, and what the team's data reads back as afterwards is consistent. `npm test` runs a bounded slice;
 * `npm run fuzz` runs FUZZ_RUNS (default 20,000) requests and prints how many got each status (FUZZ_VERBOSE);
 * FUZZ_SEED replays a run (fast-check prints the seed of a failing one).
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 250);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
/** Small, so that oversized bodies cost little to generate. */
const BODY_LIMIT = 16_384;
/** What a missing dependency answers, by code: the test server has no X app. */
const DOCUMENTED_UNAVAILABLE = new Set(['X_NOT_CONFIGURED']);

function problemWith(response: { statusCode: number; body: string }): string | undefined {
  let error: { code?: unknown; message?: unknown; status?: unknown } | undefined;
  if (response.statusCode >= 400) {
    try {
      error = JSON.parse(response.body).error;
    } catch {
      return 'the error is not JSON';
    }
    if (typeof error?.code !== 'string' || typeof error.message !== 'string' || error.status !== response.statusCode) return 'the error is not in the envelope';
  }
  if (response.statusCode === 503 && DOCUMENTED_UNAVAILABLE.has(error!.code as string)) return undefined;
  if (response.statusCode >= 500) return 'a server error';
  return undefined;
}

/** Every page of a paginated list. */
async function allPages<T>(team: TeamClient, url: string, key: string): Promise<T[]> {
  const items: T[] = [];
  let query = 'limit=100';
  for (;;) {
    const page = await ok(team.request('GET', `${url}${url.includes('?') ? '&' : '?'}${query}`));
    items.push(...page[key]);
    if (!page.nextCursor) return items;
    query = `limit=100&cursorId=${page.nextCursor.id}&cursorTimestamp=${encodeURIComponent(page.nextCursor.timestamp)}`;
  }
}

/** What the team's data reads back as is whole: listed things can be fetched, and counters equal a recount. */
async function expectConsistent(team: TeamClient): Promise<void> {
  for (const list of await ok<Array<{ id: string; leadsCount: number; systemType: string | null }>>(team.request('GET', '/api/v1/lists'))) {
    const leads = await allPages<{ prospect: { platformId: string } }>(team, `/api/v1/lists/${list.id}/leads`, 'leads');
    expect(list.leadsCount, `list ${list.id}`).toBe(leads.length);
    expect(new Set(leads.map((l) => l.prospect.platformId)).size, `list ${list.id} has a lead twice`).toBe(leads.length);
  }
  for (const campaign of await allPages<{ id: string }>(team, '/api/v1/campaigns', 'campaigns')) {
    const shown = await ok(team.request('GET', `/api/v1/campaigns/v2/${campaign.id}`));
    const leads = await allPages<{ id: string }>(team, `/api/v1/campaigns/v2/${campaign.id}/leads`, 'leads');
    expect(shown.targetsCount, `campaign ${campaign.id}`).toBe(leads.length);
  }
  for (const inbox of ['default', 'no-reply', 'requests', 'archived']) {
    for (const thread of await allPages<{ id: string }>(team, `/api/v1/threads?inbox=${inbox}`, 'threads')) {
      await ok(team.request('GET', `/api/v1/threads/${thread.id}`));
      await allPages(team, `/api/v1/threads/${thread.id}/messages`, 'messages');
    }
  }
  for (const kind of ['tags', 'statuses', 'webhooks']) {
    for (const item of await ok<Array<{ id: string }>>(team.request('GET', `/api/v1/${kind}`))) await ok(team.request('GET', `/api/v1/${kind}/${item.id}`));
  }
}

describe('fuzzing every operation', () => {
  it(`answers ${RUNS} generated requests without a server error, always in the envelope, and the data stays consistent`, { timeout: Math.max(120_000, RUNS * 2_000) }, async () => {
    const app: FastifyInstance = await buildServer(await testContext({ env: { INBOX_BODY_LIMIT_BYTES: String(BODY_LIMIT) } }));
    await app.ready();
    try {
      const team = await newTeam(app);
      const ids = await seededIds(team);
      const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
      const operations = operationsOf(doc);
      expect(operations.length).toBeGreaterThan(90);
      const realIds = [...new Set(operations.flatMap((op) => op.parameters.filter((p) => p.in === 'path').map((p) => ids(p.name, op.path))))].filter((id) => id !== 'nope');
      const anyId = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...realIds) }, { weight: 1, arbitrary: fc.constantFrom('nope', 'x', '0') });
      const idFor = (name: string, path: string) => {
        const id = ids(name, path);
        return id === 'nope' ? undefined : id;
      };
      const request = fc.constantFrom(...operations).chain((op) => requestFor(op, idFor, anyId, BODY_LIMIT));

      const send = (r: FuzzRequest) =>
        app.inject({ method: r.method as 'GET', url: r.url, headers: { authorization: `Bearer ${team.token}`, ...r.headers }, ...(r.payload === undefined ? {} : { payload: r.payload }) });
      const seen = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(request, async (r) => {
          const response = await send(r);
          seen.set(response.statusCode, (seen.get(response.statusCode) ?? 0) + 1);
          const problem = problemWith(response);
          if (problem) throw new Error(`${problem}: ${response.statusCode} ${r.method} ${r.url.slice(0, 200)} ${String(r.payload ?? '').slice(0, 200)}\n${response.body.slice(0, 400)}`);
        }),
        { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }), endOnFailure: true },
      );
      if (process.env.FUZZ_VERBOSE) console.log(JSON.stringify([...seen.entries()].sort()));
      // The generator reaches the use cases, not only the validation: some requests succeed.
      expect([...seen.entries()].filter(([status]) => status < 300).reduce((n, [, count]) => n + count, 0)).toBeGreaterThan(RUNS / 20);
      await expectConsistent(team);
    } finally {
      await app.close();
    }
  });
});
