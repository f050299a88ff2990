import type { FieldProblem } from './errors.js';

/**
 * PostgreSQL text and jsonb cannot hold U+0000, so input carrying it anywhere is refused up front, naming the
 * fields, rather than failing in the store.
 */

const NUL = '\u0000';
export const hasNul = (text: string): boolean => text.includes(NUL);
export const NUL_MESSAGE = 'must not contain the NUL character (U+0000)';

/**
 * A lone surrogate (a `\ud800` escape in JSON without its pair) is no character at all: UTF-8 cannot encode it,
 * so the store would keep U+FFFD instead of what was sent.
 */
export const LONE_SURROGATE_MESSAGE = 'must be valid Unicode (it has a lone surrogate, an unpaired \\ud800-\\udfff escape)';

/** Why the store cannot keep this text as given, or undefined when it can. */
export const unstorableText = (text: string): string | undefined => (hasNul(text) ? NUL_MESSAGE : text.isWellFormed() ? undefined : LONE_SURROGATE_MESSAGE);

/**
 * The fields of a JSON-like value whose text (a string or a key) the store cannot keep, with why, named like
 * `leads.0.username` under `path`.
 */
export function unstorableFields(value: unknown, path = ''): FieldProblem[] {
  if (typeof value === 'string') {
    const message = unstorableText(value);
    return message ? [{ field: path, message }] : [];
  }
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, inner]) => {
    const name = key.replaceAll(NUL, '\\u0000').toWellFormed();
    const field = path === '' ? name : `${path}.${name}`;
    const message = unstorableText(key);
    return message ? [{ field, message }] : unstorableFields(inner, field);
  });
}

/** The fields of a JSON-like value whose text (a string or a key) holds NUL. */
export const fieldsWithNul = (value: unknown, path = ''): string[] =>
  unstorableFields(value, path)
    .filter((problem) => problem.message === NUL_MESSAGE)
    .map((problem) => problem.field);
