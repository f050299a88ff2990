import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  classifyXFailure,
  crcResponseToken,
  exhaustedUntil,
  pkceChallenge,
  readXLimits,
  verifyWebhookSignature,
  webhookSignature,
} from '../../src/core/x-protocol.js';

const headers = (h: Record<string, string>) => (name: string) => h[name];
const none = { endpoint: null, day: null };
const now = new Date('2026-01-01T00:00:00Z');

describe('X protocol', () => {
  it('computes the S256 PKCE challenge of RFC 7636’s example', () => {
    expect(pkceChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });

  it('answers a CRC check and signs and verifies webhook bodies in X’s format', () => {
    const expected = `sha256=${createHmac('sha256', 'secret').update('crc').digest('base64')}`;
    expect(crcResponseToken('secret', 'crc')).toBe(expected);
    const body = '{"for_user_id":"1"}';
    const signature = webhookSignature('secret', body);
    expect(verifyWebhookSignature('secret', body, signature)).toBe(true);
    expect(verifyWebhookSignature('secret', `${body} `, signature)).toBe(false);
    expect(verifyWebhookSignature('other', body, signature)).toBe(false);
    expect(verifyWebhookSignature('secret', body, undefined)).toBe(false);
    expect(verifyWebhookSignature('secret', body, 'sha256=short')).toBe(false);
  });

  it('reads both rate limit windows and finds when an exhausted one frees up', () => {
    const limits = readXLimits(
      headers({
        'x-rate-limit-limit': '200',
        'x-rate-limit-remaining': '0',
        'x-rate-limit-reset': String(now.getTime() / 1000 + 900),
        'x-user-limit-24hour-limit': '1000',
        'x-user-limit-24hour-remaining': '0',
        'x-user-limit-24hour-reset': String(now.getTime() / 1000 + 3600),
      }),
    );
    expect(limits.endpoint).toEqual({ limit: 200, remaining: 0, resetAt: new Date(now.getTime() + 900_000) });
    expect(exhaustedUntil(limits, now)).toEqual(new Date(now.getTime() + 3_600_000));
    expect(readXLimits(headers({ 'x-rate-limit-remaining': 'lots' }))).toEqual(none);
    expect(exhaustedUntil({ endpoint: { limit: 1, remaining: 1, resetAt: now }, day: null }, now)).toBeNull();
  });

  it('classifies every failure', () => {
    const reset = { endpoint: { limit: 1, remaining: 0, resetAt: new Date(now.getTime() + 60_000) }, day: null };
    expect(classifyXFailure(429, { title: 'Too Many Requests' }, reset, now)).toMatchObject({ kind: 'rate_limited', resetAt: reset.endpoint.resetAt });
    expect(classifyXFailure(429, null, none, now).resetAt).toEqual(new Date(now.getTime() + 15 * 60_000));
    expect(classifyXFailure(401, { title: 'Unauthorized' }, none, now).kind).toBe('auth_revoked');
    const closed = classifyXFailure(403, { title: 'Forbidden', detail: 'You are not permitted to send Direct Messages to this user.' }, none, now);
    expect(closed).toMatchObject({ kind: 'recipient_unreachable' });
    expect(closed.message).toContain('not permitted to send Direct Messages');
    expect(classifyXFailure(403, { type: 'https://api.twitter.com/2/problems/client-forbidden', reason: 'client-not-enrolled' }, none, now).kind).toBe('auth_revoked');
    expect(classifyXFailure(400, { detail: 'bad participant' }, none, now).kind).toBe('recipient_unreachable');
    for (const status of [500, 502, 503, 504]) expect(classifyXFailure(status, 'oops', none, now).kind).toBe('transient');
  });
});
