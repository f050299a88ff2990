import { describe, expect, it } from 'vitest';
import { newTeam, testApp } from './helpers/app.js';
import type { JsonSchema } from './helpers/fuzz.js';
import { seededIds } from './helpers/seeded.js';

/**
 * Every operation of our own OpenAPI document, called with malformed path ids, query values and bodies, answers
 * with a success or an error envelope whose status is below 500: bad input is never a server error.
 */

type Operation = {
  parameters?: Array<{ in: 'path' | 'query'; name: string }>;
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
};

/** A value the schema accepts, as plain as can be (so a mutation of one field is the only thing wrong). */
function plausible(schema: JsonSchema | undefined): unknown {
  if (!schema) return null;
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum[0];
  const option = schema.anyOf?.[0] ?? schema.oneOf?.[0] ?? schema.allOf?.[0];
  if (option) return plausible(option);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string':
      return schema.format === 'date-time' ? new Date().toISOString() : 'x'.repeat(Math.max(1, schema.minLength ?? 1));
    case 'number':
    case 'integer':
      return schema.minimum ?? 1;
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'object':
      return Object.fromEntries((schema.required ?? []).map((name) => [name, plausible(schema.properties?.[name])]));
    default:
      return null;
  }
}

const BAD_VALUES: unknown[] = [null, -1, 1.5, 1e308, '', 'x'.repeat(20_000), true, {}, [], [{}], [null], 'not-a-date', { $gt: 1 }, '\u0000'];
const BAD_BODIES = ['null', '[]', '"text"', '42', '{}', '{"a":', '\u0000'];
const BAD_QUERY_VALUES = ['abc', 'a%00', '-1', '0', '1e400', '99999999999999999999', '', '%', 'null', '2026-13-45T99:00:00Z', '[object Object]'];
// Year 0000 matches the ISO pattern but PostgreSQL cannot store it: with a cursorId beside it, every list was a 500.
const BAD_CURSOR_TIMESTAMPS = ['0000-01-01T00:00:00Z', '0001-01-01T00:30:00%2B01:00', '0000-12-31T23:59:59.999Z'];
const BAD_PATH_VALUES = ['nope', 'a%00', '%E0%A4%A', 'x'.repeat(3_000), '%F0%9F%92%A9', '%25', "';drop table teams;--", '0'];

interface Call {
  method: string;
  url: string;
  body?: string;
}

/** The calls for one operation: each path id, query value and body field wrong in turn, the rest right. */
function callsFor(method: string, path: string, op: Operation, ids: (name: string, path: string) => string): Call[] {
  const params = op.parameters ?? [];
  const pathWith = (override: Record<string, string> = {}) =>
    path.replace(/\{(\w+)\}/g, (_, name: string) => override[name] ?? encodeURIComponent(ids(name, path)));
  const schema = op.requestBody?.content?.['application/json']?.schema;
  const base = schema ? plausible(schema) : undefined;
  const body = base === undefined ? undefined : JSON.stringify(base);
  const calls: Call[] = [{ method, url: pathWith(), body }];
  for (const p of params.filter((p) => p.in === 'path')) {
    for (const value of BAD_PATH_VALUES) calls.push({ method, url: pathWith({ [p.name]: value }), body });
  }
  for (const p of params.filter((p) => p.in === 'query')) {
    for (const value of BAD_QUERY_VALUES) calls.push({ method, url: `${pathWith()}?${p.name}=${value}`, body });
    calls.push({ method, url: `${pathWith()}?${p.name}=1&${p.name}=2&${p.name}[x]=3`, body });
  }
  if (params.some((p) => p.name === 'cursorId') && params.some((p) => p.name === 'cursorTimestamp')) {
    for (const value of BAD_CURSOR_TIMESTAMPS) calls.push({ method, url: `${pathWith()}?cursorId=x&cursorTimestamp=${value}`, body });
  }
  if (schema) {
    for (const bad of BAD_BODIES) calls.push({ method, url: pathWith(), body: bad });
    const fields = Object.keys(schema.properties ?? {});
    for (const field of fields) {
      for (const value of BAD_VALUES) calls.push({ method, url: pathWith(), body: JSON.stringify({ ...(base as object), [field]: value }) });
      // One level down: an array of objects gets one item with each of its fields wrong.
      const items = schema.properties![field]!.items;
      for (const inner of Object.keys(items?.properties ?? {})) {
        for (const value of BAD_VALUES) {
          calls.push({ method, url: pathWith(), body: JSON.stringify({ ...(base as object), [field]: [{ ...(plausible(items) as object), [inner]: value }] }) });
        }
      }
    }
  }
  return calls;
}

describe('malformed input', () => {
  it('never gets a 5xx from any operation, and every error comes in the envelope', { timeout: 600_000 }, async () => {
    const app = await testApp();
    const team = await newTeam();
    const ids = await seededIds(team);
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, Record<string, Operation>> };
    const operations = Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method: method.toUpperCase(), op })));
    // Deletions last, so the other operations meet the seeded rows.
    operations.sort((a, b) => Number(a.method === 'DELETE') - Number(b.method === 'DELETE'));
    const failures: string[] = [];
    let calls = 0;
    for (const { path, method, op } of operations) {
      for (const call of callsFor(method, path, op, ids)) {
        calls++;
        const response = await app.inject({
          method: call.method as 'GET',
          url: call.url,
          headers: { authorization: `Bearer ${team.token}`, ...(call.body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(call.body === undefined ? {} : { payload: call.body }),
        });
        const where = `${call.method} ${call.url.slice(0, 120)} ${call.body?.slice(0, 160) ?? ''}`;
        // The test server has no X credentials: X's operations rightly answer that X is not configured.
        const notConfigured = response.statusCode === 503 && response.json().error?.code === 'X_NOT_CONFIGURED';
        if (response.statusCode >= 500 && !notConfigured) failures.push(`${response.statusCode} ${where}: ${response.body.slice(0, 300)}`);
        else if (response.statusCode >= 400) {
          const error = (() => {
            try {
              return response.json().error;
            } catch {
              return undefined;
            }
          })();
          if (typeof error?.code !== 'string' || typeof error?.message !== 'string' || error?.status !== response.statusCode) {
            failures.push(`no envelope ${response.statusCode} ${where}: ${response.body.slice(0, 300)}`);
          }
        }
      }
    }
    expect(calls).toBeGreaterThan(2_000);
    expect(failures).toEqual([]);
  });
});
