/**
 * PostgreSQL text and jsonb cannot hold U+0000, so input carrying it anywhere is refused up front, naming the
 * fields, rather than failing in the store.
 */

const NUL = '\u0000';
export const hasNul = (text: string): boolean => text.includes(NUL);
export const NUL_MESSAGE = 'must not contain the NUL character (U+0000)';

/** The fields of a JSON-like value whose text (a string or a key) holds NUL, named like `leads.0.username` under `path`. */
export function fieldsWithNul(value: unknown, path = ''): string[] {
  if (typeof value === 'string') return hasNul(value) ? [path] : [];
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, inner]) => {
    const name = key.replaceAll(NUL, '\\u0000');
    const field = path === '' ? name : `${path}.${name}`;
    return hasNul(key) ? [field] : fieldsWithNul(inner, field);
  });
}
