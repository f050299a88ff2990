import { Stream } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { invalidFields } from '../core/errors.js';
import { unstorableFields } from '../core/nul-characters.js';

/** A body left as a stream or bytes (CSV uploads) is not ours to walk: the import checks its rows. */
const isParsed = (body: unknown) => !(body instanceof Stream) && !ArrayBuffer.isView(body);

/**
 * A request carrying text the store cannot keep as sent (U+0000, or a lone surrogate) in a path id, a query value
 * or a body string or key is a validation error naming each field.
 */
export function refuseNulCharacters(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    const problems = [
      ...unstorableFields(request.params, 'params'),
      ...unstorableFields(request.query, 'querystring'),
      ...(isParsed(request.body) ? unstorableFields(request.body, 'body') : []),
    ];
    if (problems.length > 0) throw invalidFields('request', problems);
  });
}
