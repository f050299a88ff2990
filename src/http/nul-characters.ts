import { Stream } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { validationError } from '../core/errors.js';

/**
 * PostgreSQL text and jsonb cannot hold U+0000, so a request carrying it anywhere (a path id, a query value, a
 * body string or key) is refused as a validation error up front, rather than failing in the store as a 500.
 */

const NUL = '\u0000';
const MESSAGE = 'must not contain the NUL character (U+0000)';

/** Objects and arrays, but not a body left as a stream or bytes (CSV uploads), which is not ours to walk. */
const isJsonContainer = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !(value instanceof Stream) && !ArrayBuffer.isView(value);

/** The fields of `value` (named as validation errors name them: `body.leads.0.username`) whose text holds NUL. */
function fieldsWithNul(value: unknown, path: string): string[] {
  if (typeof value === 'string') return value.includes(NUL) ? [path] : [];
  if (!isJsonContainer(value)) return [];
  return Object.entries(value).flatMap(([key, inner]) => {
    const field = `${path}.${key.replaceAll(NUL, '\\u0000')}`;
    return key.includes(NUL) ? [field] : fieldsWithNul(inner, field);
  });
}

export function refuseNulCharacters(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    const fields = [
      ...fieldsWithNul(request.params, 'params'),
      ...fieldsWithNul(request.query, 'querystring'),
      ...fieldsWithNul(request.body, 'body'),
    ];
    if (fields.length === 0) return;
    throw validationError(
      `Invalid request: ${fields.map((field) => `${field}: ${MESSAGE}`).join('; ')}`,
      fields.map((field) => ({ field, message: MESSAGE })),
    );
  });
}
