import { Stream } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { invalidFields } from '../core/errors.js';
import { fieldsWithNul, NUL_MESSAGE } from '../core/nul-characters.js';

/** A body left as a stream or bytes (CSV uploads) is not ours to walk: the import checks its rows. */
const isParsed = (body: unknown) => !(body instanceof Stream) && !ArrayBuffer.isView(body);

/** A request carrying U+0000 in a path id, a query value or a body string or key is a validation error. */
export function refuseNulCharacters(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    const fields = [
      ...fieldsWithNul(request.params, 'params'),
      ...fieldsWithNul(request.query, 'querystring'),
      ...(isParsed(request.body) ? fieldsWithNul(request.body, 'body') : []),
    ];
    if (fields.length === 0) return;
    throw invalidFields('request', fields.map((field) => ({ field, message: NUL_MESSAGE })));
  });
}
