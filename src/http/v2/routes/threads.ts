import { z } from 'zod';
import { getAccountLinkRow, listAccountLinks, presentAccountLink } from '../../../app/account-links.js';
import { threadRecords } from '../../../app/contacts.js';
import type { AppContext } from '../../../app/context.js';
import { findLabelsByRefs, STATUS, TAG, type LabelKind } from '../../../app/labels.js';
import { getMember, listMembers, type Member } from '../../../app/members.js';
import { getMessageRow, listMessageRows } from '../../../app/messages.js';
import { deleteThread, getThreadRow, listThreadRows, updateThread, updateThreadSettings, type ThreadFolder, type ThreadListQuery } from '../../../app/threads.js';
import type { MessageRow, ThreadRow } from '../../../store/schema.js';
import { isAnyOf } from '../../../store/db.js';
import { IdSchema } from '../../schemas/common.js';
import type { Api } from '../../api.js';
import { decodeCursor, fingerprint, pageFrom } from '../cursors.js';
import { asBadReference, invalidRequest } from '../errors.js';
import { expanded, loadExpansions } from '../expand.js';
import { expandOf, pageQuery, queryBoolean, repeated } from '../query.js';
import { v2AccountLink, v2Message, v2Thread, type Expansions } from '../presenters.js';
import { errorResponses, MessagePageSchema, MessageSchema, PlatformName, ThreadDeletionSchema, ThreadPageSchema, ThreadSchema, ThreadUpdateBody } from '../schemas.js';
import { assertPlatformsAvailable } from './platforms.js';

const FOLDERS: Record<string, ThreadFolder> = { inbox: 'default', noReply: 'inbound-last', requests: 'requests', archived: 'archived', all: 'all' };
const ThreadExpand = expandOf(['profile', 'contact', 'accountLink', 'assignee'] as const);
const THREAD_EXPANSIONS = { accountLinks: ['accountLink'], members: ['assignee'] };
const MessageExpand = expandOf(['sentBy', 'reactions.author', 'thread', 'accountLink', 'replyTo.message'] as const);
const ThreadParams = z.object({ threadId: IdSchema });

/** Threads as v2 shows them, with what their presentation and the asked-for expansions need, read per page. */
async function presentV2Threads(ctx: AppContext, teamId: string, rows: ThreadRow[], expand: ReadonlySet<string>) {
  const [records, known] = await Promise.all([threadRecords(ctx.db, teamId, rows), loadExpansions(ctx, teamId, expand, THREAD_EXPANSIONS)]);
  return rows.map((row) => v2Thread(row, records, expand, known));
}

/** Label references of a filter as ids; unknown ones match nothing (the list documents no 404). */
async function labelIds(ctx: AppContext, kind: LabelKind, teamId: string, refs: readonly string[] | undefined): Promise<string[] | undefined> {
  if (!refs) return undefined;
  const found = await findLabelsByRefs(ctx, kind, teamId, refs);
  return [...new Set(found.flatMap((label) => (label ? [label.id] : [])))];
}

export function threadsV2Routes(api: Api, ctx: AppContext): void {
  const ThreadQuery = z
    .object({
      accountLinkId: repeated(IdSchema).optional(),
      platform: repeated(PlatformName).optional(),
      contactId: repeated(IdSchema).optional(),
      folder: z.enum(['inbox', 'noReply', 'requests', 'archived', 'all']).default('inbox'),
      unread: queryBoolean.optional(),
      tag: repeated(z.string().min(1).max(255)).optional(),
      status: repeated(z.string().min(1).max(255)).optional(),
      assigneeId: repeated(IdSchema).optional(),
      unassigned: queryBoolean.optional(),
      campaignId: repeated(IdSchema).optional(),
      q: z.string().min(1).max(200).optional(),
      order: z.enum(['desc', 'asc']).default('desc'),
      expand: ThreadExpand,
      ...pageQuery,
    })
    .strict();
  api.get(
    '/threads',
    { schema: { tags: ['Threads'], summary: 'Threads in inbox order, by folder and by contact CRM state', querystring: ThreadQuery, response: { 200: ThreadPageSchema, ...errorResponses } } },
    async (req) => {
      const { teamId } = req.actor;
      const { expand: expandPaths, limit, cursor, ...filters } = req.query;
      if (filters.unassigned && filters.assigneeId) throw invalidRequest([{ path: ['unassigned'], message: 'cannot be combined with assigneeId' }]);
      assertPlatformsAvailable(filters.platform);
      const scope = fingerprint(teamId, 'threads', { ...filters, q: filters.q?.trim() });
      const after = cursor === undefined ? undefined : decodeCursor(cursor, scope);
      const [tagIds, statusIds] = await Promise.all([labelIds(ctx, TAG, teamId, filters.tag), labelIds(ctx, STATUS, teamId, filters.status)]);
      let accountLinkIds = filters.accountLinkId;
      if (filters.platform) {
        const onPlatforms = (await listAccountLinks(ctx, teamId)).filter((l) => filters.platform!.includes(l.platform)).map((l) => l.id);
        accountLinkIds = accountLinkIds ? accountLinkIds.filter((id) => onPlatforms.includes(id)) : onPlatforms;
      }
      // A filter that can match nothing (no such tag, no account on that platform) is an empty page.
      if (tagIds?.length === 0 || statusIds?.length === 0 || accountLinkIds?.length === 0) return { data: [], nextCursor: null };
      const query: ThreadListQuery = {
        inbox: FOLDERS[filters.folder]!,
        accountLinkIds,
        prospectIds: filters.contactId,
        filters: {
          tags: { selectedIds: tagIds },
          statuses: { selectedIds: statusIds },
          assignees: { selectedIds: filters.assigneeId, noAssignee: filters.unassigned || undefined },
          campaigns: { selectedIds: filters.campaignId },
          sortOrder: filters.order,
        },
        unread: filters.unread,
        q: filters.q,
        cursor: after && { id: after.id, timestamp: after.at },
        limit,
      };
      const rows = await listThreadRows(ctx.db, teamId, query);
      const { page, nextCursor } = pageFrom(rows, (t) => ({ at: t.sort_at, id: t.id }), limit, scope);
      return { data: await presentV2Threads(ctx, teamId, page, expanded(expandPaths)), nextCursor };
    },
  );

  api.get(
    '/threads/:threadId',
    { schema: { tags: ['Threads'], summary: 'A thread', params: ThreadParams, querystring: z.object({ expand: ThreadExpand }).strict(), response: { 200: ThreadSchema, ...errorResponses } } },
    async (req) => {
      const row = await getThreadRow(ctx.db, req.actor.teamId, req.params.threadId);
      return (await presentV2Threads(ctx, req.actor.teamId, [row], expanded(req.query.expand)))[0]!;
    },
  );

  api.patch(
    '/threads/:threadId',
    { schema: { tags: ['Threads'], summary: 'Archive, mark unread, assign a thread, or set its typing indicators', params: ThreadParams, body: ThreadUpdateBody, response: { 200: ThreadSchema, ...errorResponses } } },
    async (req) => {
      const { teamId } = req.actor;
      const { archived, unread, assigneeId, typingIndicators } = req.body;
      await getThreadRow(ctx.db, teamId, req.params.threadId);
      if (assigneeId) await getMember(ctx.db, teamId, assigneeId).catch(asBadReference('assigneeId'));
      if (archived !== undefined || unread !== undefined || assigneeId !== undefined) await updateThread(ctx, teamId, req.params.threadId, { done: archived, unread, assigneeId });
      if (typingIndicators !== undefined) {
        await updateThreadSettings(ctx, teamId, req.params.threadId, { typingIndicatorsEnabled: typingIndicators === 'teamDefault' ? null : typingIndicators === 'enabled' });
      }
      const row = await getThreadRow(ctx.db, teamId, req.params.threadId);
      return (await presentV2Threads(ctx, teamId, [row], new Set()))[0]!;
    },
  );

  api.delete(
    '/threads/:threadId',
    { schema: { tags: ['Threads'], summary: 'Delete a thread (here; its messages are kept)', params: ThreadParams, response: { 200: ThreadDeletionSchema, ...errorResponses } } },
    async (req) => {
      await deleteThread(ctx, req.actor.teamId, req.params.threadId);
      return { scope: 'local' as const };
    },
  );

  const MessageQuery = z.object({ order: z.enum(['desc', 'asc']).default('desc'), expand: MessageExpand, ...pageQuery }).strict();
  api.get(
    '/threads/:threadId/messages',
    { schema: { tags: ['Messages'], summary: "A thread's messages by creation, newest first unless order is asc", params: ThreadParams, querystring: MessageQuery, response: { 200: MessagePageSchema, ...errorResponses } } },
    async (req) => {
      const { teamId } = req.actor;
      const { order, limit, cursor } = req.query;
      const scope = fingerprint(teamId, `threads/${req.params.threadId}/messages`, { order });
      const after = cursor === undefined ? undefined : decodeCursor(cursor, scope);
      const { thread, rows } = await listMessageRows(ctx, teamId, req.params.threadId, { order, limit, cursor: after && { id: after.id, timestamp: after.at } });
      const { page, nextCursor } = pageFrom(rows, (m) => ({ at: m.created_at, id: m.id }), limit, scope);
      return { data: await presentV2Messages(ctx, teamId, thread, page, expanded(req.query.expand)), nextCursor };
    },
  );

  api.get(
    '/messages/:messageId',
    { schema: { tags: ['Messages'], summary: 'A message', params: z.object({ messageId: IdSchema }), querystring: z.object({ expand: MessageExpand }).strict(), response: { 200: MessageSchema, ...errorResponses } } },
    async (req) => {
      const { message, thread } = await getMessageRow(ctx, req.actor.teamId, req.params.messageId);
      return (await presentV2Messages(ctx, req.actor.teamId, thread, [message], expanded(req.query.expand)))[0]!;
    },
  );
}

/** Messages of one thread as v2 shows them: their thread's contact and account, the members who sent them. */
export async function presentV2Messages(ctx: AppContext, teamId: string, thread: ThreadRow, rows: MessageRow[], expand: ReadonlySet<string>) {
  const replyIds = rows.flatMap((m) => (m.reply_to_message_id ? [m.reply_to_message_id] : []));
  const [records, account, members, replied] = await Promise.all([
    threadRecords(ctx.db, teamId, [thread]),
    getAccountLinkRow(ctx.db, teamId, thread.account_link_id),
    listMembers(ctx.db, teamId),
    replyIds.length === 0 ? [] : ctx.db.selectFrom('messages').selectAll().where('thread_id', '=', thread.id).where(isAnyOf('id', replyIds)).execute(),
  ]);
  const memberOfUser = new Map<string, Member>(members.map((m) => [m.userId, m]));
  const link = presentAccountLink(account);
  const known: Expansions = { accountLinks: new Map([[link.id, link]]), members: new Map(members.map((m) => [m.id, m])) };
  const embedded = {
    thread: expand.has('thread') ? v2Thread(thread, records, new Set(), known) : undefined,
    accountLink: expand.has('accountLink') ? v2AccountLink(link) : undefined,
  };
  const context = { thread, contact: records.contacts.get(thread.prospect_id)!, accountPlatformId: account.platform_id, memberOfUser, replied: new Map(replied.map((m) => [m.id, m])) };
  return rows.map((row) => v2Message(row, context, expand, embedded));
}
