import fc from 'fast-check';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { sharedStore } from '../../test/helpers/store.js';
import type { Db } from './db.js';
import { keysetPage, type Direction } from './keyset.js';

let db: Db;

beforeAll(async () => {
  db = (await sharedStore()).db;
});

interface Row {
  at: Date;
  id: string;
}

/** Walks every page of `rows` (a table of its own in the transaction) and answers the ids in the order seen. */
async function walk(trx: Db, direction: Direction, limit: number): Promise<string[]> {
  const seen: string[] = [];
  let position: unknown[] | undefined;
  for (;;) {
    const select = trx.selectFrom(sql<Row>`keyset_rows`.as('r')).selectAll('r');
    const rows = (await keysetPage(select, ['r.at', 'r.id'], direction, position, limit).execute()) as Row[];
    const page = rows.slice(0, limit);
    seen.push(...page.map((r) => r.id));
    if (rows.length <= limit) return seen;
    const last = page.at(-1)!;
    position = [last.at, last.id];
  }
}

describe('keysetPage', () => {
  it('walks every row exactly once, in order, whatever the page size and however many rows share a time', async () => {
    const times = fc.integer({ min: 0, max: 5 }).map((n) => new Date(Date.UTC(2026, 0, 1, 0, n)));
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.record({ at: times, id: fc.stringMatching(/^[a-z0-9]{1,4}$/) }), { selector: (r) => r.id, maxLength: 40 }), fc.integer({ min: 1, max: 7 }), fc.constantFrom<Direction>('asc', 'desc'), async (rows, limit, direction) => {
        const ids = await db.transaction().execute(async (trx) => {
          await sql`create temporary table keyset_rows (at timestamptz not null, id text collate "C" not null) on commit drop`.execute(trx);
          for (const r of rows) await sql`insert into keyset_rows values (${r.at}, ${r.id})`.execute(trx);
          return walk(trx, direction, limit);
        });
        const expected = [...rows]
          .sort((a, b) => a.at.getTime() - b.at.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
          .map((r) => r.id);
        expect(ids).toEqual(direction === 'asc' ? expected : expected.reverse());
      }),
      { numRuns: 40 },
    );
  });
});
