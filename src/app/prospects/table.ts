import { sql, type Expression, type ExpressionBuilder, type RawBuilder, type SqlBool } from 'kysely';
import { validationError } from '../../core/errors.js';
import type { Db } from '../../store/db.js';
import type { Database, ProspectsTable } from '../../store/schema.js';
import { getCampaignRow } from '../campaigns/data.js';
import type { AppContext } from '../context.js';
import { getListRow, systemListMembers } from '../lists/lists.js';
import { presentProspectRows, type ProspectWithContext } from '../inbox/presenters.js';
import { keysetPage } from '../../store/keyset.js';

/**
 * The prospects table (our extension, GET /prospects): the team's prospects filtered by tags, status,
 * assignee, list and campaign, sorted by one column and paged by an opaque keyset cursor over
 * (sort value, id), so a page costs the same however deep it is.
 */
export const PROSPECT_SORTS = ['createdAt', 'displayName', 'username', 'valuation', 'followerCount', 'updatedAt'] as const;
export type ProspectSort = (typeof PROSPECT_SORTS)[number];

export interface ProspectTableQuery {
  tagIds?: string[];
  statusIds?: string[];
  noStatus?: boolean;
  assigneeIds?: string[];
  noAssignee?: boolean;
  listId?: string;
  campaignId?: string;
  /** text found in the name or the username */
  q?: string;
  sort: ProspectSort;
  order: 'asc' | 'desc';
  limit: number;
  cursor?: string;
}

export interface ProspectTablePage {
  prospects: ProspectWithContext[];
  /** every prospect the filters match, over all pages */
  total: number;
  nextCursor: string | null;
}

type Eb = ExpressionBuilder<Database & { p: ProspectsTable }, 'p'>;

/** The sort column as an expression; nulls (valuation) sort as the lowest value, so the keyset never meets a null. */
const SORT_EXPRESSIONS: Record<ProspectSort, RawBuilder<unknown>> = {
  createdAt: sql`p.created_at`,
  updatedAt: sql`p.updated_at`,
  displayName: sql`lower(p.display_name)`,
  username: sql`lower(p.username)`,
  valuation: sql`coalesce(p.valuation, -1e30)`,
  followerCount: sql`p.follower_count`,
};

const isTimestampSort = (sort: ProspectSort) => sort === 'createdAt' || sort === 'updatedAt';

function encodeCursor(value: unknown, id: string): string {
  return Buffer.from(JSON.stringify([value instanceof Date ? value.toISOString() : value, id])).toString('base64url');
}

function decodeCursor(cursor: string, sort: ProspectSort): { value: unknown; id: string } {
  try {
    const [value, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    const valueOk = isTimestampSort(sort) ? typeof value === 'string' && !Number.isNaN(Date.parse(value)) : typeof value === (sort === 'displayName' || sort === 'username' ? 'string' : 'number');
    if (valueOk && typeof id === 'string') return { value: isTimestampSort(sort) ? new Date(value as string) : value, id };
  } catch {
    // reported below
  }
  throw validationError('The cursor is not one this sort gave out', [{ field: 'querystring.cursor', message: 'give back nextCursor unchanged, with the same sort' }]);
}

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

function conditions(db: Db, eb: Eb, teamId: string, query: ProspectTableQuery, systemList: 'contacted' | 'mutual' | null): Expression<SqlBool>[] {
  const parts: Array<Expression<SqlBool> | undefined> = [eb('p.team_id', '=', teamId)];
  if (query.tagIds?.length) {
    parts.push(eb.exists(eb.selectFrom('prospect_tags as pt').select('pt.tag_id').whereRef('pt.prospect_id', '=', 'p.id').where('pt.tag_id', 'in', query.tagIds)));
  }
  const anyOrNone = (column: 'p.status_id' | 'p.assignee_id', ids: string[] | undefined, none: boolean | undefined) => {
    const either = [...(ids?.length ? [eb(column, 'in', ids)] : []), ...(none ? [eb(column, 'is', null)] : [])];
    return either.length ? eb.or(either) : undefined;
  };
  parts.push(anyOrNone('p.status_id', query.statusIds, query.noStatus), anyOrNone('p.assignee_id', query.assigneeIds, query.noAssignee));
  if (query.listId) {
    parts.push(
      systemList
        ? eb('p.id', 'in', db.selectFrom(systemListMembers(db, teamId, systemList).as('m')).select('m.prospect_id'))
        : eb.exists(eb.selectFrom('list_leads as l').select('l.prospect_id').whereRef('l.prospect_id', '=', 'p.id').where('l.list_id', '=', query.listId)),
    );
  }
  if (query.campaignId) {
    parts.push(eb.exists(eb.selectFrom('campaign_leads as c').select('c.prospect_id').whereRef('c.prospect_id', '=', 'p.id').where('c.campaign_id', '=', query.campaignId)));
  }
  const q = query.q?.trim().toLowerCase();
  if (q) {
    const pattern = `%${escapeLike(q)}%`;
    parts.push(eb.or([eb(sql`lower(p.display_name)`, 'like', pattern), eb(sql`lower(p.username)`, 'like', pattern)]));
  }
  return parts.filter((c): c is Expression<SqlBool> => c !== undefined);
}

export async function listProspectTable(ctx: AppContext, teamId: string, query: ProspectTableQuery): Promise<ProspectTablePage> {
  const db = ctx.db;
  const systemList = query.listId ? (await getListRow(db, teamId, query.listId)).system_type : null;
  if (query.campaignId) await getCampaignRow(db, teamId, query.campaignId);
  const after = query.cursor ? decodeCursor(query.cursor, query.sort) : undefined;
  const sortBy = SORT_EXPRESSIONS[query.sort];
  const base = db.selectFrom('prospects as p').where((eb) => eb.and(conditions(db, eb, teamId, query, systemList)));
  const page = keysetPage(base.selectAll('p').select(sortBy.as('sort_value')), [sortBy, 'p.id'], query.order, after && [after.value, after.id], query.limit);
  const [rows, count] = await Promise.all([page.execute(), base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()]);
  const shown = rows.slice(0, query.limit);
  const presented = await presentProspectRows(db, shown, ctx.clock.now());
  const last = shown.at(-1);
  return {
    prospects: shown.map((row) => presented.get(row.id)!),
    total: Number(count.n),
    nextCursor: rows.length > query.limit && last ? encodeCursor(last.sort_value, last.id) : null,
  };
}
