import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { AppError, NameTakenError, type FieldProblem } from '../../core/errors.js';
import { RateLimitedError } from '../auth.js';

/**
 * API v2's error envelope, `{ code, message, details, requestId }` with the vendor's camelCase codes, and the
 * translation of the errors our use cases throw (v1's codes) into it. v1 keeps its own envelope: both versions
 * throw the same AppErrors, each context's handler shows them.
 */
export interface V2ErrorBody {
  code: string;
  message: string;
  details: Record<string, unknown> | null;
  requestId: string;
}

/** An error a v2 route throws itself, already in v2's terms. */
export class V2Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> | null = null,
  ) {
    super(message);
    this.name = 'V2Error';
  }
}

export type Issue = { path: Array<string | number>; message: string };

export const invalidRequest = (issues: Issue[], message = `Invalid request: ${issues.map((i) => `${i.path.join('.') || 'request'}: ${i.message}`).join('; ')}`) =>
  new V2Error(400, 'invalidRequest', message, { issues });

/**
 * For a reference in a body whose operation documents no 404 for it (an assignee, a status): the use case's
 * not-found becomes 400 invalidRequest on that field.
 */
export const asBadReference = (field: string) => (error: unknown) => {
  if (error instanceof AppError && error.status === 404) throw invalidRequest([{ path: [field], message: error.message }]);
  throw error;
};

export const invalidCursor = () => new V2Error(400, 'invalidCursor', 'The cursor is not one this list gave out for these filters');

export const platformNotAvailable = (platform: string) =>
  new V2Error(403, 'platformNotAvailable', `The ${platform} platform is not available to this team`, { platform });

/** v1's not-found codes and the v2 code each becomes. */
const NOT_FOUND: Record<string, string> = {
  THREAD_NOT_FOUND: 'threadNotFound',
  MESSAGE_NOT_FOUND: 'messageNotFound',
  PROSPECT_NOT_FOUND: 'contactNotFound',
  ACCOUNT_LINK_NOT_FOUND: 'accountLinkNotFound',
  MEMBER_NOT_FOUND: 'memberNotFound',
  TAG_NOT_FOUND: 'tagNotFound',
  STATUS_NOT_FOUND: 'statusNotFound',
  WEBHOOK_NOT_FOUND: 'webhookNotFound',
};

const detail = (error: AppError, key: string): unknown => (error.details && typeof error.details === 'object' ? (error.details as Record<string, unknown>)[key] : undefined);
const retryAfter = (error: AppError) => ({ retryAfterSeconds: typeof detail(error, 'retryAfterSeconds') === 'number' ? detail(error, 'retryAfterSeconds') : null });
const notModifiable = (error: AppError) => new V2Error(422, 'messageNotModifiable', error.message, { reason: error.message });
const disconnected = (error: AppError) =>
  new V2Error(409, 'accountLinkDisconnected', error.message, { accountLinkId: detail(error, 'accountLinkId'), status: detail(error, 'status') });

/** v1's codes of an operation the platform, the conversation or the message does not allow, in v2's terms. */
const REFUSALS: Record<string, (error: AppError) => V2Error> = {
  CAPABILITY_NOT_SUPPORTED: (e) => new V2Error(422, 'capabilityNotSupported', e.message, { capability: detail(e, 'capability') }),
  THREAD_RESTRICTED: (e) => new V2Error(422, 'threadRestricted', e.message, { capability: detail(e, 'capability') }),
  MUTATION_WINDOW_CLOSED: (e) => new V2Error(422, 'mutationWindowClosed', e.message, { capability: detail(e, 'capability'), closedAt: detail(e, 'closedAt') }),
  CONTENT_REJECTED: (e) => new V2Error(422, 'contentRejected', e.message, { detail: detail(e, 'detail') }),
  MESSAGE_DELETED: notModifiable,
  NOT_OWN_MESSAGE: notModifiable,
  ACCOUNT_LINK_NOT_ACTIVE: disconnected,
  ACCOUNT_LINK_OFFLINE: disconnected,
  PLATFORM_RATE_LIMITED: (e) => new V2Error(429, 'platformRateLimited', e.message, retryAfter(e)),
  PLATFORM_UNAVAILABLE: (e) => new V2Error(503, 'platformUnavailable', e.message, retryAfter(e)),
  PLATFORM_REFUSED: (e) => new V2Error(502, 'platformError', e.message),
};

/** `body.name` or `querystring.tag.0` (our field names) as a v2 issue path, without the part of the request. */
function issuePath(field: string): Array<string | number> {
  const parts = field.split('.').filter(Boolean);
  if (['body', 'querystring', 'params', 'headers', 'request'].includes(parts[0] ?? '')) parts.shift();
  return parts.map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

const issuesOf = (problems: readonly FieldProblem[]): Issue[] => problems.map((p) => ({ path: issuePath(p.field), message: p.message }));

/** A use case's error in v2's terms. Anything without a v2 counterpart is an internal error (and logged). */
function translate(error: AppError): V2Error | null {
  if (error instanceof RateLimitedError) {
    const window = error.window.seconds >= 86_400 ? 'day' : error.window.seconds >= 3600 ? 'hour' : 'minute';
    return new V2Error(429, 'rateLimited', error.message, { window, limit: error.window.limit, resetAt: error.window.resetAt.toISOString() });
  }
  if (error instanceof NameTakenError) return new V2Error(409, 'nameTaken', error.message, { name: error.takenName });
  const notFound = NOT_FOUND[error.code];
  if (notFound) return new V2Error(404, notFound, error.message);
  const refusal = REFUSALS[error.code];
  if (refusal) return refusal(error);
  switch (error.code) {
    case 'UNAUTHORIZED':
      return new V2Error(401, 'unauthorized', error.message);
    // Our extensions' only refusal by role (a member managing webhooks): the vendor's v2 has no such code.
    case 'FORBIDDEN':
      return new V2Error(403, 'forbidden', error.message);
    // v2 documents no 403 for a session write from another site: the cookie does not authenticate that request.
    case 'CSRF_REJECTED':
      return new V2Error(401, 'unauthorized', error.message);
    case 'VALIDATION_ERROR':
      return invalidRequest(Array.isArray(error.details) ? issuesOf(error.details as FieldProblem[]) : [{ path: [], message: error.message }], error.message);
    case 'BAD_REQUEST':
      return invalidRequest([{ path: [], message: error.message }], error.message);
    default:
      return null;
  }
}

export function sendV2Error(reply: FastifyReply, request: FastifyRequest, error: V2Error) {
  const body: V2ErrorBody = { code: error.code, message: error.message, details: error.details, requestId: request.id };
  return reply.code(error.status).send(body);
}

const UNIQUE_VIOLATION = '23505';

const internal = () => new V2Error(500, 'internal', 'Internal server error');

/** The v2 context's error and not-found handlers: every answer of /api/v2 is in its envelope. */
export function installV2ErrorHandling(api: FastifyInstance): void {
  api.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof V2Error) return sendV2Error(reply, request, error);
    if (error instanceof AppError) {
      const translated = translate(error);
      if (translated) return sendV2Error(reply, request, translated);
      request.log.error({ err: error }, 'an error API v2 has no code for');
      return sendV2Error(reply, request, internal());
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const where = error.validationContext ?? 'request';
      const issues = error.validation.map((issue) => ({ path: issuePath([where, ...issue.instancePath.split('/').slice(1)].join('.')), message: issue.message ?? 'is invalid' }));
      return sendV2Error(reply, request, invalidRequest(issues));
    }
    // Two creates of one name at once: the loser meets the unique index instead of the check (tags and statuses
    // are the only v2 writes with a unique name).
    if ((error as { code?: string }).code === UNIQUE_VIOLATION) {
      const name = (request.body as { name?: unknown } | undefined)?.name;
      return sendV2Error(reply, request, new V2Error(409, 'nameTaken', 'That name is taken', { name: typeof name === 'string' ? name : '' }));
    }
    if (isResponseSerializationError(error as never)) {
      request.log.error({ err: error, issues: (error as { cause?: unknown }).cause }, 'response does not match its schema');
      return sendV2Error(reply, request, internal());
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      // fastify's own client errors (malformed JSON, a body too large, a compressed body): v2 documents only
      // invalidRequest for a request it cannot read.
      if (status === 413) reply.header('connection', 'close');
      return sendV2Error(reply, request, invalidRequest([{ path: [], message: error.message }], error.message));
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendV2Error(reply, request, internal());
  });
}
