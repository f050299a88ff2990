import { sql } from 'kysely';
import { newId } from '../core/ids.js';
import type { LeadStateColumns } from '../core/lead-lifecycle.js';
import { updateRows } from './bulk.js';
import type { Db } from './db.js';
import type { LeadState } from './schema-campaigns.js';

/**
 * The lead applier: the one place that writes a campaign lead's state columns, always what the lead state machine
 * (core/lead-lifecycle.ts) answered. Callers lock the leads they change (FOR UPDATE) in their transaction.
 */

const STATE_COLUMN_TYPES: Readonly<Record<keyof LeadStateColumns, string>> = {
  state: 'text',
  account_link_id: 'text',
  sequence_version: 'integer',
  next_rank: 'integer',
  next_step_at: 'timestamptz',
  contacted_at: 'timestamptz',
  last_contact_at: 'timestamptz',
  replied_at: 'timestamptz',
  finished_at: 'timestamptz',
  failure_reason: 'text',
  updated_at: 'timestamptz',
};
const STATE_COLUMNS = Object.keys(STATE_COLUMN_TYPES) as Array<keyof LeadStateColumns>;

/** One lead's changed columns, as a transition's `set`. */
export interface LeadChange {
  id: string;
  set: Partial<LeadStateColumns>;
}

/** Every state column of a lead: a caller holding the whole row locked writes it in one statement with the others. */
export const wholeState = (lead: LeadStateColumns): Partial<LeadStateColumns> =>
  Object.fromEntries(STATE_COLUMNS.map((column) => [column, lead[column]])) as Partial<LeadStateColumns>;

/** Writes the changes, one statement per set of changed columns. */
export async function writeLeadChanges(db: Db, changes: readonly LeadChange[]): Promise<void> {
  const groups = new Map<string, Array<Record<string, unknown>>>();
  for (const { id, set } of changes) {
    const columns = STATE_COLUMNS.filter((column) => column in set);
    if (columns.length === 0) continue;
    const key = columns.join(',');
    const row = { id, ...set };
    const group = groups.get(key);
    if (group) group.push(row);
    else groups.set(key, [row]);
  }
  for (const [key, rows] of groups) {
    const columns = Object.fromEntries([['id', 'text'], ...key.split(',').map((column) => [column, STATE_COLUMN_TYPES[column as keyof LeadStateColumns]])]);
    await updateRows(db, 'campaign_leads', columns, rows);
  }
}

/** One lead row the rules insert or update: its state and reason (from ruleTransition), whether it was added directly, and column values to merge in. */
export interface LeadWrite {
  prospectId: string;
  state: LeadState;
  reason: string | null;
  direct: boolean;
  data: Record<string, unknown>;
}

/**
 * The rules' writes: inserts or updates lead rows of one campaign in one statement (one JSON parameter, whatever
 * the batch size). Column values merge into what the lead has; a row that would not change is not touched.
 */
export async function upsertLeads(trx: Db, campaign: { campaignId: string; teamId: string }, writes: readonly LeadWrite[], now: Date): Promise<void> {
  if (writes.length === 0) return;
  const rows = JSON.stringify(
    writes.map((w) => ({ id: newId(), prospect_id: w.prospectId, state: w.state, reason: w.reason, direct: w.direct, data: w.data })),
  );
  await sql`
    insert into campaign_leads as l (id, campaign_id, team_id, prospect_id, state, direct, data, failure_reason, created_at, updated_at)
    select v.id, ${campaign.campaignId}, ${campaign.teamId},
           v.prospect_id, v.state, v.direct, v.data, v.reason, ${now}::timestamptz, ${now}::timestamptz
    from jsonb_to_recordset(${rows}::jsonb) as v(id text, prospect_id text, state text, reason text, direct boolean, data jsonb)
    on conflict (campaign_id, prospect_id) do update
      set state = excluded.state, failure_reason = excluded.failure_reason, direct = l.direct or excluded.direct,
          data = l.data || excluded.data, updated_at = excluded.updated_at
      where l.state <> excluded.state or l.failure_reason is distinct from excluded.failure_reason
         or (excluded.direct and not l.direct) or not l.data @> excluded.data
  `.execute(trx);
}
