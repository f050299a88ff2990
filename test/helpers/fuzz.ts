import fc from 'fast-check';

/**
 * Generated requests for the operations of our own OpenAPI document: mostly well-formed ones with a field or two
 * wrong (so they reach the use cases), and the malformed kinds a careless or hostile client sends (wrong types,
 * huge and unicode strings, NUL, edge numbers, missing and extra fields, bad ids and cursors, broken JSON, wrong
 * content types, deep nesting, oversized bodies, invalid UTF-8).
 */

export interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
}

export interface Operation {
  method: string;
  path: string;
  parameters: Array<{ in: 'path' | 'query'; name: string; schema?: JsonSchema }>;
  body?: JsonSchema;
  /** the operation takes a body other than JSON (the CSV upload, X's webhook) */
  rawBody: boolean;
}

export interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
}

/** The operations of an OpenAPI 3.1 document. */
export function operationsOf(doc: { paths: Record<string, Record<string, any>> }): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      parameters: op.parameters ?? [],
      body: op.requestBody?.content?.['application/json']?.schema,
      rawBody: op.requestBody !== undefined && op.requestBody.content?.['application/json'] === undefined,
    })),
  );
}

const EDGE_NUMBERS = [0, -0, -1, 1, 0.5, -0.5, 2 ** 31, -(2 ** 31) - 1, 2 ** 53, -(2 ** 53), Number.MAX_VALUE, Number.MIN_VALUE, 1e308, -1e308, 1e-308];
const ODD_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\ufeff',
  '\u202e',
  '💩',
  '👩‍👩‍👧‍👦',
  'null',
  'undefined',
  'NaN',
  'Infinity',
  '-1',
  '1e400',
  '__proto__',
  'constructor',
  '../..',
  '%00',
  '%',
  '<script>alert(1)</script>',
  "'; drop table teams; --",
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59.999Z',
  '2026-02-30T25:61:00Z',
  '=1+1',
  'javascript:alert(1)',
  'http://127.0.0.1:1/',
  'https://x.com/someone',
];

/** Strings of every kind: short and huge, ASCII and any unicode, NUL and lone surrogates. */
export const wildString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...ODD_STRINGS) },
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.integer({ min: 256, max: 70_000 }).map((n) => 'x'.repeat(n)) },
);

/** Any JSON value of the wrong kind for most fields. */
export const wildValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: wildString },
  { weight: 2, arbitrary: fc.constantFrom(...EDGE_NUMBERS) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, {}, [], [null], [{}], { $gt: '' }, { __proto__: { admin: true } }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

/** A value the schema accepts, usually; ids come from `id` (real ones of the seeded team). */
function validValue(schema: JsonSchema | undefined, id: fc.Arbitrary<string>, depth: number): fc.Arbitrary<unknown> {
  if (!schema || depth > 5) return fc.constant(null);
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const options = schema.anyOf ?? schema.oneOf;
  if (options) return fc.oneof(...options.map((option) => validValue(option, id, depth + 1)));
  if (schema.allOf?.[0]) return validValue(schema.allOf[0], id, depth + 1);
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  switch (type) {
    case 'string':
      if (schema.format === 'date-time') return fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
      if (schema.format === 'uri') return fc.webUrl();
      if (schema.format === 'email') return fc.emailAddress();
      if (schema.pattern?.includes('0-9a-z')) return id;
      if (schema.pattern?.includes('0-9')) return fc.bigInt({ min: 1n, max: 10n ** 18n }).map(String);
      return fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 30, 30) });
    case 'integer':
      return fc.integer({ min: Math.max(schema.minimum ?? -1000, -1e9), max: Math.min(schema.maximum ?? 1000, 1e9) });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1000, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(fieldValue(schema.items, id, depth + 1), { minLength: schema.minItems ?? 0, maxLength: 4 });
    case 'object':
      return objectValue(schema, id, depth + 1);
    default:
      return fc.constant(null);
  }
}

/** A field's value: right, or now and then wrong. */
function fieldValue(schema: JsonSchema | undefined, id: fc.Arbitrary<string>, depth: number): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 6, arbitrary: validValue(schema, id, depth) }, { weight: 1, arbitrary: wildValue });
}

/** An object with its required fields (each sometimes missing), some optional ones, and now and then extra ones. */
function objectValue(schema: JsonSchema, id: fc.Arbitrary<string>, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const required = new Set(schema.required ?? []);
  const fields = Object.entries(schema.properties ?? {}).map(([name, inner]) =>
    fc.option(fieldValue(inner, id, depth).map((value) => [name, value] as const), { freq: required.has(name) ? 12 : 2, nil: undefined }),
  );
  const extra = fc.option(fc.dictionary(fc.string({ maxLength: 12 }), wildValue, { maxKeys: 3 }), { freq: 4, nil: undefined });
  return fc.tuple(fc.tuple(...fields), extra).map(([entries, more]) => ({
    ...(more ?? {}),
    ...Object.fromEntries(entries.filter((entry) => entry !== undefined)),
  }));
}

/** A path id: mostly the seeded one, else junk of every kind (percent-encoded, or raw as a client might send it). */
function pathValue(real: string | undefined): fc.Arbitrary<string> {
  const junk = fc.oneof(
    wildString.filter((s) => s.length < 2_000).map(percentEncoded),
    fc.constantFrom('%2e%2e', '..%2F..', '__proto__', '1e400', '-1', 'a%3Fb%3Dc', 'undefined', '%E0%A4%A', '%ff', '0', 'x'.repeat(120)),
  );
  return real === undefined ? junk : fc.oneof({ weight: 4, arbitrary: fc.constant(real) }, { weight: 1, arbitrary: junk });
}

/** A query value: right for its schema, or a junk string. */
function queryValue(schema: JsonSchema | undefined, id: fc.Arbitrary<string>): fc.Arbitrary<string[]> {
  const one = fc.oneof(
    { weight: 3, arbitrary: validValue(schema, id, 0).map((v) => (typeof v === 'string' ? v : JSON.stringify(v))) },
    { weight: 2, arbitrary: wildString.filter((s) => s.length < 3_000) },
  );
  return fc.array(one, { minLength: 1, maxLength: 3 });
}

/** Percent-encodes every byte of the text's UTF-8 (a lone surrogate, which encodeURIComponent refuses, as U+FFFD). */
const percentEncoded = (text: string) => [...Buffer.from(text, 'utf8')].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');

const encodeQuery = (pairs: Array<[string, string]>) => pairs.map(([key, value]) => `${percentEncoded(key)}=${percentEncoded(value)}`).join('&');

/** Raw query fragments no encoder produces. */
const RAW_QUERY = fc.constantFrom('%', '%zz=1', 'q=%ED%A0%80', 'username=%C0%AF', 'limit=%FF', 'a[b][c][d][e][f][g][h]=1', 'cursor[id]=&cursor[timestamp]=', 'limit=1&limit=2', '=', '&&&', 'cursor=junk', 'a[999999]=1', '__proto__[x]=1');

/** A JSON body nested `levels` deep, as arrays or as objects. */
export const deeplyNested = (levels: number, objects: boolean) =>
  objects ? `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}` : `${'['.repeat(levels)}${']'.repeat(levels)}`;

/** Bytes that are not UTF-8 (a lone continuation byte, an overlong form, an encoded surrogate) inside a JSON string. */
const INVALID_UTF8 = [Buffer.from([0x80]), Buffer.from([0xc0, 0xaf]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xff, 0xfe])];

/** The body of one request, with its content type. */
function bodyFor(op: Operation, id: fc.Arbitrary<string>, bodyLimit: number): fc.Arbitrary<{ payload?: string | Buffer; contentType?: string }> {
  const json = (payload: string | Buffer) => ({ payload, contentType: 'application/json' });
  const shaped = op.body ? objectOrValue(op.body, id) : fc.constant({});
  return fc.oneof(
    { weight: 12, arbitrary: shaped.map((value) => json(JSON.stringify(value))) },
    { weight: 1, arbitrary: fc.constant({}) },
    { weight: 1, arbitrary: wildValue.map((value) => json(JSON.stringify(value) ?? 'null')) },
    {
      weight: 1,
      arbitrary: fc.oneof(
        shaped.chain((value) => {
          const text = JSON.stringify(value);
          return fc.nat(text.length).map((cut) => json(text.slice(0, cut)));
        }),
        fc.constantFrom('{"a":', '{', '[1,]', "{'a':1}", 'nul', '\u0000', '{"a":1}{"b":2}', '\ufeff{}', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}').map(json),
      ),
    },
    { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 60, max: 20_000 }), fc.boolean()).map(([levels, objects]) => json(deeplyNested(levels, objects))) },
    { weight: 1, arbitrary: fc.constantFrom(...INVALID_UTF8).map((bad) => json(Buffer.concat([Buffer.from('{"name":"a'), bad, Buffer.from('b","content":"x"}')]))) },
    { weight: 1, arbitrary: fc.integer({ min: bodyLimit + 1, max: bodyLimit * 2 }).map((size) => json(`{"name":"${'x'.repeat(size)}"}`)) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(shaped, fc.constantFrom('text/plain', 'application/xml', 'multipart/form-data', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'text/csv', 'application/json; charset=latin1', 'application/octet-stream', ';;;'))
        .map(([value, contentType]) => ({ payload: JSON.stringify(value), contentType })),
    },
  );
}

function objectOrValue(schema: JsonSchema, id: fc.Arbitrary<string>): fc.Arbitrary<unknown> {
  return validValue(schema, id, 0).chain((valid) => (valid && typeof valid === 'object' ? fc.constant(valid) : fieldValue(schema, id, 0)));
}

/**
 * Requests for one operation. `idFor` gives the seeded team's real id for a path parameter (undefined when it has
 * none), `anyId` any of its ids (for ids inside bodies and queries).
 */
export function requestFor(
  op: Operation,
  idFor: (name: string, path: string) => string | undefined,
  anyId: fc.Arbitrary<string>,
  bodyLimit: number,
): fc.Arbitrary<FuzzRequest> {
  const pathParams = op.parameters.filter((p) => p.in === 'path');
  const queryParams = op.parameters.filter((p) => p.in === 'query');
  const path = fc.tuple(...pathParams.map((p) => pathValue(idFor(p.name, op.path)))).map((values) => {
    let url = op.path;
    pathParams.forEach((p, i) => (url = url.replace(`{${p.name}}`, values[i]!)));
    return url;
  });
  const query = fc
    .tuple(
      fc.tuple(...queryParams.map((p) => fc.option(queryValue(p.schema, anyId).map((values) => values.map((v) => [p.name, v] as [string, string])), { freq: 2, nil: undefined }))),
      fc.option(RAW_QUERY, { freq: 5, nil: undefined }),
    )
    .map(([params, raw]) => [encodeQuery(params.flat().filter((pair) => pair !== undefined)), raw].filter((part) => part).join('&'));
  const body: fc.Arbitrary<{ payload?: string | Buffer; contentType?: string }> = op.method === 'GET' || op.rawBody ? fc.constant({}) : bodyFor(op, anyId, bodyLimit);
  return fc.tuple(path, query, body).map(([url, q, { payload, contentType }]) => ({
    method: op.method,
    url: q === '' ? url : `${url}?${q}`,
    headers: contentType ? { 'content-type': contentType } : ({} as Record<string, string>),
    ...(payload === undefined ? {} : { payload }),
  }));
}
