import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { open, parseSecretKey, seal, SecretBoxError } from '../../src/core/secret-box.js';

describe('secret box', () => {
  const key = randomBytes(32);

  it('round-trips, with a fresh nonce each time and no clear text inside', () => {
    const a = seal(key, 'token-123', 'ctx');
    const b = seal(key, 'token-123', 'ctx');
    expect(a).not.toBe(b);
    expect(a).not.toContain('token-123');
    expect(open(key, a, 'ctx')).toBe('token-123');
  });

  it('refuses another key, another context, or a tampered value', () => {
    const sealed = seal(key, 'secret', 'x_credentials.access:a');
    expect(() => open(randomBytes(32), sealed, 'x_credentials.access:a')).toThrow(SecretBoxError);
    expect(() => open(key, sealed, 'x_credentials.access:b')).toThrow(SecretBoxError);
    const parts = sealed.split('.');
    parts[3] = Buffer.from('other').toString('base64url');
    expect(() => open(key, parts.join('.'), 'x_credentials.access:a')).toThrow(SecretBoxError);
    expect(() => open(key, 'plain', 'x')).toThrow(SecretBoxError);
  });

  it('reads 32-byte keys as hex or base64 and rejects anything else', () => {
    const raw = randomBytes(32);
    expect(parseSecretKey(raw.toString('hex'))).toEqual(raw);
    expect(parseSecretKey(raw.toString('base64'))).toEqual(raw);
    expect(parseSecretKey(raw.toString('base64url'))).toEqual(raw);
    for (const bad of ['', 'short', randomBytes(16).toString('hex'), randomBytes(31).toString('base64'), 'not base64 at all!']) {
      expect(() => parseSecretKey(bad)).toThrow(SecretBoxError);
    }
  });
});
