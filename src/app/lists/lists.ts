import { sql } from 'kysely';
import { conflict, validationError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { iso, isoOrNull } from '../../core/time.js';
import type { Db } from '../../store/db.js';
import type { ListRow } from '../../store/schema-campaigns.js';
import { createColumn, LIST_COLUMNS, type Column, type ColumnInput } from '../leads/columns.js';
import type { AppContext } from '../context.js';
import { rowOr404 } from '../rows.js';

/**
 * Lists: saved collections of leads that feed campaigns. Each team also has two system lists whose
 * members are derived from its threads, never stored: Contacted (we sent a DM) and Mutual (DMs went
 * both ways). They are rows all the same, so they have ids and names.
 */
export type SystemType = 'contacted' | 'mutual';

export interface List {
  id: string;
  name: string;
  description: string | null;
  leadsCount: number;
  systemType: SystemType | null;
  createdAt: string;
  updatedAt: string | null;
}

export interface ListInput {
  name?: string;
  description?: string | null;
}

const SYSTEM_LISTS: ReadonlyArray<{ type: SystemType; name: string; description: string }> = [
  { type: 'contacted', name: 'Contacted', description: 'Everyone a linked account has sent a DM to (kept up to date automatically)' },
  { type: 'mutual', name: 'Mutual', description: 'Everyone with messages in both directions (kept up to date automatically)' },
];

/** Creates the team's system lists unless they exist; the unique index makes concurrent calls safe. */
export async function ensureSystemLists(db: Db, teamId: string, now: Date): Promise<void> {
  const existing = await db.selectFrom('lists').select('id').where('team_id', '=', teamId).where('system_type', 'is not', null).execute();
  if (existing.length === SYSTEM_LISTS.length) return;
  await db
    .insertInto('lists')
    .values(SYSTEM_LISTS.map((s) => ({ id: newId(), team_id: teamId, name: s.name, description: s.description, system_type: s.type, created_at: now })))
    .onConflict((oc) => oc.columns(['team_id', 'system_type']).where('system_type', 'is not', null).doNothing())
    .execute();
}

/**
 * The members of a system list: one row per prospect with a live thread that qualifies, added when
 * the earliest such thread was created.
 */
export function systemListMembers(db: Db, teamId: string, type: SystemType) {
  let query = db
    .selectFrom('threads')
    .select((eb) => ['prospect_id', eb.fn.min('created_at').as('added_at')])
    .where('team_id', '=', teamId)
    .where('deleted_at', 'is', null)
    .where('has_outbound', '=', true);
  if (type === 'mutual') query = query.where('has_inbound', '=', true);
  return query.groupBy('prospect_id');
}

async function leadCounts(db: Db, teamId: string, rows: readonly ListRow[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const userLists = rows.filter((r) => !r.system_type).map((r) => r.id);
  if (userLists.length > 0) {
    const stored = await db
      .selectFrom('list_leads')
      .select((eb) => ['list_id', eb.fn.countAll<number>().as('n')])
      .where('list_id', 'in', userLists)
      .groupBy('list_id')
      .execute();
    for (const r of stored) counts.set(r.list_id, Number(r.n));
  }
  for (const row of rows.filter((r) => r.system_type)) {
    const { n } = await db
      .selectFrom(systemListMembers(db, teamId, row.system_type!).as('m'))
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    counts.set(row.id, Number(n));
  }
  return counts;
}

async function present(db: Db, teamId: string, rows: readonly ListRow[]): Promise<List[]> {
  const counts = await leadCounts(db, teamId, rows);
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    description: r.description,
    leadsCount: counts.get(r.id) ?? 0,
    systemType: r.system_type,
    createdAt: iso(r.created_at),
    updatedAt: isoOrNull(r.updated_at),
  }));
}

/** The team's list, or 404 LIST_NOT_FOUND. `forUpdate` locks it until the transaction ends. */
export async function getListRow(db: Db, teamId: string, listId: string, forUpdate = false): Promise<ListRow> {
  let query = db.selectFrom('lists').selectAll().where('team_id', '=', teamId).where('id', '=', listId);
  if (forUpdate) query = query.forUpdate();
  return rowOr404(query, 'LIST_NOT_FOUND', 'List', listId);
}

/** A list whose members are stored, so they may be changed: system lists refuse with 409. */
export async function getUserListRow(db: Db, teamId: string, listId: string, forUpdate = false): Promise<ListRow> {
  const row = await getListRow(db, teamId, listId, forUpdate);
  if (row.system_type) {
    throw conflict(`'${row.name}' is a system list: its members follow the team's conversations and it cannot be changed by hand`);
  }
  return row;
}

function nameOf(name: string): string {
  const trimmed = name.trim();
  if (trimmed === '') throw validationError('Name must not be blank', [{ field: 'name', message: 'must not be blank' }]);
  return trimmed;
}

/** The team's lists: the system lists first, then the others oldest first. */
export async function listLists(ctx: AppContext, teamId: string): Promise<List[]> {
  await ensureSystemLists(ctx.db, teamId, ctx.clock.now());
  const rows = await ctx.db
    .selectFrom('lists')
    .selectAll()
    .where('team_id', '=', teamId)
    .orderBy(sql`system_type is null`)
    .orderBy('system_type')
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return present(ctx.db, teamId, rows);
}

export async function getList(ctx: AppContext, teamId: string, listId: string): Promise<List> {
  return (await present(ctx.db, teamId, [await getListRow(ctx.db, teamId, listId)]))[0]!;
}

export async function createList(ctx: AppContext, teamId: string, input: { name: string; description?: string | null }): Promise<List> {
  const now = ctx.clock.now();
  const name = nameOf(input.name);
  await ensureSystemLists(ctx.db, teamId, now);
  const row = await ctx.db
    .insertInto('lists')
    .values({ id: newId(), team_id: teamId, name, description: input.description ?? null, system_type: null, created_at: now })
    .returningAll()
    .executeTakeFirstOrThrow();
  return (await present(ctx.db, teamId, [row]))[0]!;
}

export async function updateList(ctx: AppContext, teamId: string, listId: string, input: ListInput): Promise<List> {
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    const current = await getUserListRow(trx, teamId, listId, true);
    const row = await trx
      .updateTable('lists')
      .set({
        name: input.name === undefined ? current.name : nameOf(input.name),
        description: input.description === undefined ? current.description : input.description,
        updated_at: now,
      })
      .where('id', '=', listId)
      .returningAll()
      .executeTakeFirstOrThrow();
    return (await present(trx, teamId, [row]))[0]!;
  });
}

/**
 * Deletes a user list with its leads and columns. A list a campaign syncs or excludes stays until the
 * campaign's rules stop naming it; imports into it are canceled.
 */
export async function deleteList(ctx: AppContext, teamId: string, listId: string): Promise<void> {
  const now = ctx.clock.now();
  await ctx.db.transaction().execute(async (trx) => {
    // Jobs before the list: a running import locks its job, then the list, in that order too.
    await trx
      .updateTable('jobs')
      .set({ status: 'canceled', completed_at: now, locked_until: null })
      .where('subject_id', '=', listId)
      .where('team_id', '=', teamId)
      .where('status', 'in', ['queued', 'running'])
      .execute();
    const list = await getUserListRow(trx, teamId, listId, true);
    const rule = await trx
      .selectFrom('campaign_list_rules as r')
      .innerJoin('campaigns as c', 'c.id', 'r.campaign_id')
      .select(['c.name', 'r.kind'])
      .where('r.list_id', '=', listId)
      .executeTakeFirst();
    if (rule) {
      throw conflict(`List '${list.name}' is ${rule.kind} by campaign '${rule.name}': change the campaign's lead rules first`);
    }
    await trx.deleteFrom('lists').where('id', '=', listId).execute();
  });
}

/** Creates a column on a user list; system lists have no stored leads to hold values. */
export async function createListColumn(ctx: AppContext, teamId: string, listId: string, input: ColumnInput): Promise<Column> {
  await getUserListRow(ctx.db, teamId, listId);
  return createColumn(ctx, LIST_COLUMNS, teamId, listId, input);
}
