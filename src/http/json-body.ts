import { isUtf8 } from 'node:buffer';
import type { FastifyInstance } from 'fastify';
import { jsonNestingDepth } from '../core/json-depth.js';
import { invalidFields } from '../core/errors.js';

/** The deepest nesting of arrays and objects a JSON body may have; our deepest schema needs about six. */
export const MAX_JSON_DEPTH = 64;

/**
 * JSON bodies go through fastify's own parser (prototype-poisoning checks included) after checks of ours: bytes
 * that are not UTF-8 are a validation error (decoding would turn them into U+FFFD, stored as if sent), a body
 * nested deeper than MAX_JSON_DEPTH is one before anything recursive sees it, and an empty body sent with a JSON
 * content type is no body (clients send the header on every request, DELETEs included).
 */
export function parseJsonBodies(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer;
    if (!isUtf8(bytes)) return done(invalidFields('request', [{ field: 'body', message: 'is not valid UTF-8' }]), undefined);
    const text = bytes.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    if (jsonNestingDepth(text) > MAX_JSON_DEPTH) {
      return done(invalidFields('request', [{ field: 'body', message: `nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels` }]), undefined);
    }
    parse(request, text, done);
  });
}
