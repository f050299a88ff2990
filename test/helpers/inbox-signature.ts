import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The vendor's documented check of a v2 webhook delivery, written here from the algorithm (not our signing code,
 * src/core/webhook-signature.ts): the header is `t=<unix seconds>,v1=<hex HMAC-SHA256 of "{t}.{raw body}">` keyed
 * with the secret; any v1 may match, and t must be within the tolerance of now.
 */
export function verifyInboxSignature(header: string | undefined, rawBody: string, secret: string, nowSeconds: number, toleranceSeconds = 300): boolean {
  if (!header) return false;
  let t: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const at = part.indexOf('=');
    const [key, value] = [part.slice(0, at).trim(), part.slice(at + 1).trim()];
    if (key === 't' && /^\d+$/.test(value)) t = Number(value);
    if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  if (t === undefined || Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  const expected = createHmac('sha256', Buffer.from(secret, 'utf8')).update(Buffer.from(`${t}.${rawBody}`, 'utf8')).digest();
  return signatures.some((signature) => timingSafeEqual(Buffer.from(signature, 'hex'), expected));
}
