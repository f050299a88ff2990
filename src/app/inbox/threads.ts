import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import { AppError } from '../../core/errors.js';
import type { Db } from '../../store/db.js';
import type { Database, ThreadRow, ThreadsTable } from '../../store/schema.js';
import { getAccountLinkRow } from '../accounts/account-links.js';
import { accountOf, platformOf } from '../../platforms/platform.js';
import type { AppContext } from '../context.js';
import { emitEvent } from '../events/events.js';
import { assertMember } from '../team/members.js';
import { findProspectByPlatformId, getProspectRow, setProspectAssignee } from '../prospects/prospects.js';
import { openThread, type Target } from './message-recording.js';
import { presentThread, presentThreads, type Thread } from './presenters.js';
import { keysetPage } from '../../store/keyset.js';
import { rowOr404 } from '../rows.js';

/** A live (not deleted) thread of the team; 404 THREAD_NOT_FOUND otherwise. */
export async function getThreadRow(db: Db, teamId: string, threadId: string, forUpdate = false): Promise<ThreadRow> {
  let query = db
    .selectFrom('threads')
    .selectAll()
    .where('team_id', '=', teamId)
    .where('id', '=', threadId)
    .where('deleted_at', 'is', null);
  if (forUpdate) query = query.forUpdate();
  return rowOr404(query, 'THREAD_NOT_FOUND', 'Thread', threadId);
}

/** Locks a thread row (deleted or not) for a state change. */
export const lockThread = (trx: Db, threadId: string): Promise<ThreadRow> =>
  trx.selectFrom('threads').selectAll().where('id', '=', threadId).forUpdate().executeTakeFirstOrThrow();

export interface TargetInput {
  accountLinkId: string;
  externalPlatformId?: string;
  externalId?: string;
}

/** Resolves an account link plus a prospect given by externalId or by platform id (reads only). */
export async function resolveTarget(ctx: AppContext, teamId: string, input: TargetInput): Promise<Target> {
  const account = await getAccountLinkRow(ctx.db, teamId, input.accountLinkId);
  if (input.externalId !== undefined) {
    const prospect = await getProspectRow(ctx.db, teamId, input.externalId);
    if (prospect.platform !== account.platform) {
      throw new AppError(422, 'PLATFORM_MISMATCH', `Prospect '${prospect.id}' is on ${prospect.platform}, the account link on ${account.platform}`);
    }
    return { account, prospect, recipientPlatformId: prospect.platform_id };
  }
  const platformId = input.externalPlatformId!;
  const prospect = await findProspectByPlatformId(ctx.db, teamId, account.platform, platformId);
  if (prospect) return { account, prospect, recipientPlatformId: platformId };
  const profile = await platformOf(ctx, account.platform).profileById(platformId, accountOf(account));
  if (!profile) throw new AppError(404, 'PROSPECT_NOT_FOUND', `No ${account.platform} user with platform ID '${platformId}'`);
  return { account, profile, recipientPlatformId: platformId };
}

export async function createThread(ctx: AppContext, teamId: string, input: TargetInput): Promise<Thread> {
  const target = await resolveTarget(ctx, teamId, input);
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => presentThread(trx, await openThread(trx, target, now), now));
}

export async function lookupThread(ctx: AppContext, teamId: string, input: TargetInput): Promise<Thread | null> {
  const account = await getAccountLinkRow(ctx.db, teamId, input.accountLinkId);
  const prospect =
    input.externalId !== undefined
      ? await ctx.db.selectFrom('prospects').selectAll().where('team_id', '=', teamId).where('id', '=', input.externalId).executeTakeFirst()
      : await findProspectByPlatformId(ctx.db, teamId, account.platform, input.externalPlatformId!);
  if (!prospect) return null;
  const row = await ctx.db
    .selectFrom('threads')
    .selectAll()
    .where('account_link_id', '=', account.id)
    .where('prospect_id', '=', prospect.id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return row ? presentThread(ctx.db, row, ctx.clock.now()) : null;
}

export async function lookupThreadsByUsername(
  ctx: AppContext,
  teamId: string,
  username: string,
  accountLinkIds?: string[],
): Promise<Thread[]> {
  let query = ctx.db
    .selectFrom('threads as t')
    .innerJoin('prospects as p', 'p.id', 't.prospect_id')
    .selectAll('t')
    .where('t.team_id', '=', teamId)
    .where('t.deleted_at', 'is', null)
    .where((eb) => eb(eb.fn('lower', ['p.username']), '=', username.replace(/^@/, '').toLowerCase()));
  if (accountLinkIds?.length) query = query.where('t.account_link_id', 'in', accountLinkIds);
  const rows = await query.orderBy('t.sort_at', 'desc').orderBy('t.id', 'desc').execute();
  return presentThreads(ctx.db, rows, ctx.clock.now());
}

export async function getThread(ctx: AppContext, teamId: string, threadId: string): Promise<Thread> {
  return presentThread(ctx.db, await getThreadRow(ctx.db, teamId, threadId), ctx.clock.now());
}

export type InboxView = 'default' | 'no-reply' | 'requests' | 'archived';
/**
 * Every folder a list may be read from: v1's views, and two of API v2's: `inbound-last` (v2's noReply: the inbox
 * threads whose last message is the prospect's, waiting on us) and `all` (every folder).
 */
export type ThreadFolder = InboxView | 'inbound-last' | 'all';

interface SelectionFilter {
  selectedIds?: string[];
}

export interface ThreadListQuery {
  inbox: ThreadFolder;
  accountLinkIds?: string[];
  /** threads with these prospects (API v2's contactId filter) */
  prospectIds?: string[];
  filters?: {
    tags?: SelectionFilter & { noTags?: boolean };
    statuses?: SelectionFilter & { noStatus?: boolean };
    assignees?: SelectionFilter & { noAssignee?: boolean };
    campaigns?: SelectionFilter & { noCampaign?: boolean };
    sortOrder?: 'asc' | 'desc';
  } | null;
  unread?: boolean;
  /** search text: words matched as prefixes of the prospect's name or username, or of a message's words */
  q?: string;
  cursor?: { id: string; timestamp: Date };
  limit: number;
}

type ThreadsEb = ExpressionBuilder<Database & { t: ThreadsTable }, 't'>;

const VIEWS: Record<ThreadFolder, (eb: ThreadsEb) => Expression<SqlBool>> = {
  default: (eb) => eb.and([eb('t.done', '=', false), eb('t.is_request', '=', false), eb('t.status', '=', 'active')]),
  'inbound-last': (eb) => eb.and([VIEWS.default(eb), eb('t.last_message_outbound', '=', false)]),
  all: () => sql<SqlBool>`true`,
  'no-reply': (eb) => eb.and([eb('t.done', '=', false), eb('t.last_message_outbound', '=', true)]),
  requests: (eb) => eb.and([eb('t.done', '=', false), eb('t.is_request', '=', true)]),
  archived: (eb) => eb('t.done', '=', true),
};

/** "Any of these ids, or none at all": the two halves of one sub-filter are ORed. */
function anyOrNone(
  eb: ThreadsEb,
  ids: string[] | undefined,
  none: boolean | undefined,
  inSet: (ids: string[]) => Expression<SqlBool>,
  empty: () => Expression<SqlBool>,
): Expression<SqlBool> | undefined {
  const parts = [...(ids?.length ? [inSet(ids)] : []), ...(none ? [empty()] : [])];
  return parts.length > 0 ? eb.or(parts) : undefined;
}

/**
 * The user's words as a prefix tsquery ('jan':* & 'doe':*), or null when there are none. Only letters and digits
 * get in, so nothing the user types is read as tsquery syntax.
 */
export function prefixQuery(text: string): string | null {
  const words = text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean).slice(0, 16);
  return words.length ? words.map((w) => `'${w}':*`).join(' & ') : null;
}

/** The prefix tsquery of the user's search text, or null when it has no words (then nothing matches). */
function searchQuery(text: string) {
  const tsquery = prefixQuery(text);
  return tsquery ? sql`to_tsquery('simple', ${tsquery})` : null;
}

/** The ids of the team's threads that match, read from the GIN indexes (0017); at most `cap` + 1 of them. */
async function matchingThreadIds(db: Db, teamId: string, text: string, cap: number): Promise<string[]> {
  const query = searchQuery(text);
  if (!query) return [];
  const byProspect = db
    .selectFrom('threads as ct')
    .select('ct.id')
    .where('ct.team_id', '=', teamId)
    .where('ct.prospect_id', 'in', (eb) =>
      eb
        .selectFrom('prospects as sp')
        .select('sp.id')
        .where('sp.team_id', '=', teamId)
        .where(sql<SqlBool>`to_tsvector('simple', sp.display_name || ' ' || sp.username) @@ ${query}`),
    );
  const byMessage = db
    .selectFrom('messages as sm')
    .select('sm.thread_id as id')
    .where('sm.team_id', '=', teamId)
    .where('sm.deleted_at', 'is', null)
    .where(sql<SqlBool>`to_tsvector('simple', sm.content) @@ ${query}`);
  const rows = await db.selectFrom(byProspect.union(byMessage).as('c')).select('c.id').limit(cap + 1).execute();
  return rows.map((r) => r.id);
}

/**
 * The search checked thread by thread (no index): cheap only for the few threads a bounded walk visits. The
 * `offset 0` keeps each EXISTS a per-thread check: without it PostgreSQL may turn it into a hash of every
 * matching message in the team, which is the cost this plan is there to avoid.
 */
function matchesSearch(eb: ThreadsEb, text: string): Expression<SqlBool> {
  const query = searchQuery(text);
  if (!query) return sql<SqlBool>`false`;
  return eb.or([
    eb.exists(
      eb
        .selectFrom('prospects as sp')
        .select('sp.id')
        .whereRef('sp.id', '=', 't.prospect_id')
        .where(sql<SqlBool>`to_tsvector('simple', sp.display_name || ' ' || sp.username) @@ ${query}`)
        .offset(0),
    ),
    eb.exists(
      eb
        .selectFrom('messages as sm')
        .select('sm.id')
        .whereRef('sm.thread_id', '=', 't.id')
        .where('sm.deleted_at', 'is', null)
        .where(sql<SqlBool>`to_tsvector('simple', sm.content) @@ ${query}`)
        .offset(0),
    ),
  ]);
}

function filterConditions(eb: ThreadsEb, teamId: string, query: ThreadListQuery): Expression<SqlBool>[] {
  const f = query.filters ?? {};
  const tagged = (ids?: string[]) => {
    let sub = eb.selectFrom('prospect_tags as pt').select('pt.tag_id').whereRef('pt.prospect_id', '=', 't.prospect_id');
    if (ids) sub = sub.where('pt.tag_id', 'in', ids);
    return eb.exists(sub);
  };
  const statusIs = (ids?: string[]) =>
    eb.exists(
      eb
        .selectFrom('prospects as p')
        .select('p.id')
        .whereRef('p.id', '=', 't.prospect_id')
        .where((p) => (ids ? p('p.status_id', 'in', ids) : p('p.status_id', 'is', null))),
    );
  const byCampaign = (ids?: string[]) =>
    eb.exists(
      eb
        .selectFrom('messages as m')
        .select('m.id')
        .whereRef('m.thread_id', '=', 't.id')
        .where((m) => (ids ? m('m.campaign_id', 'in', ids) : m('m.campaign_id', 'is not', null))),
    );
  const conditions = [
    VIEWS[query.inbox](eb),
    query.accountLinkIds?.length ? eb('t.account_link_id', 'in', query.accountLinkIds) : undefined,
    query.prospectIds?.length ? eb('t.prospect_id', 'in', query.prospectIds) : undefined,
    anyOrNone(eb, f.tags?.selectedIds, f.tags?.noTags, tagged, () => eb.not(tagged())),
    anyOrNone(eb, f.statuses?.selectedIds, f.statuses?.noStatus, statusIs, () => statusIs()),
    anyOrNone(eb, f.assignees?.selectedIds, f.assignees?.noAssignee, (ids) => eb('t.assignee_id', 'in', ids), () => eb('t.assignee_id', 'is', null)),
    anyOrNone(eb, f.campaigns?.selectedIds, f.campaigns?.noCampaign, byCampaign, () => eb.not(byCampaign())),
    query.unread === undefined ? undefined : eb('t.unread', '=', query.unread),
  ];
  return conditions.filter((c): c is Expression<SqlBool> => c !== undefined);
}

/**
 * One page of the inbox without search: walks threads_team_sort (team, sort_at, id) in order and checks the view
 * and filters on the way, so no page needs a scan of the team's threads.
 */
export function threadPageQuery(db: Db, teamId: string, query: ThreadListQuery, limit = query.limit) {
  const threads = db
    .selectFrom('threads as t')
    .selectAll('t')
    .where('t.team_id', '=', teamId)
    .where('t.deleted_at', 'is', null)
    .where((eb) => eb.and(filterConditions(eb, teamId, query)));
  const after = query.cursor && [query.cursor.timestamp, query.cursor.id];
  return keysetPage(threads, ['t.sort_at', 't.id'], query.filters?.sortOrder ?? 'desc', after, limit);
}

export const SEARCH_PLAN = {
  /** How many threads, in page order, a search checks one by one before it asks the indexes instead. */
  walk: 200,
  /** The most matching threads a search takes from the indexes as a list of ids before it walks the whole team. */
  candidates: 5000,
};

/**
 * One page of threads (limit + 1 rows, so the caller knows whether there is a next one). A search picks the
 * cheapest exact plan for how common its words are, measured by bench:search:
 * - a common word (a page's worth of matches among the next `walk` threads) is checked thread by thread;
 * - a rarer one takes the matching thread ids from the GIN indexes and pages through those only;
 * - a team where even that list is longer than `candidates` walks every thread, checking each.
 * All three answer the same rows; the planner cannot choose between them itself, as it cannot see how common a
 * prefix is.
 */
export async function listThreadRows(db: Db, teamId: string, query: ThreadListQuery, plan = SEARCH_PLAN): Promise<ThreadRow[]> {
  const pageSize = query.limit + 1;
  const text = query.q?.trim();
  if (!text) return threadPageQuery(db, teamId, query).execute();
  const direction = query.filters?.sortOrder ?? 'desc';
  const walked = await db
    .selectFrom(threadPageQuery(db, teamId, query, plan.walk).as('t'))
    .selectAll('t')
    .where((eb) => matchesSearch(eb, text))
    .orderBy('t.sort_at', direction)
    .orderBy('t.id', direction)
    .limit(pageSize)
    .execute();
  if (walked.length === pageSize) return walked;
  const candidates = await matchingThreadIds(db, teamId, text, plan.candidates);
  if (candidates.length === 0) return [];
  const page = threadPageQuery(db, teamId, query);
  return (candidates.length > plan.candidates ? page.where((eb) => matchesSearch(eb, text)) : page.where('t.id', 'in', candidates)).execute();
}

/** Unread threads per view, and within one view those assigned to the member, unassigned, and per account link. */
export interface UnreadCounts {
  views: Record<InboxView, number>;
  mine: number;
  unassigned: number;
  accounts: Record<string, number>;
}

/**
 * The unread counts the inbox's left pane shows, in one query over the team's unread threads only (the partial
 * index threads_team_unread, 0018), so its cost follows what is unread rather than the size of the inbox.
 */
export async function unreadCounts(db: Db, teamId: string, memberId: string, inbox: InboxView): Promise<UnreadCounts> {
  const rows = await db
    .selectFrom('threads as t')
    .where('t.team_id', '=', teamId)
    .where('t.deleted_at', 'is', null)
    .where('t.unread', '=', true)
    .groupBy('t.account_link_id')
    .select((eb) => {
      const count = (condition: Expression<SqlBool>) => eb.fn.countAll<string>().filterWhere(condition);
      const inView = VIEWS[inbox](eb);
      return [
        't.account_link_id',
        count(VIEWS.default(eb)).as('default'),
        count(VIEWS['no-reply'](eb)).as('no_reply'),
        count(VIEWS.requests(eb)).as('requests'),
        count(VIEWS.archived(eb)).as('archived'),
        count(inView).as('in_view'),
        count(eb.and([inView, eb('t.assignee_id', '=', memberId)])).as('mine'),
        count(eb.and([inView, eb('t.assignee_id', 'is', null)])).as('unassigned'),
      ];
    })
    .execute();
  const counts: UnreadCounts = { views: { default: 0, 'no-reply': 0, requests: 0, archived: 0 }, mine: 0, unassigned: 0, accounts: {} };
  for (const row of rows) {
    counts.views.default += Number(row.default);
    counts.views['no-reply'] += Number(row.no_reply);
    counts.views.requests += Number(row.requests);
    counts.views.archived += Number(row.archived);
    counts.mine += Number(row.mine);
    counts.unassigned += Number(row.unassigned);
    if (Number(row.in_view) > 0) counts.accounts[row.account_link_id] = Number(row.in_view);
  }
  return counts;
}

export async function updateThread(
  ctx: AppContext,
  teamId: string,
  threadId: string,
  input: { done?: boolean; assigneeId?: string | null; unread?: boolean },
): Promise<Thread> {
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    const before = await getThreadRow(trx, teamId, threadId, true);
    if (input.assigneeId) await assertMember(trx, teamId, input.assigneeId);
    const done = input.done ?? before.done;
    const assigneeId = input.assigneeId === undefined ? before.assignee_id : input.assigneeId;
    const row = await trx
      .updateTable('threads')
      // Read state has no event: the vendor has none, and it is each reader's business, not the conversation's.
      .set({ done, assignee_id: assigneeId, unread: input.unread ?? before.unread })
      .where('id', '=', threadId)
      .returningAll()
      .executeTakeFirstOrThrow();
    // Assignment lives on the prospect in the newest API; the thread keeps its own copy.
    const prospectChanged =
      assigneeId !== before.assignee_id && (await setProspectAssignee(trx, await getProspectRow(trx, teamId, row.prospect_id), assigneeId, now));
    const thread = await presentThread(trx, row, now);
    if (done !== before.done) await emitEvent(trx, teamId, done ? 'thread.archived' : 'thread.unarchived', { thread }, now);
    if (assigneeId !== before.assignee_id) {
      await emitEvent(trx, teamId, assigneeId ? 'thread.assigned' : 'thread.unassigned', { thread }, now);
    }
    if (prospectChanged) await emitEvent(trx, teamId, 'prospect.assigneeChanged', { prospect: thread.prospect }, now);
    return thread;
  });
}

/** Soft delete: the thread leaves the API and the inbox; its messages stay. */
export async function deleteThread(ctx: AppContext, teamId: string, threadId: string): Promise<void> {
  const now = ctx.clock.now();
  await ctx.db.transaction().execute(async (trx) => {
    const row = await getThreadRow(trx, teamId, threadId, true);
    const thread = await presentThread(trx, row, now);
    await trx.updateTable('threads').set({ deleted_at: now }).where('id', '=', threadId).execute();
    await emitEvent(trx, teamId, 'thread.deleted', { thread }, now);
  });
}

export type TypingResult = { status: 'sent' } | { status: 'skipped'; reason: 'unsupported' | 'typingDisabled' | 'outboundDisabled' | 'rateLimited' };

/**
 * Whether a thread can show typing at all, by the caller's rules: a skip to answer, null when it can, or an error
 * thrown (v2 refuses a platform without the capability).
 */
export type TypingRule = (thread: ThreadRow) => TypingResult | null;

/** API v1's rule, the vendor's v1: typing indicators exist only in X Chat threads. */
export const V1_TYPING_RULE: TypingRule = (thread) => (thread.variant === 'xChat' ? null : { status: 'skipped', reason: 'unsupported' });

/** At most one typing indicator a thread in this interval (the vendor's); more are skipped. */
const TYPING_INTERVAL_MS = 2500;

/**
 * Shows our account typing in a thread, if the rule allows it, the thread has not switched typing indicators off,
 * the account is active and no indicator went out in this thread in the last TYPING_INTERVAL_MS (one conditional
 * upsert decides, for every process). Never an error but the rule's.
 */
export async function sendTyping(ctx: AppContext, teamId: string, threadId: string, rule: TypingRule): Promise<TypingResult> {
  const row = await getThreadRow(ctx.db, teamId, threadId);
  const refused = rule(row);
  if (refused) return refused;
  if (row.typing_indicators_enabled === false) return { status: 'skipped', reason: 'typingDisabled' };
  if ((await getAccountLinkRow(ctx.db, teamId, row.account_link_id)).status !== 'active') return { status: 'skipped', reason: 'outboundDisabled' };
  const now = ctx.clock.now();
  const claimed = await ctx.db
    .insertInto('thread_typing')
    .values({ thread_id: row.id, sent_at: now })
    .onConflict((oc) => oc.column('thread_id').doUpdateSet({ sent_at: now }).where('thread_typing.sent_at', '<=', new Date(now.getTime() - TYPING_INTERVAL_MS)))
    .returning('thread_id')
    .executeTakeFirst();
  return claimed ? { status: 'sent' } : { status: 'skipped', reason: 'rateLimited' };
}

export async function updateThreadSettings(
  ctx: AppContext,
  teamId: string,
  threadId: string,
  input: { typingIndicatorsEnabled?: boolean | null },
): Promise<{ threadId: string; typingIndicatorsEnabled: boolean | null }> {
  const row = await getThreadRow(ctx.db, teamId, threadId);
  const enabled = input.typingIndicatorsEnabled === undefined ? row.typing_indicators_enabled : input.typingIndicatorsEnabled;
  await ctx.db.updateTable('threads').set({ typing_indicators_enabled: enabled }).where('id', '=', threadId).execute();
  return { threadId, typingIndicatorsEnabled: enabled };
}
