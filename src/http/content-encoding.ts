import type { FastifyInstance } from 'fastify';
import { AppError } from '../core/errors.js';

/**
 * Request bodies must come uncompressed: no route decodes gzip, br or anything else, and reading such a body as
 * JSON or CSV would only produce a misleading complaint about its contents. So a `Content-Encoding` other than
 * `identity` is 415 before anything reads the body, with `Accept-Encoding: identity` saying what would do
 * (RFC 9110 §15.5.16).
 */
export function refuseEncodedBodies(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    const given = request.headers['content-encoding'];
    if (given === undefined) return;
    const codings = given.split(',').map((coding) => coding.trim().toLowerCase()).filter((coding) => coding !== '' && coding !== 'identity');
    if (codings.length === 0) return;
    reply.header('accept-encoding', 'identity');
    throw new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', `Content-Encoding '${codings.join(', ')}' is not supported: send the body uncompressed`);
  });
}
