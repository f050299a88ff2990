import type { ColumnDataType } from '../store/schema-campaigns.js';

/** A custom column value as stored in a lead's data: text, url and date as strings, number as a number. */
export type ColumnValue = string | number;

export type Checked = { ok: true; value: ColumnValue } | { ok: false; reason: string };

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function validDate(text: string): boolean {
  if (DATE.test(text)) {
    // Round-trips only when the day exists (no 2025-02-30).
    return new Date(`${text}T00:00:00Z`).toISOString().startsWith(text);
  }
  return DATE_TIME.test(text) && !Number.isNaN(Date.parse(text));
}

function validUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * Checks a value given for a column of this type, from JSON or from a CSV cell (always a string): a
 * number column takes a number or a decimal string, the others a string of their form. Dates keep the
 * form they were given in (a day, or an instant normalised to UTC).
 */
export function checkColumnValue(type: ColumnDataType, value: unknown): Checked {
  if (type === 'number') {
    const n = typeof value === 'string' && DECIMAL.test(value.trim()) ? Number(value.trim()) : value;
    return typeof n === 'number' && Number.isFinite(n) ? { ok: true, value: n } : { ok: false, reason: 'must be a number' };
  }
  if (typeof value !== 'string') return { ok: false, reason: `must be a ${type === 'text' ? 'string' : `${type} string`}` };
  if (type === 'text') return value.length <= 10_000 ? { ok: true, value } : { ok: false, reason: 'must be at most 10000 characters' };
  const text = value.trim();
  if (type === 'url') return validUrl(text) ? { ok: true, value: text } : { ok: false, reason: 'must be an http(s) URL' };
  if (!validDate(text)) return { ok: false, reason: 'must be a date (YYYY-MM-DD) or an ISO 8601 date-time' };
  return { ok: true, value: DATE.test(text) ? text : new Date(text).toISOString() };
}

export interface DataProblem {
  columnId: string;
  reason: string;
}

/**
 * Checks a lead's column values against the owner's columns (id → type): every key must be one of
 * them and every value of its type. null stands for "no value" and is kept, for the caller to clear.
 */
export function checkLeadData(
  columns: ReadonlyMap<string, ColumnDataType>,
  data: Readonly<Record<string, unknown>>,
): { data: Record<string, ColumnValue | null>; problems: DataProblem[] } {
  const checked: Record<string, ColumnValue | null> = {};
  const problems: DataProblem[] = [];
  for (const [columnId, value] of Object.entries(data)) {
    const type = columns.get(columnId);
    if (!type) {
      problems.push({ columnId, reason: 'is not one of the columns' });
      continue;
    }
    if (value === null) {
      checked[columnId] = null;
      continue;
    }
    const result = checkColumnValue(type, value);
    if (result.ok) checked[columnId] = result.value;
    else problems.push({ columnId, reason: result.reason });
  }
  return { data: checked, problems };
}
