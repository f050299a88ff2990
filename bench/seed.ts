import { sql } from 'kysely';
import { createTeam } from '../src/app/team/teams.js';
import { createToken } from '../src/app/team/tokens.js';
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

/**
 * A paused campaign of the seeded team with a lead for each of its first `leads` prospects (pending, spread over
 * the 10 accounts, entered a second apart) and a three-step sequence: the campaign page's worst case to open.
 */
export async function seedCampaign(db: Db, teamId: string, leads: number): Promise<string> {
  const id = `c${teamId.slice(1)}`;
  const pad = (prefix: string, expr: string) => sql.raw(`'${prefix}' || lpad((${expr})::text, 23, '0')`);
  const steps = [
    { id: 's1', rank: 0, type: 'message', data: { segments: [{ type: 'variation', options: ['Hi', 'Hey'] }, { type: 'static', text: ' ' }, { type: 'variable', name: 'first-name', fallback: 'there' }] } },
    { id: 's2', rank: 1, type: 'delay', data: { delaySeconds: 86_400, unit: 'days' } },
    { id: 's3', rank: 2, type: 'message', data: { segments: [{ type: 'static', text: 'Following up' }] } },
  ];
  await sql`
    insert into campaigns (id, team_id, name, status, schedule, sequence_version, pause_reason, created_at, paused_at)
    values (${id}, ${teamId}, 'Benchmark campaign', 'paused', ${JSON.stringify({ 1: { start: 540, end: 1020 } })}, 1, 'manual', now(), now())`.execute(db);
  await sql`insert into sequence_versions (campaign_id, version, steps, created_at) values (${id}, 1, ${JSON.stringify(steps)}, now())`.execute(db);
  await sql`
    insert into campaign_accounts (campaign_id, account_link_id, position)
    select ${id}, ${pad('a', 'g')}, g - 1 from generate_series(1, 10) g`.execute(db);
  await sql`
    insert into campaign_leads (id, campaign_id, team_id, prospect_id, state, account_link_id, data, created_at)
    select ${pad('l', 'g')}, ${id}, ${teamId}, ${pad('p', 'g')}, 'pending', ${pad('a', '1 + g % 10')}, '{}',
      timestamptz '2025-01-01' + g * interval '1 second'
    from generate_series(1, ${leads}::int) g`.execute(db);
  await sql`analyze`.execute(db);
  return id;
}
