// The server under benchmark: the real API, plus a bare route behind the same authentication and rate
// limiting, so the benchmark can tell our endpoints' cost apart from the HTTP and auth floor.
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { CompiledQuery } from 'kysely';
import { presentMessage, presentProspect, threadView } from '../src/app/inbox/presenters.js';
import type { MessageRow, ProspectRow, ThreadRow } from '../src/store/schema.js';
import { WebhookDispatcher } from '../src/app/events/webhook-delivery.js';
import { loadConfig } from '../src/config.js';
import { openRuntime } from '../src/cli/runtime.js';
import { requireTeamToken } from '../src/http/auth.js';
import { buildServer } from '../src/http/server.js';

const config = loadConfig();
const runtime = await openRuntime(config);
const app = await buildServer(runtime.ctx);
await app.register(
  async (bare) => {
    requireTeamToken(bare, runtime.ctx);
    bare.withTypeProvider<ZodTypeProvider>().get('/noop', async () => ({ ok: true }));
    // This process's CPU time so far (the embedded store's work included): the benchmark's CPU per request.
    bare.withTypeProvider<ZodTypeProvider>().get('/cpu', async () => {
      const { user, system } = process.cpuUsage();
      return { ms: (user + system) / 1000 };
    });
  },
  { prefix: '/bench' },
);
// Hand-written baselines of GET /api/v1/threads?limit=20 and of a thread's messages (issue 24): the same authentication and rate limiting
// (the scope's hook), then ONE joined statement whose text is built once at start (the page, each thread's
// prospect, last message and tags), the same pure presenters, and plain JSON.stringify without response
// validation. The benchmark checks that it answers exactly what the endpoint answers.
const columnsOf = async (table: string) =>
  (await runtime.ctx.db.executeQuery<{ column_name: string }>(CompiledQuery.raw(`select column_name from information_schema.columns where table_name = $1 and table_schema = current_schema() order by ordinal_position`, [table]))).rows.map((r) => r.column_name);
const threadColumns = await columnsOf('threads');
const prospectColumns = await columnsOf('prospects');
const PAGE = 20;
const threadPageSql = `
  select ${threadColumns.map((c) => `t."${c}" as "t.${c}"`).join(', ')},
         ${prospectColumns.map((c) => `p."${c}" as "p.${c}"`).join(', ')},
         m.id as "m.id", m.content as "m.content", m.author_id as "m.author_id", m.created_at as "m.created_at", m.user_id as "m.user_id", m.campaign_id as "m.campaign_id",
         coalesce((select array_agg(pt.tag_id order by pt.created_at, pt.tag_id) from prospect_tags pt where pt.prospect_id = t.prospect_id), '{}') as tags
  from (select * from threads t where t.team_id = $1 and t.deleted_at is null and t.done = false and t.is_request = false and t.status = 'active'
        order by t.sort_at desc, t.id desc limit ${PAGE + 1}) t
  join prospects p on p.id = t.prospect_id
  left join messages m on m.id = t.last_message_id
  order by t.sort_at desc, t.id desc`;
// The message page's: the thread (the team's, not deleted) and its newest 51 messages in one statement.
const messageColumns = await columnsOf('messages');
const MESSAGES = 50;
const messagePageSql = `
  select t.id as "t.id", t.team_id as "t.team_id", t.is_syncing as "t.is_syncing", ${messageColumns.map((c) => `m."${c}" as "m.${c}"`).join(', ')}
  from threads t
  left join lateral (select * from messages m where m.thread_id = t.id order by m.created_at desc, m.id desc limit ${MESSAGES + 1}) m on true
  where t.id = $1 and t.team_id = $2 and t.deleted_at is null
  order by m.created_at desc, m.id desc`;
const part = (row: Record<string, unknown>, prefix: string, columns: readonly string[]) => Object.fromEntries(columns.map((c) => [c, row[`${prefix}.${c}`]]));
const lastMessageColumns = ['id', 'content', 'author_id', 'created_at', 'user_id', 'campaign_id'];
await app.register(
  async (raw) => {
    requireTeamToken(raw, runtime.ctx);
    raw.get('/threads', async (req, reply) => {
      const rows = (await runtime.ctx.db.executeQuery<Record<string, unknown>>(CompiledQuery.raw(threadPageSql, [req.actor.teamId]))).rows;
      const now = runtime.ctx.clock.now();
      const page = rows.slice(0, PAGE);
      const threads = page.map((row) => {
        const thread = part(row, 't', threadColumns) as unknown as ThreadRow;
        const last = row['m.id'] === null ? undefined : (part(row, 'm', lastMessageColumns) as unknown as Parameters<typeof threadView>[2]);
        return threadView(thread, presentProspect(part(row, 'p', prospectColumns) as unknown as ProspectRow, row.tags as string[], now), last);
      });
      const lastRow = page.at(-1);
      const nextCursor = rows.length > PAGE && lastRow ? { timestamp: (lastRow['t.sort_at'] as Date).toISOString(), id: lastRow['t.id'] as string } : null;
      return reply.type('application/json; charset=utf-8').send(JSON.stringify({ threads, nextCursor }));
    });
    raw.get<{ Params: { threadId: string } }>('/threads/:threadId/messages', async (req, reply) => {
      const rows = (await runtime.ctx.db.executeQuery<Record<string, unknown>>(CompiledQuery.raw(messagePageSql, [req.params.threadId, req.actor.teamId]))).rows;
      if (rows.length === 0) return reply.code(404).send();
      const messages = rows[0]!['m.id'] === null ? [] : rows.map((row) => part(row, 'm', messageColumns) as unknown as MessageRow);
      const page = messages.slice(0, MESSAGES);
      const last = page.at(-1);
      const nextCursor = messages.length > MESSAGES && last ? { timestamp: last.created_at.toISOString(), id: last.id } : null;
      const thread = rows[0]!;
      return reply
        .type('application/json; charset=utf-8')
        .send(JSON.stringify({ teamId: thread['t.team_id'], threadId: thread['t.id'], messages: page.map(presentMessage), nextCursor, isSyncing: thread['t.is_syncing'] }));
    });
  },
  { prefix: '/bench/raw' },
);

// As `inbox serve` does, when the benchmark measures the API beside webhook delivery.
const dispatcher = process.env.BENCH_WEBHOOK_DELIVERY === '1' ? new WebhookDispatcher(runtime.ctx) : null;
await app.listen({ port: config.port, host: '127.0.0.1' });
dispatcher?.start();
process.stdout.write('ready\n');
process.on('SIGTERM', async () => {
  await dispatcher?.stop();
  await app.close();
  await runtime.close();
  process.exit(0);
});
