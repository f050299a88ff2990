import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { AppError, BusyError, invalidFields } from '../core/errors.js';

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
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply) {
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') return sendError(reply, 414, 'URI_TOO_LONG', 'A path segment is longer than this server accepts');
  if (error.code === 'FST_ERR_BAD_URL') return sendError(reply, 400, 'BAD_REQUEST', 'The path is not a valid URL component');
  reply.log.error({ err: error }, 'router error');
  return sendError(reply, 500, 'INTERNAL_ERROR', 'Internal server error');
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

/** Every error leaves the server in the one envelope `{ error: { code, message, status } }`. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof AppError) {
      if (error instanceof BusyError) reply.header('Retry-After', error.retryAfter);
      return sendError(reply, error.status, error.code, error.message, error.details);
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const where = error.validationContext ?? 'request';
      const details = error.validation.map((issue) => ({
        field: `${where}${issue.instancePath === '/' ? '' : issue.instancePath.replaceAll('/', '.')}`,
        message: issue.message,
      }));
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

  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 404, 'NOT_FOUND', `Route ${request.method} ${request.url.split('?')[0]} not found`),
  );
}
