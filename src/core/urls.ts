/** Parts of URLs the presenters show. */

/** The host a URL points at, without `www.`; null for what is no URL. */
export function domainOf(url: string | null): string | null {
  if (!url) return null;
  try {
    return new URL(url).hostname.replace(/^www\./, '');
  } catch {
    return null;
  }
}

/** The last segment of a URL's path, decoded, as a file name; null when there is none. */
export function filenameOf(url: string): string | null {
  try {
    const last = new URL(url).pathname.split('/').at(-1) ?? '';
    return last ? decodeURIComponent(last) : null;
  } catch {
    return null;
  }
}
