/**
 * The parts of a message's text that API v2 shows as `entities`: links, shared posts, mentions, hashtags and
 * cashtags, found in the text itself (no platform is asked), so they follow the text through its edits. The rules
 * are a small version of X's (twitter-text): a link starts with http:// or https://; a mention is `@` and 1-15
 * letters, digits or underscores; a hashtag `#` and letters, marks, digits or underscores with at least one
 * non-digit; a cashtag `$` and 1-6 letters (with an optional `.xx` or `_xx` class); none of them inside a word, and
 * none inside a link. Positions are in Unicode code points, end-exclusive, as the vendor documents.
 */

export interface EntityIndices {
  start: number;
  end: number;
}

export interface MessageEntities {
  urls: Array<{ url: string; displayUrl: string; indices: EntityIndices }>;
  postShares: Array<{ platformId: string; url: string; indices: EntityIndices }>;
  mentions: Array<{ username: string; displayName: string | null; platformId: string | null; indices: EntityIndices }>;
  hashtags: Array<{ tag: string; indices: EntityIndices }>;
  cashtags: Array<{ symbol: string; indices: EntityIndices }>;
  /** rich text: no platform of ours has any */
  format: never[];
}

// Each kind may not start inside a word (an e-mail address is no mention, `a#b` no hashtag, `xhttp://` no link).
/** A link: its scheme and everything up to a space, a quote or an angle bracket. */
const URL_PATTERN = /(?<![\p{L}\p{M}\p{N}_@#$&])https?:\/\/[^\s<>"'`]+/giu;
/** What ends a sentence rather than a link, when it is a link's last character. */
const TRAILING = /[.,;:!?*)\]}…]$/u;
const MENTION_PATTERN = /(?<![\p{L}\p{M}\p{N}_@#$&])@([A-Za-z0-9_]{1,15})(?![A-Za-z0-9_@]|:\/\/)/gu;
const HASHTAG_PATTERN = /(?<![\p{L}\p{M}\p{N}_#&])#([\p{L}\p{M}\p{N}_]*[\p{L}\p{M}_][\p{L}\p{M}\p{N}_]*)/gu;
const CASHTAG_PATTERN = /(?<![\p{L}\p{M}\p{N}_$])\$([A-Za-z]{1,6}(?:[._][A-Za-z]{1,2})?)(?![\p{L}\p{M}\p{N}_])/gu;
/** A post on X, by its address: x.com or twitter.com, a user, `status` and the post's id. */
const POST_PATTERN = /^https?:\/\/(?:www\.|mobile\.)?(?:x|twitter)\.com\/[A-Za-z0-9_]{1,15}\/status(?:es)?\/(\d{1,19})(?:[/?#]|$)/i;

/** How long a link's shown form may be before it is cut, as X shows links. */
const DISPLAY_LENGTH = 26;

/** A link without its scheme, cut to DISPLAY_LENGTH code points with an ellipsis. */
function displayUrlOf(url: string): string {
  const shown = [...url.replace(/^https?:\/\//i, '')];
  return shown.length > DISPLAY_LENGTH ? `${shown.slice(0, DISPLAY_LENGTH - 1).join('')}…` : shown.join('');
}

const count = (text: string, character: string) => text.split(character).length - 1;
const OPENERS: Record<string, string> = { ')': '(', ']': '[', '}': '{' };

/** A link as matched, less the punctuation that ends the sentence it is in (a closing bracket it opened stays). */
function trimLink(link: string): string {
  let trimmed = link;
  while (TRAILING.test(trimmed)) {
    const last = trimmed.at(-1)!;
    const opener = OPENERS[last];
    if (opener && count(trimmed, opener) >= count(trimmed, last)) break;
    trimmed = trimmed.slice(0, -1);
  }
  return trimmed;
}

/** For each UTF-16 offset of `text` (and its end), the offset in code points. */
function codePointOffsets(text: string): Uint32Array {
  const offsets = new Uint32Array(text.length + 1);
  let point = 0;
  for (let unit = 0; unit < text.length; point++) {
    const wide = text.codePointAt(unit)! > 0xffff;
    offsets[unit] = point;
    // The middle of a surrogate pair: no entity starts or ends there.
    if (wide) offsets[unit + 1] = point;
    unit += wide ? 2 : 1;
  }
  offsets[text.length] = point;
  return offsets;
}

/** The entities of a message's text; `platform` decides which links are shared posts (X's). */
export function messageEntities(content: string, platform: string): MessageEntities {
  const entities: MessageEntities = { urls: [], postShares: [], mentions: [], hashtags: [], cashtags: [], format: [] };
  if (content === '') return entities;
  let offsets: Uint32Array | undefined;
  const indices = (start: number, length: number): EntityIndices => {
    offsets ??= codePointOffsets(content);
    return { start: offsets[start]!, end: offsets[start + length]! };
  };

  const links: Array<[number, number]> = [];
  // Most messages have no entity at all: each pattern runs only where its mark is.
  for (const match of content.includes('://') ? content.matchAll(URL_PATTERN) : []) {
    const url = trimLink(match[0]);
    // A link needs a host.
    if (!/^https?:\/\/[^/?#]/i.test(url)) continue;
    links.push([match.index, match.index + url.length]);
    entities.urls.push({ url, displayUrl: displayUrlOf(url), indices: indices(match.index, url.length) });
    const post = platform === 'twitter' ? POST_PATTERN.exec(url) : null;
    if (post) entities.postShares.push({ platformId: post[1]!, url, indices: indices(match.index, url.length) });
  }
  const inLink = (at: number) => links.some(([start, end]) => at >= start && at < end);
  for (const match of content.includes('@') ? content.matchAll(MENTION_PATTERN) : []) {
    if (!inLink(match.index)) entities.mentions.push({ username: match[1]!, displayName: null, platformId: null, indices: indices(match.index, match[0].length) });
  }
  for (const match of content.includes('#') ? content.matchAll(HASHTAG_PATTERN) : []) {
    if (!inLink(match.index)) entities.hashtags.push({ tag: match[1]!, indices: indices(match.index, match[0].length) });
  }
  for (const match of content.includes('$') ? content.matchAll(CASHTAG_PATTERN) : []) {
    if (!inLink(match.index)) entities.cashtags.push({ symbol: match[1]!, indices: indices(match.index, match[0].length) });
  }
  return entities;
}
