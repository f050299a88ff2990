import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bareUsername, usernameKey } from '../../src/core/usernames.js';

const handle = fc.stringMatching(/^[A-Za-z0-9_]{1,15}$/);

describe('bareUsername', () => {
  it('reads a handle in every spelling people paste it', () => {
    fc.assert(
      fc.property(handle, fc.constantFrom('', 'https://', 'http://'), fc.constantFrom('', 'www.', 'mobile.'), fc.constantFrom('x.com', 'twitter.com', 'X.com'), fc.constantFrom('', '/', '?s=20', '/status/123', '#top'), (name, scheme, sub, host, tail) => {
        for (const spelling of [name, `@${name}`, `  ${name} `, `${scheme}${sub}${host}/${name}${tail}`, `${scheme}${host}/@${name}`]) {
          expect(bareUsername(spelling)).toBe(name);
          expect(usernameKey(spelling)).toBe(name.toLowerCase());
        }
      }),
    );
  });

  it('leaves what is not a handle for the look-up to judge', () => {
    expect(bareUsername('https://example.com/name')).toBe('https://example.com/name');
    expect(bareUsername('x.com')).toBe('x.com');
    expect(bareUsername('')).toBe('');
  });
});
