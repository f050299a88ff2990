import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Pure pieces of X's wire protocol: PKCE, webhook CRC and signatures, rate limit headers, error classes. */

/** The S256 PKCE challenge of a code verifier (RFC 7636). */
export const pkceChallenge = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

const hmacBase64 = (secret: string, data: string | Buffer) => createHmac('sha256', secret).update(data).digest('base64');

/** The answer to an Account Activity CRC check: `sha256=` + base64 HMAC-SHA256(consumer secret, crc_token). */
export const crcResponseToken = (consumerSecret: string, crcToken: string) => `sha256=${hmacBase64(consumerSecret, crcToken)}`;

/** The x-twitter-webhooks-signature header X puts on an Account Activity POST of this raw body. */
export const webhookSignature = (consumerSecret: string, rawBody: string | Buffer) => `sha256=${hmacBase64(consumerSecret, rawBody)}`;

/** Compares in constant time, so the signature cannot be guessed byte by byte. */
export function verifyWebhookSignature(consumerSecret: string, rawBody: string | Buffer, header: string | undefined): boolean {
  if (!header) return false;
  const expected = Buffer.from(webhookSignature(consumerSecret, rawBody));
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** One rate limit window as X reports it in response headers. */
export interface XLimit {
  limit: number | null;
  remaining: number;
  resetAt: Date;
}

export interface XLimits {
  /** x-rate-limit-*: the endpoint's window for this user (15 minutes for most) */
  endpoint: XLimit | null;
  /** x-user-limit-24hour-*: the user's daily allowance (DM sends) */
  day: XLimit | null;
}

type HeaderGetter = (name: string) => string | null | undefined;

function limitFrom(get: HeaderGetter, prefix: string): XLimit | null {
  const remaining = Number(get(`${prefix}-remaining`) ?? Number.NaN);
  const reset = Number(get(`${prefix}-reset`) ?? Number.NaN);
  if (!Number.isFinite(remaining) || !Number.isFinite(reset)) return null;
  const limit = Number(get(`${prefix}-limit`) ?? Number.NaN);
  return { limit: Number.isFinite(limit) ? limit : null, remaining, resetAt: new Date(reset * 1000) };
}

/** Reads both windows from a response's headers (absent or malformed headers give null). */
export function readXLimits(get: HeaderGetter): XLimits {
  return { endpoint: limitFrom(get, 'x-rate-limit'), day: limitFrom(get, 'x-user-limit-24hour') };
}

/** When the account may call again: the latest reset among exhausted windows, or null when none is. */
export function exhaustedUntil(limits: XLimits, now: Date): Date | null {
  const ends = [limits.endpoint, limits.day]
    .filter((l): l is XLimit => l !== null && l.remaining <= 0 && l.resetAt > now)
    .map((l) => l.resetAt.getTime());
  return ends.length ? new Date(Math.max(...ends)) : null;
}

export type XFailureKind = 'recipient_unreachable' | 'rate_limited' | 'auth_revoked' | 'transient';

export interface XFailure {
  kind: XFailureKind;
  message: string;
  resetAt?: Date;
}

/** Without a usable reset header, a 429 holds the account for one standard window. */
const DEFAULT_HOLD_MS = 15 * 60_000;

/** X's problem body, as far as a classification needs it. */
interface Problem {
  title?: string;
  detail?: string;
  type?: string;
  reason?: string;
  error?: string;
  error_description?: string;
}

function describe(status: number, body: unknown): string {
  const p = (typeof body === 'object' && body !== null ? body : {}) as Problem;
  return [`HTTP ${status}`, p.title, p.detail ?? p.error_description ?? p.error, p.reason].filter(Boolean).join(': ');
}

/**
 * What a failed X response means for the caller. 403 means the target refuses us (closed DMs, blocked,
 * protected) unless X says our app or account itself may not act (client-forbidden, suspended sender).
 */
export function classifyXFailure(status: number, body: unknown, limits: XLimits, now: Date): XFailure {
  const message = describe(status, body);
  if (status === 429) {
    return { kind: 'rate_limited', message, resetAt: exhaustedUntil(limits, now) ?? limits.endpoint?.resetAt ?? new Date(now.getTime() + DEFAULT_HOLD_MS) };
  }
  if (status === 401) return { kind: 'auth_revoked', message };
  if (status === 403) {
    const p = (typeof body === 'object' && body !== null ? body : {}) as Problem;
    const ourSide = /client-forbidden|client-not-enrolled/.test(`${p.type ?? ''} ${p.reason ?? ''}`) || /account .*(suspended|locked)/i.test(p.detail ?? '');
    return { kind: ourSide ? 'auth_revoked' : 'recipient_unreachable', message };
  }
  if (status === 400 || status === 404) return { kind: 'recipient_unreachable', message };
  return { kind: 'transient', message };
}
