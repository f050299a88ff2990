import { Ajv2020 } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { TeamClient } from './app.js';

/**
 * Validates API v2 answers against the vendor's v2 document, read from its fixture (test/fixtures/contract/
 * inbox-v2.json, derived from ../shared/contract by `npm run contracts`: schemas only). Each answer is checked
 * against the schema its operation documents for the answer's status, errors included; a status the operation
 * does not document fails. The one repair, as for v1: an "any value" written `{ "not": {} }` is read as `{}`.
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const contract = JSON.parse(fs.readFileSync(path.resolve(here, '../fixtures/contract/inbox-v2.json'), 'utf8')) as {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>>;
};

function repair(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(repair);
  if (!node || typeof node !== 'object') return;
  const record = node as Record<string, unknown>;
  const not = record.not;
  if (not && typeof not === 'object' && Object.keys(not).length === 0) delete record.not;
  Object.values(record).forEach(repair);
}
repair(contract);

const ajv = new Ajv2020({ strict: false, allErrors: true });
(formats as unknown as { default: (a: Ajv2020) => void }).default(ajv);
ajv.addSchema(contract, 'contract');

const pointer = (...parts: string[]) => parts.map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');

/** The operations validated so far, as `METHOD /path` of the contract. */
export const coveredV2 = new Set<string>();

/**
 * Asserts that a response (`status`, `body`, or no body for a 204) is what the contract documents for
 * `method contractPath` (the path as the contract writes it, e.g. `/threads/{threadId}`).
 */
export function expectV2Contract(method: string, contractPath: string, status: number, body: unknown): void {
  const m = method.toLowerCase();
  const operation = contract.paths[contractPath]?.[m];
  if (!operation) throw new Error(`No ${method} ${contractPath} in the v2 contract`);
  const response = operation.responses[String(status)];
  expect(response, `${method} ${contractPath} documents no ${status} (body: ${JSON.stringify(body)})`).toBeDefined();
  coveredV2.add(`${method.toUpperCase()} ${contractPath}`);
  if (!response!.content) {
    expect(body, `${method} ${contractPath} ${status} has no body`).toBeUndefined();
    return;
  }
  const ref = `contract#/${pointer('paths', contractPath, m, 'responses', String(status), 'content', 'application/json', 'schema')}`;
  const validate = ajv.getSchema(ref) ?? ajv.compile({ $ref: ref });
  const valid = validate(body);
  expect(valid ? [] : validate.errors, `${method} ${contractPath} ${status} must match the v2 contract: ${JSON.stringify(body).slice(0, 2000)}`).toEqual([]);
}

/** The operations of the v2 contract, as `METHOD /path`. */
export const v2Operations = (): string[] =>
  Object.entries(contract.paths).flatMap(([p, ops]) => Object.keys(ops).filter((m) => m !== 'parameters').map((m) => `${m.toUpperCase()} ${p}`));

export interface V2Response {
  status: number;
  body: any;
  headers: Record<string, unknown>;
}

/** A v2 request through the real stack, its answer validated against the contract's `contractPath`. */
export async function v2(team: TeamClient, method: string, url: string, contractPath: string, payload?: unknown): Promise<V2Response> {
  const response = await team.request(method as 'GET', `/api/v2${url}`, payload);
  const body = response.body === '' ? undefined : response.json();
  expectV2Contract(method, contractPath, response.statusCode, body);
  if (response.statusCode >= 400) expect(response.headers['x-request-id']).toBe(body.requestId);
  return { status: response.statusCode, body, headers: response.headers };
}

/** The same, expecting `status`; the body. */
export async function expectV2(team: TeamClient, method: string, url: string, contractPath: string, status: number, payload?: unknown) {
  const response = await v2(team, method, url, contractPath, payload);
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  return response.body;
}

/** The same, expecting an error of this status and code; the error body. */
export async function expectV2Error(team: TeamClient, method: string, url: string, contractPath: string, status: number, code: string, payload?: unknown) {
  const body = await expectV2(team, method, url, contractPath, status, payload);
  expect(body.code).toBe(code);
  return body;
}
