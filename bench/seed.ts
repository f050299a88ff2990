import { sql } from 'kysely';
import { createTeam } from '../src/app/teams.js';
import { createToken } from '../src/app/tokens.js';
import type { Db } from '../src/store/db.js';

export interface SeededInbox {
  teamId: string;
  token: string;
  tagId: string;
  threadIds: string[];
}

/**
 * Seeds one team with `threads` sandbox threads (one per prospect, spread over 10 account links), three
 * messages each, and a tag on every tenth prospect — set-based, so 100,000 threads take seconds.
 */
export async function seedInbox(db: Db, threads: number): Promise<SeededInbox> {
  const now = new Date();
  const { team, owner } = await createTeam(db, 'Benchmark team', now);
  const { token } = await createToken(db, { teamId: team.id, memberId: owner.id, name: 'bench' }, now);
  const t = team.id;
  const pad = (prefix: string, expr: string) => sql.raw(`'${prefix}' || lpad((${expr})::text, 23, '0')`);
  await sql`
    insert into account_links (id, team_id, platform, platform_id, name, username, image)
    select ${pad('a', 'g')}, ${t}, 'sandbox', (1000 + g)::text, 'Sender ' || g, 'sender' || g, ''
    from generate_series(1, 10) g`.execute(db);
  await sql`
    insert into prospects (id, team_id, platform, platform_id, username, display_name)
    select ${pad('p', 'g')}, ${t}, 'sandbox', (5000000 + g)::text, 'user' || (5000000 + g), 'User ' || g
    from generate_series(1, ${threads}::int) g`.execute(db);
  // Thread g's messages were sent at minute g (inbound, outbound, inbound), so pages are ordered.
  await sql`
    insert into threads (id, team_id, account_link_id, prospect_id, platform, platform_id, variant,
      has_outbound, has_inbound, last_message_id, last_message_at, last_message_outbound, sort_at, created_at)
    select ${pad('t', 'g')}, ${t}, ${pad('a', '1 + g % 10')}, ${pad('p', 'g')}, 'sandbox',
      (1001 + g % 10)::text || ':' || (5000000 + g)::text, 'xChat', true, true, ${pad('m', 'g * 3 + 2')},
      timestamptz '2025-01-01' + g * interval '1 minute', false,
      timestamptz '2025-01-01' + g * interval '1 minute', timestamptz '2025-01-01'
    from generate_series(1, ${threads}::int) g`.execute(db);
  await sql`
    insert into messages (id, team_id, thread_id, platform, platform_id, outbound, author_id, content, origin, created_at)
    select ${pad('m', 'g * 3 + k')}, ${t}, ${pad('t', 'g')}, 'sandbox', (7000000000 + g * 3 + k)::text, k = 1,
      case when k = 1 then ${pad('a', '1 + g % 10')} else ${pad('p', 'g')} end,
      'Message ' || k || ' of thread ' || g, case when k = 1 then 'internal' else 'external' end,
      timestamptz '2025-01-01' + g * interval '1 minute' - (2 - k) * interval '10 seconds'
    from generate_series(1, ${threads}::int) g cross join generate_series(0, 2) k`.execute(db);
  const tagId = 'bench' + t.slice(5);
  await db.insertInto('tags').values({ id: tagId, team_id: t, name: 'Bench tag', color: '#ef4444' }).execute();
  await sql`
    insert into prospect_tags (prospect_id, tag_id)
    select ${pad('p', 'g')}, ${tagId} from generate_series(10, ${threads}::int, 10) g`.execute(db);
  await sql`analyze`.execute(db);
  const sample = await db
    .selectFrom('threads')
    .select('id')
    .where('team_id', '=', t)
    .orderBy('id')
    .limit(200)
    .execute();
  return { teamId: t, token, tagId, threadIds: sample.map((r) => r.id) };
}
