import { Ajv2020 } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

/**
 * Validates our responses against the vendor's own OpenAPI document: its schemas, derived from
 * ../shared/contract into test/fixtures/contract by scripts/derive-contracts.ts (so a fresh clone tests
 * without ../shared). The contract is loaded as it is, with the extensions we knowingly make to its enums:
 * - `platform` also allows "sandbox" (the simulated X; older vendor schemas listed it too);
 * - event `type` also allows "prospect.assigneeChanged" (newest vendor docs) and "target.liked"
 *   (our like-tweet step), "target.failed" (a lead the recipient refused), "importJob.updated" (a CSV import's progress)
 *   and "webhook.disabled" (a webhook the server switched off after days of failures).
 * And one repair: the vendor's generator wrote its "any value" fields (Message.entities, replyData,
 * reactions items, the DELETE /threads/{threadId} body ...) as `{ "not": {} }`, which taken literally
 * accepts nothing; the docs describe them as "any", so they are read as `{}`.
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const contractPath = path.resolve(here, '../fixtures/contract/inbox-v1.json');

const EXTRA_EVENT_TYPES = ['prospect.assigneeChanged', 'target.liked', 'target.failed', 'importJob.updated', 'webhook.disabled'];

function extendEnums(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach(extendEnums);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const record = node as Record<string, unknown>;
  const not = record.not;
  if (not && typeof not === 'object' && Object.keys(not).length === 0) delete record.not;
  const values = record.enum;
  if (Array.isArray(values)) {
    if (values.length === 1 && values[0] === 'twitter') values.push('sandbox');
    if (values.includes('thread.created')) values.push(...EXTRA_EVENT_TYPES);
  }
  Object.values(record).forEach(extendEnums);
}

const contract = JSON.parse(fs.readFileSync(contractPath, 'utf8')) as {
  paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
};
extendEnums(contract);

const ajv = new Ajv2020({ strict: false, allErrors: true });
(formats as unknown as { default: (a: Ajv2020) => void }).default(ajv);
ajv.addSchema(contract, 'contract');

const pointer = (...parts: string[]) => parts.map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');

/**
 * Asserts that `body` is what the contract promises for `method path` (path as written in the contract,
 * e.g. `/threads/{threadId}`) with a 200 response.
 */
export function expectContract(method: string, contractPathKey: string, body: unknown): void {
  const operation = contract.paths[contractPathKey]?.[method.toLowerCase()];
  if (!operation) throw new Error(`No ${method} ${contractPathKey} in the contract`);
  const response = operation.responses['200'] as { content?: Record<string, unknown> } | undefined;
  if (!response?.content?.['application/json']) throw new Error(`No JSON 200 response for ${method} ${contractPathKey}`);
  const ref = `contract#/${pointer('paths', contractPathKey, method.toLowerCase(), 'responses', '200', 'content', 'application/json', 'schema')}`;
  const validate = ajv.getSchema(ref) ?? ajv.compile({ $ref: ref });
  const valid = validate(body);
  expect(valid ? [] : validate.errors, `${method} ${contractPathKey} response must match the contract`).toEqual([]);
}

/** The contract's operations, for tests that check every one of them is covered. */
export function contractOperations(): Array<{ method: string; path: string }> {
  return Object.entries(contract.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => ({ method: m.toUpperCase(), path: p })));
}
