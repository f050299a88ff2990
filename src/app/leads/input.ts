import { checkLeadData, type ColumnValue, type DataProblem } from '../../core/column-values.js';
import { validationError } from '../../core/errors.js';
import type { ColumnDataType } from '../../store/schema-campaigns.js';
import { refKey, type LeadRef } from './resolution.js';

/**
 * The leads a caller adds to a list or a campaign: each named once (a handle, an X user id or our prospect id),
 * with column values checked against the owner's columns. Both the list and the campaign adds use it.
 */

/** The most leads one call names (an add to a list or a campaign, or a removal): the API's bound, and the simulation's batch. */
export const MAX_LEADS_PER_ADD = 2000;

export interface LeadInput {
  ref: LeadRef;
  data?: Record<string, unknown>;
}

/** Column values to store: checked data without its nulls ("no value"). */
export const withoutNulls = (data: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(data).filter(([, v]) => v !== null)) as Record<string, ColumnValue>;

export function invalidData(problems: Array<DataProblem & { at: string }>): never {
  throw validationError(
    `Invalid column values: ${problems.map((p) => `${p.at}.${p.columnId} ${p.reason}`).join('; ')}`,
    problems.map((p) => ({ field: `${p.at}.${p.columnId}`, message: p.reason })),
  );
}

/**
 * The leads of an add (a list's or a campaign's), each identifier once, with their column values checked
 * against the owner's columns; one 400 lists every problem.
 */
export function checkedLeadInputs(columns: ReadonlyMap<string, ColumnDataType>, input: LeadInput[]): Array<{ ref: LeadRef; data: Record<string, ColumnValue> }> {
  const seen = new Set<string>();
  const leads: Array<{ ref: LeadRef; data: Record<string, ColumnValue> }> = [];
  const problems: Array<DataProblem & { at: string }> = [];
  input.forEach((lead, i) => {
    const checked = checkLeadData(columns, lead.data ?? {});
    problems.push(...checked.problems.map((p) => ({ ...p, at: `leads[${i}].data` })));
    if (seen.has(refKey(lead.ref))) return;
    seen.add(refKey(lead.ref));
    leads.push({ ref: lead.ref, data: withoutNulls(checked.data) });
  });
  if (problems.length > 0) invalidData(problems);
  return leads;
}
