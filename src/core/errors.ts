/**
 * An error the API reports to its caller: a stable code, a human message and the HTTP status.
 * Use cases throw these; the HTTP layer turns them into the error envelope.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

/** 503: the server has too much of this work in hand; the caller may try again after `retryAfter` seconds. */
export class BusyError extends AppError {
  constructor(
    code: string,
    message: string,
    readonly retryAfter: number,
  ) {
    super(503, code, message);
  }
}

export const notFound = (code: string, what: string, id: string) =>
  new AppError(404, code, `${what} with ID '${id}' not found`);

export const conflict = (message: string, details?: unknown) => new AppError(409, 'CONFLICT', message, details);

/** 409 CONFLICT for a name another tag or status has: API v2 reports the name (`nameTaken`), v1 only the message. */
export class NameTakenError extends AppError {
  constructor(
    message: string,
    readonly takenName: string,
  ) {
    super(409, 'CONFLICT', message);
  }
}

export const validationError = (message: string, details?: unknown) =>
  new AppError(400, 'VALIDATION_ERROR', message, details);

export interface FieldProblem {
  field: string;
  message: string;
}

/** A validation error listing every problem, in the message (`Invalid <what>: field: message; ...`) and in details. */
export const invalidFields = (what: string, problems: readonly FieldProblem[]) =>
  validationError(`Invalid ${what}: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, problems);

export const forbidden = (message = 'Insufficient permissions to access this resource') =>
  new AppError(403, 'FORBIDDEN', message);
