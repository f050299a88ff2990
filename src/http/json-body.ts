import type { FastifyInstance } from 'fastify';
import { jsonNestingDepth } from '../core/json-depth.js';
import { invalidFields } from '../core/errors.js';

/** The deepest nesting of arrays and objects a JSON body may have; our deepest schema needs about six. */
export const MAX_JSON_DEPTH = 64;

/**
 * JSON bodies go through fastify's own parser (prototype-poisoning checks included) after two checks of ours:
 * a body nested deeper than MAX_JSON_DEPTH is a validation error before anything recursive sees it, and an empty
 * body sent with a JSON content type is no body (clients send the header on every request, DELETEs included).
 */
export function parseJsonBodies(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    if (text.trim() === '') return done(null, undefined);
    if (jsonNestingDepth(text) > MAX_JSON_DEPTH) {
      return done(invalidFields('request', [{ field: 'body', message: `nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels` }]), undefined);
    }
    parse(request, text, done);
  });
}
