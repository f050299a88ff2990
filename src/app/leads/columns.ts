import { sql } from 'kysely';
import { conflict, validationError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { variablesUsed } from '../../core/sequence.js';
import { iso, isoOrNull } from '../../core/time.js';
import type { Db } from '../../store/db.js';
import type { ColumnDataType } from '../../store/schema-campaigns.js';
import { currentSequence, getCampaignRow } from '../campaigns/data.js';
import type { AppContext } from '../context.js';
import { rowOr404 } from '../rows.js';

/**
 * Custom columns: per-lead fields of a campaign or of a list (spec 4.14). Both owners share this module;
 * they differ in their table, how the owner is found in the team and what keeps a column from being deleted.
 */
export interface ColumnOwner {
  table: 'campaign_columns' | 'list_columns';
  ownerKey: 'campaign_id' | 'list_id';
  /** where the owner's leads keep their column values, keyed by column id */
  leadsTable: 'campaign_leads' | 'list_leads';
  /** throws the owner's 404 unless it is one of the team's; locks it until the transaction ends */
  assertOwner(db: Db, teamId: string, ownerId: string): Promise<void>;
  /** why deleting the column would leave a dangling reference, or null when it may go */
  deleteRefusal(db: Db, teamId: string, ownerId: string, columnId: string): Promise<string | null>;
}

export const CAMPAIGN_COLUMNS: ColumnOwner = {
  table: 'campaign_columns',
  ownerKey: 'campaign_id',
  leadsTable: 'campaign_leads',
  async assertOwner(db, teamId, campaignId) {
    await getCampaignRow(db, teamId, campaignId, true);
  },
  async deleteRefusal(db, teamId, campaignId, columnId) {
    const campaign = await getCampaignRow(db, teamId, campaignId);
    if (variablesUsed((await currentSequence(db, campaign)).steps).has(columnId)) {
      return `column '${columnId}' is used by the campaign's sequence: remove it from the sequence first`;
    }
    const mappings = await db.selectFrom('campaign_list_rules').select('column_mapping').where('campaign_id', '=', campaignId).execute();
    if (mappings.some((m) => Object.values(m.column_mapping).includes(columnId))) {
      return `column '${columnId}' receives values from a list column mapping: change the lead rules first`;
    }
    return null;
  },
};

export const LIST_COLUMNS: ColumnOwner = {
  table: 'list_columns',
  ownerKey: 'list_id',
  leadsTable: 'list_leads',
  async assertOwner(db, teamId, listId) {
    await rowOr404(db.selectFrom('lists').select('id').where('team_id', '=', teamId).where('id', '=', listId).forUpdate(), 'LIST_NOT_FOUND', 'List', listId);
  },
  async deleteRefusal(db, _teamId, listId, columnId) {
    const mapped = await db
      .selectFrom('campaign_list_rules')
      .select('campaign_id')
      .where('list_id', '=', listId)
      .where(sql<boolean>`column_mapping -> ${columnId} is not null`)
      .executeTakeFirst();
    return mapped ? `column '${columnId}' is mapped into campaign '${mapped.campaign_id}': change its lead rules first` : null;
  },
};

export interface Column {
  id: string;
  name: string;
  type: ColumnDataType;
  description: string | null;
  createdAt: string;
  updatedAt: string | null;
}

export interface ColumnInput {
  name: string;
  type?: ColumnDataType;
  description?: string | null;
}

/** Enough for any sequence or import mapping; keeps a runaway client from growing every lead's data. */
export const MAX_COLUMNS = 100;

interface ColumnRow {
  id: string;
  name: string;
  type: ColumnDataType;
  description: string | null;
  created_at: Date;
  updated_at: Date | null;
}

const present = (row: ColumnRow): Column => ({
  id: row.id,
  name: row.name,
  type: row.type,
  description: row.description,
  createdAt: iso(row.created_at),
  updatedAt: isoOrNull(row.updated_at),
});

export const newColumnId = () => `custom_${newId()}`;

function nameOf(name: string): string {
  const trimmed = name.trim();
  if (trimmed === '') throw validationError('Name must not be blank', [{ field: 'name', message: 'must not be blank' }]);
  return trimmed;
}

const columnsOf = (db: Db, owner: ColumnOwner, ownerId: string) =>
  db.selectFrom(owner.table).selectAll().where(owner.ownerKey, '=', ownerId);

async function assertNameFree(db: Db, owner: ColumnOwner, ownerId: string, name: string, exceptId?: string) {
  const same = (await columnsOf(db, owner, ownerId).execute()).find(
    (c) => c.id !== exceptId && c.name.toLowerCase() === name.toLowerCase(),
  );
  if (same) throw conflict(`A column named '${same.name}' already exists`);
}

async function getColumnRow(db: Db, owner: ColumnOwner, ownerId: string, columnId: string): Promise<ColumnRow> {
  return rowOr404(columnsOf(db, owner, ownerId).where('id', '=', columnId), 'COLUMN_NOT_FOUND', 'Column', columnId);
}

/** The ids of an owner's columns: what a sequence variable or a column mapping may name. */
export async function columnIds(db: Db, owner: ColumnOwner, ownerId: string): Promise<string[]> {
  return (await db.selectFrom(owner.table).select('id').where(owner.ownerKey, '=', ownerId).execute()).map((c) => c.id);
}

/** The columns of each owner, oldest first. */
export async function columnsByOwner(db: Db, owner: ColumnOwner, ownerIds: readonly string[]): Promise<Map<string, Column[]>> {
  const byOwner = new Map(ownerIds.map((id) => [id, [] as Column[]]));
  if (ownerIds.length === 0) return byOwner;
  const rows = await db
    .selectFrom(owner.table)
    .selectAll()
    .where(owner.ownerKey, 'in', ownerIds)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  for (const row of rows) byOwner.get((row as Record<string, unknown>)[owner.ownerKey] as string)!.push(present(row));
  return byOwner;
}

export async function listColumns(ctx: AppContext, owner: ColumnOwner, teamId: string, ownerId: string): Promise<Column[]> {
  await owner.assertOwner(ctx.db, teamId, ownerId);
  return (await columnsByOwner(ctx.db, owner, [ownerId])).get(ownerId)!;
}

export async function createColumn(
  ctx: AppContext,
  owner: ColumnOwner,
  teamId: string,
  ownerId: string,
  input: ColumnInput,
): Promise<Column> {
  const name = nameOf(input.name);
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    await owner.assertOwner(trx, teamId, ownerId);
    if ((await columnIds(trx, owner, ownerId)).length >= MAX_COLUMNS) {
      throw conflict(`No more than ${MAX_COLUMNS} columns are allowed`);
    }
    await assertNameFree(trx, owner, ownerId, name);
    const values = { id: newColumnId(), name, type: input.type ?? 'text', description: input.description ?? null, created_at: now };
    const row = await trx
      .insertInto(owner.table)
      // The owner key differs per table; everything else is common to both.
      .values({ ...values, [owner.ownerKey]: ownerId } as typeof values & { campaign_id: string; list_id: string })
      .returningAll()
      .executeTakeFirstOrThrow();
    return present(row);
  });
}

export async function updateColumn(
  ctx: AppContext,
  owner: ColumnOwner,
  teamId: string,
  ownerId: string,
  columnId: string,
  input: Partial<Omit<ColumnInput, 'type'>>,
): Promise<Column> {
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    await owner.assertOwner(trx, teamId, ownerId);
    const current = await getColumnRow(trx, owner, ownerId, columnId);
    const name = input.name === undefined ? current.name : nameOf(input.name);
    if (name !== current.name) await assertNameFree(trx, owner, ownerId, name, columnId);
    const row = await trx
      .updateTable(owner.table)
      .set({ name, description: input.description === undefined ? current.description : input.description, updated_at: now })
      .where('id', '=', columnId)
      .returningAll()
      .executeTakeFirstOrThrow();
    return present(row);
  });
}

export async function deleteColumn(ctx: AppContext, owner: ColumnOwner, teamId: string, ownerId: string, columnId: string): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    await owner.assertOwner(trx, teamId, ownerId);
    await getColumnRow(trx, owner, ownerId, columnId);
    const refusal = await owner.deleteRefusal(trx, teamId, ownerId, columnId);
    if (refusal) throw conflict(`Column cannot be deleted: ${refusal}`);
    await trx.deleteFrom(owner.table).where('id', '=', columnId).execute();
    // The leads' values for the column go with it, in one statement.
    await trx
      .updateTable(owner.leadsTable)
      .set({ data: sql`data - ${columnId}::text` })
      .where(owner.ownerKey, '=', ownerId)
      .where(sql<boolean>`data -> ${columnId} is not null`)
      .execute();
  });
}
