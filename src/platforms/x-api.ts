import type { Clock } from '../core/clock.js';
import { classifyXFailure, readXLimits, type XLimits } from '../core/x-protocol.js';
import type { XConfig } from '../config.js';
import { PlatformError } from './platform.js';

/** X's OAuth 2.0 token response. */
export interface XTokenResponse {
  token_type: string;
  access_token: string;
  refresh_token?: string;
  expires_in: number;
  scope: string;
}

export interface XRequest {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  query?: Record<string, string | undefined>;
  json?: unknown;
  /** sees the rate limit headers of every answer, failures included */
  observe?: (limits: XLimits) => Promise<void>;
}

const TIMEOUT_MS = 15_000;

/** Network failures and timeouts: X may or may not have acted, and a later retry decides. */
function unreachable(error: unknown): PlatformError {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return new PlatformError('transient', `X did not answer: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
}

function isConnectionReset(error: unknown): boolean {
  const code = (error as { cause?: { code?: string } }).cause?.code;
  return code === 'ECONNRESET' || code === 'UND_ERR_SOCKET';
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return { detail: text.slice(0, 200) };
  }
}

/**
 * The HTTP side of X API v2: bearer-authenticated calls and the OAuth 2.0 token endpoint. Every failure
 * becomes a PlatformError of the right kind; tokens are sent, never logged.
 */
export class XApi {
  constructor(
    private readonly config: XConfig,
    private readonly clock: Clock,
  ) {}

  async call<T>(token: string, request: XRequest): Promise<T> {
    const url = new URL(`${this.config.apiUrl}${request.path}`);
    for (const [name, value] of Object.entries(request.query ?? {})) if (value !== undefined) url.searchParams.set(name, value);
    const send = () =>
      fetch(url, {
        method: request.method,
        headers: { authorization: `Bearer ${token}`, ...(request.json === undefined ? {} : { 'content-type': 'application/json' }) },
        body: request.json === undefined ? undefined : JSON.stringify(request.json),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    let response: Response;
    try {
      response = await send().catch((error: unknown) => {
        // A kept-alive connection the server closed just as it was reused: a read goes again once on a new one.
        // Writes are not repeated here: whether X acted is the send protocol's to find out.
        if (request.method === 'GET' && isConnectionReset(error)) return send();
        throw error;
      });
    } catch (error) {
      throw unreachable(error);
    }
    const limits = readXLimits((name) => response.headers.get(name));
    await request.observe?.(limits);
    const body = await readBody(response);
    if (response.ok) return body as T;
    const failure = classifyXFailure(response.status, body, limits, this.clock.now());
    throw new PlatformError(failure.kind, failure.message, failure.resetAt);
  }

  /**
   * The token endpoint, as a confidential client (HTTP Basic). A refused grant (bad code, revoked or
   * already rotated refresh token) is auth_revoked: only the user can fix it by linking again.
   */
  async token(form: Record<string, string>): Promise<XTokenResponse> {
    const client = this.config.client;
    if (!client) throw new PlatformError('transient', 'X OAuth client is not configured');
    let response: Response;
    try {
      response = await fetch(`${this.config.apiUrl}/2/oauth2/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.id)}:${encodeURIComponent(client.secret)}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ ...form, client_id: client.id }).toString(),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      throw unreachable(error);
    }
    const body = await readBody(response);
    if (response.ok) return body as XTokenResponse;
    const failure = classifyXFailure(response.status, body, readXLimits((name) => response.headers.get(name)), this.clock.now());
    const refused = response.status === 400 || response.status === 401;
    throw new PlatformError(refused ? 'auth_revoked' : failure.kind, `X token endpoint: ${failure.message}`, failure.resetAt);
  }
}
