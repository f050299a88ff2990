/** Builds dist/web from web/ and returns the gzipped size of the JavaScript in bytes. */
export function buildWeb(options?: { quiet?: boolean }): Promise<number>;
