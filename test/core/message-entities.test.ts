import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { messageEntities, type EntityIndices } from '../../src/core/message-entities.js';

/** The text an entity covers, sliced as the vendor tells a JavaScript client to: by code points. */
const covered = (content: string, { start, end }: EntityIndices) => Array.from(content).slice(start, end).join('');

const fragment = fc.oneof(
  fc.constantFrom(' ', '  ', '\n', '.', ',', '!', '?', '(', ')', '@', '#', '$', '&', 'a', '_', '1', 'é', '😀', '👩🏽‍💻', '\u0301', 'https://', 'http://', '://', '/', '-'),
  fc.constantFrom('https://example.com/a?b=c#d', 'https://x.com/jack/status/20', 'https://en.wikipedia.org/wiki/Foo_(bar)', 'http://a.b', 'www.example.com'),
  fc.constantFrom('@jane', '@a_b_c', '@toolongusername_x', '#launch', '#2024', '#día', '$TSLA', '$BRK.A', 'me@example.com'),
  fc.string({ maxLength: 4 }),
);
const text = fc.array(fragment, { maxLength: 30 }).map((parts) => parts.join(''));
const platform = fc.constantFrom('twitter', 'sandbox');

describe('message entities', () => {
  it('covers, in code points, exactly the text each entity names, in order and without overlaps', () => {
    fc.assert(
      fc.property(text, platform, (content, on) => {
        const entities = messageEntities(content, on);
        for (const { url, indices } of entities.urls) expect(covered(content, indices)).toBe(url);
        for (const { url, indices } of entities.postShares) expect(covered(content, indices)).toBe(url);
        for (const { username, indices } of entities.mentions) expect(covered(content, indices)).toBe(`@${username}`);
        for (const { tag, indices } of entities.hashtags) expect(covered(content, indices)).toBe(`#${tag}`);
        for (const { symbol, indices } of entities.cashtags) expect(covered(content, indices)).toBe(`$${symbol}`);
        // Shared posts are links too; the other kinds never overlap each other or a link.
        const spans = [...entities.urls, ...entities.mentions, ...entities.hashtags, ...entities.cashtags].map((e) => e.indices).sort((a, b) => a.start - b.start);
        for (const [i, span] of spans.entries()) {
          expect(span.end).toBeGreaterThan(span.start);
          if (i > 0) expect(span.start).toBeGreaterThanOrEqual(spans[i - 1]!.end);
        }
        for (const kind of [entities.urls, entities.mentions, entities.hashtags, entities.cashtags]) {
          expect(kind.map((e) => e.indices.start)).toEqual([...kind.map((e) => e.indices.start)].sort((a, b) => a - b));
        }
        expect(entities.postShares.every((share) => entities.urls.some((link) => link.indices.start === share.indices.start))).toBe(true);
        if (on !== 'twitter') expect(entities.postShares).toEqual([]);
        expect(entities.format).toEqual([]);
      }),
    );
  });

  it('finds links, mentions, hashtags and cashtags as X marks them up', () => {
    const content = '👋 @jane see https://example.com/pricing. and (https://en.wikipedia.org/wiki/Foo_(bar)) #launch #2024 $TSLA me@example.com';
    const entities = messageEntities(content, 'twitter');
    expect(entities.urls).toEqual([
      { url: 'https://example.com/pricing', displayUrl: 'example.com/pricing', indices: { start: 12, end: 39 } },
      { url: 'https://en.wikipedia.org/wiki/Foo_(bar)', displayUrl: 'en.wikipedia.org/wiki/Foo…', indices: { start: 46, end: 85 } },
    ]);
    expect(entities.mentions).toEqual([{ username: 'jane', displayName: null, platformId: null, indices: { start: 2, end: 7 } }]);
    // An all-digit hashtag is none, and neither is an e-mail address a mention.
    expect(entities.hashtags).toEqual([{ tag: 'launch', indices: { start: 87, end: 94 } }]);
    expect(entities.cashtags).toEqual([{ symbol: 'TSLA', indices: { start: 101, end: 106 } }]);
    expect(entities.postShares).toEqual([]);
  });

  it('names shared X posts on twitter only, and finds nothing inside a link', () => {
    const content = 'Look https://x.com/jack/status/20?s=1#@nope';
    expect(messageEntities(content, 'twitter')).toMatchObject({
      urls: [{ url: 'https://x.com/jack/status/20?s=1#@nope' }],
      postShares: [{ platformId: '20', url: 'https://x.com/jack/status/20?s=1#@nope', indices: { start: 5, end: 43 } }],
      mentions: [],
      hashtags: [],
    });
    expect(messageEntities(content, 'sandbox').postShares).toEqual([]);
    expect(messageEntities('', 'sandbox')).toEqual({ urls: [], postShares: [], mentions: [], hashtags: [], cashtags: [], format: [] });
    expect(messageEntities('@toolongusername_x and a#b and xhttps://a.b', 'sandbox')).toMatchObject({ mentions: [], hashtags: [], urls: [] });
  });
});
