/** A profile link on X (or its old name), with an optional scheme, subdomain and `@`: the handle is the first path part. */
const PROFILE_URL = /^(?:https?:\/\/)?(?:www\.|mobile\.)?(?:x|twitter)\.com\/@?([A-Za-z0-9_]+)(?:[/?#].*)?$/i;

/**
 * A handle as people paste it, reduced to the handle: "@name", " name ", "https://x.com/name",
 * "twitter.com/name/status/1?s=20" all name "name". Anything else is returned trimmed, to be judged by whoever
 * looks it up.
 */
export function bareUsername(text: string): string {
  const trimmed = text.trim();
  return PROFILE_URL.exec(trimmed)?.[1] ?? trimmed.replace(/^@/, '');
}

/** The key two spellings of one handle share: handles are case-insensitive. */
export const usernameKey = (text: string) => bareUsername(text).toLowerCase();

/** A post's link on X (or its old name): `x.com/<handle>/status/<id>`, with an optional scheme, subdomain and query. */
const POST_URL = /^(?:https?:\/\/)?(?:www\.|mobile\.)?(?:x|twitter)\.com\/@?[A-Za-z0-9_]+\/status(?:es)?\/([0-9]{1,20})(?:[/?#].*)?$/i;

/** The id of the post a link points to ("https://x.com/name/status/123?s=20" is 123), or null when it is no post link. */
export const postIdOfLink = (text: string): string | null => POST_URL.exec(text.trim())?.[1] ?? null;
