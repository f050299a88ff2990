import { DEFAULT_COLOR_HEX, resolveColor } from '../../core/colors.js';
import { NameTakenError, notFound, validationError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { iso } from '../../core/time.js';
import type { Db } from '../../store/db.js';
import type { LabelRow } from '../../store/schema.js';
import type { AppContext } from '../context.js';
import { emitEvent } from '../events/events.js';
import { rowOr404 } from '../rows.js';

/**
 * Tags and statuses are both team-scoped, uniquely named, colored labels on prospects; they differ in
 * their table, their events and whether a color is mandatory (the Tag schema has no null color).
 */
export interface LabelKind {
  table: 'tags' | 'statuses';
  noun: 'Tag' | 'Status';
  notFoundCode: 'TAG_NOT_FOUND' | 'STATUS_NOT_FOUND';
  event: 'tag' | 'status';
  colorRequired: boolean;
}

export const TAG: LabelKind = { table: 'tags', noun: 'Tag', notFoundCode: 'TAG_NOT_FOUND', event: 'tag', colorRequired: true };
export const STATUS: LabelKind = {
  table: 'statuses',
  noun: 'Status',
  notFoundCode: 'STATUS_NOT_FOUND',
  event: 'status',
  colorRequired: false,
};

export interface LabelInput {
  name?: string;
  color?: string | null;
}

export interface Label {
  id: string;
  name: string;
  color: string | null;
  createdAt: string;
}

const present = (row: LabelRow): Label => ({ id: row.id, name: row.name, color: row.color, createdAt: iso(row.created_at) });

function colorOf(kind: LabelKind, color: string | null | undefined): string | null {
  if (color === undefined || color === null) return kind.colorRequired ? DEFAULT_COLOR_HEX : null;
  const hex = resolveColor(color);
  if (!hex) {
    throw validationError(`Unknown color '${color}': use a palette name from GET /colors or a hex code like #3b82f6`, [
      { field: 'color', message: 'must be a color name or hex code' },
    ]);
  }
  return hex;
}

function nameOf(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0) throw validationError('Name must not be blank', [{ field: 'name', message: 'must not be blank' }]);
  return trimmed;
}

async function assertNameFree(db: Db, kind: LabelKind, teamId: string, name: string, exceptId?: string) {
  let query = db
    .selectFrom(kind.table)
    .select('id')
    .where('team_id', '=', teamId)
    .where((eb) => eb(eb.fn('lower', ['name']), '=', name.toLowerCase()));
  if (exceptId) query = query.where('id', '!=', exceptId);
  if (await query.executeTakeFirst()) throw new NameTakenError(`A ${kind.noun.toLowerCase()} named '${name}' already exists`, name);
}

export async function listLabels(ctx: AppContext, kind: LabelKind, teamId: string): Promise<Label[]> {
  const rows = await ctx.db
    .selectFrom(kind.table)
    .selectAll()
    .where('team_id', '=', teamId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(present);
}

export async function getLabel(ctx: AppContext, kind: LabelKind, teamId: string, id: string): Promise<Label> {
  const row = await rowOr404(ctx.db
    .selectFrom(kind.table)
    .selectAll()
    .where('team_id', '=', teamId)
    .where('id', '=', id)
    , kind.notFoundCode, kind.noun, id);
  return present(row);
}

export async function createLabel(
  ctx: AppContext,
  kind: LabelKind,
  teamId: string,
  input: { name: string; color?: string | null },
): Promise<Label> {
  const name = nameOf(input.name);
  const color = colorOf(kind, input.color);
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    await assertNameFree(trx, kind, teamId, name);
    const row = await trx
      .insertInto(kind.table)
      .values({ id: newId(), team_id: teamId, name, color, created_at: now })
      .returningAll()
      .executeTakeFirstOrThrow();
    const label = present(row);
    await emitEvent(trx, teamId, `${kind.event}.created`, { [kind.event]: label }, now);
    return label;
  });
}

export async function updateLabel(
  ctx: AppContext,
  kind: LabelKind,
  teamId: string,
  id: string,
  input: LabelInput,
): Promise<Label> {
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    const current = await getLabel({ ...ctx, db: trx }, kind, teamId, id);
    const name = input.name === undefined ? current.name : nameOf(input.name);
    const color = input.color === undefined ? current.color : colorOf(kind, input.color);
    if (name !== current.name) await assertNameFree(trx, kind, teamId, name, id);
    const row = await trx
      .updateTable(kind.table)
      .set({ name, color, updated_at: now })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    const label = present(row);
    await emitEvent(trx, teamId, `${kind.event}.updated`, { [kind.event]: label }, now);
    return label;
  });
}

/** Deletes a label; the foreign keys detach it from every prospect (tags removed, statuses cleared). */
export async function deleteLabel(ctx: AppContext, kind: LabelKind, teamId: string, id: string): Promise<void> {
  const now = ctx.clock.now();
  await ctx.db.transaction().execute(async (trx) => {
    const label = await getLabel({ ...ctx, db: trx }, kind, teamId, id);
    await trx.deleteFrom(kind.table).where('id', '=', id).execute();
    await emitEvent(trx, teamId, `${kind.event}.deleted`, { [kind.event]: label }, now);
  });
}

/** A name as API v2 compares names: ignoring case and accents. */
export const foldName = (name: string) => name.trim().normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();

/**
 * A label by reference (API v2's `{tagRef}` / `{statusRef}`): an id, else a name ignoring case and accents. An id
 * match wins over another label's name; among names that fold alike (v1 allows 'Café' beside 'Cafe') the oldest.
 */
export async function findLabelByRef(ctx: AppContext, kind: LabelKind, teamId: string, ref: string): Promise<Label | null> {
  return (await findLabelsByRefs(ctx, kind, teamId, [ref]))[0]!;
}

/** findLabelByRef for many references at once (one read of the team's labels); null for each that names none. */
export async function findLabelsByRefs(ctx: AppContext, kind: LabelKind, teamId: string, refs: readonly string[]): Promise<Array<Label | null>> {
  const labels = await listLabels(ctx, kind, teamId);
  return refs.map((ref) => {
    const folded = foldName(ref);
    return labels.find((l) => l.id === ref) ?? labels.find((l) => foldName(l.name) === folded) ?? null;
  });
}

/** As findLabelByRef, 404 (TAG_NOT_FOUND, STATUS_NOT_FOUND) when there is none. */
export async function getLabelByRef(ctx: AppContext, kind: LabelKind, teamId: string, ref: string): Promise<Label> {
  const label = await findLabelByRef(ctx, kind, teamId, ref);
  if (!label) throw notFound(kind.notFoundCode, kind.noun, ref);
  return label;
}

/**
 * API v2 names are unique ignoring accents too (v1 ignores case only): a name that folds like another label's
 * is taken (409 NameTakenError).
 */
export async function assertNameFreeIgnoringAccents(ctx: AppContext, kind: LabelKind, teamId: string, name: string, exceptId?: string): Promise<void> {
  const folded = foldName(name);
  const taken = (await listLabels(ctx, kind, teamId)).find((l) => l.id !== exceptId && foldName(l.name) === folded);
  if (taken) throw new NameTakenError(`A ${kind.noun.toLowerCase()} named '${taken.name}' already exists`, name.trim());
}
