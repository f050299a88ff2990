import { Ajv2020 } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

/**
 * Validates the vendor's import-job routes of a list against their schemas (test/fixtures/contract/
 * inbox-v1-import-jobs.json, written from the vendor's reference pages: the v1 document has no import jobs), and
 * what we send them against the vendor's request body.
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const schemas = JSON.parse(fs.readFileSync(path.resolve(here, '../fixtures/contract/inbox-v1-import-jobs.json'), 'utf8'));
const ajv = new Ajv2020({ strict: false, allErrors: true });
(formats as unknown as { default: (a: Ajv2020) => void }).default(ajv);
ajv.addSchema(schemas, 'import-jobs');

export function expectImportJobContract(schema: 'ImportJob' | 'ImportJobPage' | 'CreateImportJobBody', body: unknown): void {
  const validate = ajv.getSchema(`import-jobs#/components/schemas/${schema}`)!;
  expect(validate(body) ? [] : validate.errors, `${schema} must match the vendor's: ${JSON.stringify(body).slice(0, 2000)}`).toEqual([]);
}
