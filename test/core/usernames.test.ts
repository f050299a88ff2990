import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bareUsername, postIdOfLink, usernameKey } from '../../src/core/usernames.js';

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

describe('postIdOfLink', () => {
  it("reads a post's id from its link in every spelling people paste it", () => {
    fc.assert(
      fc.property(handle, fc.bigInt({ min: 1n, max: 10n ** 19n }), fc.constantFrom('', 'https://', 'http://'), fc.constantFrom('', 'www.', 'mobile.'), fc.constantFrom('x.com', 'twitter.com'), fc.constantFrom('', '?s=20', '/photo/1', '#m'), (name, id, scheme, sub, host, tail) => {
        expect(postIdOfLink(` ${scheme}${sub}${host}/${name}/status/${id}${tail} `)).toBe(String(id));
      }),
    );
  });

  it('finds no post in other links', () => {
    for (const text of ['https://x.com/name', 'https://example.com/name/status/1', 'x.com/name/status/', 'https://x.com/name/status/12a', '123']) expect(postIdOfLink(text), text).toBeNull();
  });
});
