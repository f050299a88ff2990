import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError, BusyError, invalidFields, type FieldProblem } from '../core/errors.js';

export interface ErrorBody {
  error: { code: string; message: string; status: number; details?: unknown };
}

export function errorBody(status: number, code: string, message: string, details?: unknown): ErrorBody {
  return { error: { code, message, status, ...(details === undefined ? {} : { details }) } };
}

function sendError(reply: FastifyReply, status: number, code: string, message: string, details?: unknown) {
  // The rest of an over-large body may still be on its way, unread: the connection cannot carry another request.
  if (status === 413) reply.header('connection', 'close');
  return reply.code(status).send(errorBody(status, code, message, details));
}

/** Postgres error codes that mean the caller asked for something impossible, not that we failed. */
const UNIQUE_VIOLATION = '23505';

/**
 * Errors fastify's router raises before any route or hook runs: a malformed percent-escape in the path (400) or
 * a path segment over its length limit (414).
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  // API v2 documents only invalidRequest for a request it cannot read, in its own envelope.
  const v2 = /^\/api\/v2(\/|\?|$)/.test(request.url);
  const refuse = (status: number, code: string, message: string) =>
    v2 ? reply.code(400).send({ code: 'invalidRequest', message, details: { issues: [{ path: [], message }] }, requestId: request.id }) : sendError(reply, status, code, message);
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') return refuse(414, 'URI_TOO_LONG', 'A path segment is longer than this server accepts');
  if (error.code === 'FST_ERR_BAD_URL') return refuse(400, 'BAD_REQUEST', 'The path is not a valid URL component');
  reply.log.error({ err: error }, 'router error');
  return v2 ? reply.code(500).send({ code: 'internal', message: 'Internal server error', details: null, requestId: request.id }) : sendError(reply, 500, 'INTERNAL_ERROR', 'Internal server error');
}

/** What Node's HTTP parser refuses before fastify sees a request, by its error code: status, code and message. */
const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'REQUEST_TIMEOUT', 'The request took too long to arrive'],
  HPE_HEADER_OVERFLOW: [431, 'HEADERS_TOO_LARGE', 'The request headers are larger than this server accepts'],
};

/**
 * Answers a request Node's HTTP parser refused (headers too large, a malformed request line, a timeout) in the
 * error envelope, as every other error is, and closes the connection: what follows on it cannot be trusted.
 */
export function clientErrors(error: Error & { code?: string }, socket: Duplex): void {
  // A reset connection has no one left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] = CLIENT_ERRORS[error.code ?? ''] ?? [400, 'BAD_REQUEST', 'The request is not valid HTTP'];
  const body = JSON.stringify(errorBody(status, code, message));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** The parts of a request fastify validates, in its order, with the request property each is read from. */
const VALIDATED_PARTS = [
  ['params', 'params'],
  ['body', 'body'],
  ['querystring', 'query'],
] as const;

const fieldName = (part: string, path: readonly PropertyKey[]) => [part, ...path.filter((key) => key !== '').map(String)].join('.');

/**
 * Fastify stops validating at the first part that fails; the parts after it are checked here against the
 * route's own schemas, so one answer names every problem of the request (those parts are still as sent: fastify
 * replaces a part with its parsed value only once it passes).
 */
function problemsAfter(request: FastifyRequest, failed: string): FieldProblem[] {
  const at = VALIDATED_PARTS.findIndex(([part]) => part === failed);
  if (at < 0) return [];
  const schemas = (request.routeOptions.schema ?? {}) as Record<string, unknown>;
  return VALIDATED_PARTS.slice(at + 1).flatMap(([part, property]) => {
    const schema = schemas[part];
    if (!(schema instanceof z.ZodType)) return [];
    const result = schema.safeParse(request[property] ?? null);
    return result.success ? [] : result.error.issues.map((issue) => ({ field: fieldName(part, issue.path), message: issue.message }));
  });
}

/** The methods a path may be served for, in the order an `Allow` header lists them. */
const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/**
 * Logs every 4xx answer at info with its error code and message, whoever sent it (a route, a hook, the error
 * handler), so that `inbox serve` says why a client was refused; the request log line beside it has the URL.
 */
export function logRefusals(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply, payload) => {
    if (reply.statusCode < 400 || reply.statusCode >= 500 || typeof payload !== 'string') return payload;
    try {
      // v1's envelope, or v2's (its code and message at the top).
      const parsed = JSON.parse(payload) as Partial<ErrorBody> & { code?: unknown; message?: unknown };
      const { code, message } = parsed.error ?? parsed;
      if (typeof code === 'string') request.log.info({ statusCode: reply.statusCode, code, message }, 'request refused');
    } catch {
      // Not the envelope (a static file's 404 says so itself): nothing more to tell.
    }
    return payload;
  });
}

/** Every error leaves the server in the one envelope `{ error: { code, message, status } }`. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof AppError) {
      if (error instanceof BusyError) reply.header('Retry-After', error.retryAfter);
      return sendError(reply, error.status, error.code, error.message, error.details);
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const where = error.validationContext ?? 'request';
      const details = [
        ...error.validation.map((issue) => ({ field: fieldName(where, issue.instancePath.split('/').slice(1)), message: issue.message })),
        ...problemsAfter(request, where),
      ];
      const invalid = invalidFields('request', details);
      return sendError(reply, invalid.status, invalid.code, invalid.message, invalid.details);
    }
    if (isResponseSerializationError(error as never)) {
      request.log.error({ err: error, issues: (error as { cause?: unknown }).cause }, 'response does not match its schema');
      return sendError(reply, 500, 'INTERNAL_ERROR', 'Internal server error');
    }
    if ((error as { code?: string }).code === UNIQUE_VIOLATION) {
      return sendError(reply, 409, 'CONFLICT', 'A resource with these values already exists');
    }
    // The client hung up before its request arrived whole (an upload aborted half way): nobody waits for an
    // answer, and it is no failure of ours.
    if (!request.raw.complete && (request.raw.destroyed || request.raw.aborted)) {
      request.log.info({ reason: error.message }, 'the client closed the connection before its request body arrived');
      return sendError(reply, 400, 'BAD_REQUEST', 'The request was aborted before its body arrived');
    }
    const status = error.statusCode ?? 500;
    if (status === 413) return sendError(reply, 413, 'PAYLOAD_TOO_LARGE', 'Request body is too large');
    if (status === 415) return sendError(reply, 415, 'UNSUPPORTED_MEDIA_TYPE', error.message);
    if (status >= 400 && status < 500) {
      // fastify's own client errors: malformed JSON, empty JSON body, bad content length ...
      return sendError(reply, status, 'BAD_REQUEST', error.message);
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendError(reply, 500, 'INTERNAL_ERROR', 'Internal server error');
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    const allowed = HTTP_METHODS.filter((method) => request.server.findRoute({ method, url: path }) !== null);
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '));
      return sendError(reply, 405, 'METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${path}: use ${allowed.join(', ')}`);
    }
    return sendError(reply, 404, 'NOT_FOUND', `Route ${request.method} ${path} not found`);
  });
}
