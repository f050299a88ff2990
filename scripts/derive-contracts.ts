/**
 * Derives the contract fixtures the tests validate against (test/fixtures/contract/*.json) from the vendor's
 * OpenAPI documents in ../shared/contract, keeping only what validation needs: the operations' parameters,
 * request bodies and response schemas, the component schemas and the webhook payloads. Descriptions, summaries,
 * examples, tags and vendor extensions are dropped, so no prose of theirs lives in this repository.
 *
 *   node --import tsx scripts/derive-contracts.ts [SOURCE_DIR]
 *
 * The derived files are committed: `npm test` runs in a fresh clone with no ../shared beside it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sourceDir = path.resolve(process.argv[2] ?? path.join(root, '../shared/contract'));
const targetDir = path.join(root, 'test/fixtures/contract');

/** Keywords that carry prose or examples, never constraints. */
const PROSE = new Set(['description', 'summary', 'example', 'examples', 'externalDocs', 'title', 'tags', 'deprecated']);

/** Keywords whose value is a map from names (of properties, statuses, media types ...) to schemas or objects. */
const NAME_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas', 'schemas', 'responses', 'content', 'headers', 'paths', 'webhooks', 'securitySchemes']);

/** A copy of `node` without prose; the keys of a name map are names, kept whatever they are. */
function stripProse(node: unknown, isNameMap = false): unknown {
  if (Array.isArray(node)) return node.map((item) => stripProse(item));
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (!isNameMap && (PROSE.has(key) || key.startsWith('x-'))) continue;
    out[key] = stripProse(value, !isNameMap && NAME_MAPS.has(key));
  }
  return out;
}

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, unknown>;
  components?: { schemas?: Record<string, unknown> };
  webhooks?: Record<string, unknown>;
}

function derive(document: OpenApiDocument) {
  return stripProse({
    openapi: document.openapi,
    paths: document.paths,
    components: { schemas: document.components?.schemas ?? {} },
    ...(document.webhooks ? { webhooks: document.webhooks } : {}),
  });
}

const FILES = { 'inbox-v1-openapi.json': 'inbox-v1.json', 'inbox-v2-openapi.json': 'inbox-v2.json' };

fs.mkdirSync(targetDir, { recursive: true });
for (const [source, target] of Object.entries(FILES)) {
  const from = path.join(sourceDir, source);
  if (!fs.existsSync(from)) {
    console.error(`${from} not found: ${target} left as it is`);
    continue;
  }
  const derived = derive(JSON.parse(fs.readFileSync(from, 'utf8')) as OpenApiDocument);
  fs.writeFileSync(path.join(targetDir, target), `${JSON.stringify(derived, null, 1)}\n`);
  console.log(`${path.relative(root, path.join(targetDir, target))} from ${source}`);
}
