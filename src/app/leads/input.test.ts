import { describe, expect, it } from 'vitest';
import { AppError } from '../../core/errors.js';
import { checkedLeadInputs } from './input.js';

const columns = new Map([
  ['c_score', 'number' as const],
  ['c_note', 'text' as const],
]);

describe('checkedLeadInputs (a list or campaign add)', () => {
  it('keeps the first mention of each lead and stores no nulls', () => {
    const leads = checkedLeadInputs(columns, [
      { ref: { by: 'username', value: 'ada' }, data: { c_score: 3, c_note: null } },
      { ref: { by: 'username', value: 'ada' }, data: { c_score: 9 } },
      { ref: { by: 'platformId', value: '42' } },
    ]);
    expect(leads).toEqual([
      { ref: { by: 'username', value: 'ada' }, data: { c_score: 3 } },
      { ref: { by: 'platformId', value: '42' }, data: {} },
    ]);
  });

  it('names every bad value of every lead in one 400', () => {
    let error: unknown;
    try {
      checkedLeadInputs(columns, [
        { ref: { by: 'username', value: 'ada' }, data: { c_score: 'many' } },
        { ref: { by: 'username', value: 'bob' }, data: { c_unknown: 1 } },
      ]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).status).toBe(400);
    const fields = ((error as AppError).details as Array<{ field: string }>).map((d) => d.field);
    expect(fields).toEqual(['leads[0].data.c_score', 'leads[1].data.c_unknown']);
  });
});
