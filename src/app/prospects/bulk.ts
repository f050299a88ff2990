import { contextChangeOf, type BulkAction } from '../../core/bulk-actions.js';
import { notFound } from '../../core/errors.js';
import { isAnyOf, type Db } from '../../store/db.js';
import { addCampaignLeads } from '../campaigns/leads.js';
import type { AppContext } from '../context.js';
import { addListLeads } from '../lists/leads.js';
import { applyContextToMany } from './prospects.js';

/**
 * Bulk actions of the prospects table (our extension): one call changes up to MAX_BULK_PROSPECTS
 * prospects, through the very code of the single actions (the context update, the list and campaign
 * adds), so validation and events are theirs.
 */
export const MAX_BULK_PROSPECTS = 10_000;

export interface BulkResult {
  /** prospects the action changed (added, for lists and campaigns) */
  changed: number;
  /** prospects it left as they were: already so, already in the list or campaign, or kept out by the campaign's rules */
  unchanged: number;
}

/** 404 PROSPECT_NOT_FOUND for the first id that is not one of the team's prospects. */
async function assertProspects(db: Db, teamId: string, ids: readonly string[]): Promise<void> {
  const found = new Set((await db.selectFrom('prospects').select('id').where('team_id', '=', teamId).where(isAnyOf('id', ids)).execute()).map((r) => r.id));
  const missing = ids.find((id) => !found.has(id));
  if (missing) throw notFound('PROSPECT_NOT_FOUND', 'Prospect', missing);
}

/**
 * POST /prospects/bulk. Context actions run in one transaction, set-based. List and campaign adds are the
 * single adds given the prospects by externalId (each one transaction, set-based too), after checking
 * that every id is the team's, so a wrong id changes nothing.
 */
export async function runBulkAction(ctx: AppContext, teamId: string, prospectIds: readonly string[], action: BulkAction): Promise<BulkResult> {
  const ids = [...new Set(prospectIds)];
  if (action.type === 'addToList' || action.type === 'addToCampaign') {
    await assertProspects(ctx.db, teamId, ids);
    const leads = ids.map((value) => ({ ref: { by: 'externalId' as const, value } }));
    const added =
      action.type === 'addToList'
        ? (await addListLeads(ctx, teamId, action.listId, leads)).added.length
        : (await addCampaignLeads(ctx, teamId, action.campaignId, leads)).added;
    return { changed: added, unchanged: ids.length - added };
  }
  // Every other action is a change to the prospects' context.
  const change = contextChangeOf(action)!;
  const now = ctx.clock.now();
  const changed = await ctx.db.transaction().execute((trx) => applyContextToMany(trx, teamId, ids, change, now));
  return { changed, unchanged: ids.length - changed };
}
