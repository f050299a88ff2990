import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listThreadRows, prefixQuery, SEARCH_PLAN, type ThreadListQuery } from '../src/app/inbox/threads.js';
import { seedInbox } from '../bench/seed.js';
import { freshStore, type FreshStore } from './helpers/fresh-store.js';

// Seeded thread g: prospect "User g" / user(5000000 + g), messages "Message k of thread g", sorted by g.
const THREADS = 700;
let store: FreshStore;
let teamId: string;

beforeAll(async () => {
  store = await freshStore();
  teamId = (await seedInbox(store.db, THREADS)).teamId;
});
afterAll(() => store.close());

/** Every matching thread in page order, by the plainest query there is: the truth the plans must agree with. */
async function everyMatch(text: string, direction: 'asc' | 'desc'): Promise<string[]> {
  const tsquery = prefixQuery(text);
  if (!tsquery) return [];
  const order = sql.raw(direction);
  const { rows } = await sql<{ id: string }>`
    select t.id from threads t join prospects p on p.id = t.prospect_id
    where t.team_id = ${teamId} and t.deleted_at is null and not t.done and not t.is_request and t.status = 'active'
      and (to_tsvector('simple', p.display_name || ' ' || p.username) @@ to_tsquery('simple', ${tsquery})
        or exists (select 1 from messages m where m.thread_id = t.id and m.deleted_at is null
                   and to_tsvector('simple', m.content) @@ to_tsquery('simple', ${tsquery})))
    order by t.sort_at ${order}, t.id ${order}`.execute(store.db);
  return rows.map((r) => r.id);
}

/** All pages of a search, followed by cursor as the route does. */
async function everyPage(text: string, direction: 'asc' | 'desc', plan: { walk: number; candidates: number }): Promise<string[]> {
  const found: string[] = [];
  let cursor: ThreadListQuery['cursor'];
  for (;;) {
    const query: ThreadListQuery = { inbox: 'default', q: text, limit: 100, cursor, filters: { sortOrder: direction } };
    const rows = await listThreadRows(store.db, teamId, query, plan);
    found.push(...rows.slice(0, 100).map((r) => r.id));
    if (rows.length <= 100) return found;
    const last = rows[99]!;
    cursor = { id: last.id, timestamp: last.sort_at };
  }
}

describe('thread search plans', () => {
  // "message" matches every thread, "user 12" about one in seven, "thread 123" one, "zebra" none.
  const words = ['message', 'user 12', 'thread 123', 'of 2', 'zebra'];
  const plans = {
    'thread by thread': { walk: THREADS, candidates: THREADS },
    'ids from the indexes': { walk: 1, candidates: THREADS * 3 },
    'whole walk past the id cap': { walk: 1, candidates: 10 },
    default: SEARCH_PLAN,
  };
  for (const [name, plan] of Object.entries(plans)) {
    it(`${name}: every page of every search equals the plain query, in both orders`, async () => {
      for (const word of words) {
        for (const direction of ['desc', 'asc'] as const) {
          expect(await everyPage(word, direction, plan), `${word} ${direction}`).toEqual(await everyMatch(word, direction));
        }
      }
      expect((await everyMatch('message', 'desc')).length).toBe(THREADS);
      expect(await everyMatch('thread 123', 'desc')).toHaveLength(1);
    });
  }
});
