import { sql } from 'kysely';
import { csvLine } from '../../core/csv.js';
import { iso, isoOrNull } from '../../core/time.js';
import type { Db } from '../../store/db.js';
import { getCampaignRow } from './data.js';
import { CAMPAIGN_COLUMNS, columnsByOwner } from '../leads/columns.js';
import type { AppContext } from '../context.js';

/**
 * GET /campaigns/v2/{id}/leads/export (our extension): the campaign's leads with their state and results as CSV,
 * one line per lead in the order they entered, read a page at a time so the export streams whatever its size.
 * The campaign's columns follow the fixed ones, headed by their names.
 */

const PAGE = 1_000;

const FIXED_HEADERS = [
  'platformId',
  'username',
  'displayName',
  'state',
  'account',
  'stepReached',
  'messagesSent',
  'contactedAt',
  'lastContactAt',
  'nextStepAt',
  'repliedAt',
  'failureReason',
  'addedAt',
];

interface ExportRow {
  id: string;
  created_at: Date;
  position: number;
  state: string;
  next_rank: number;
  next_step_at: Date | null;
  contacted_at: Date | null;
  last_contact_at: Date | null;
  replied_at: Date | null;
  failure_reason: string | null;
  data: Record<string, unknown>;
  platform_id: string;
  username: string;
  display_name: string;
  account: string | null;
  messages_sent: string | number;
}

function pageAfter(db: Db, campaignId: string, after: { createdAt: Date; position: number } | null) {
  return sql<ExportRow>`
    select l.id, l.created_at, l.position, l.state, l.next_rank, l.next_step_at, l.contacted_at, l.last_contact_at, l.replied_at,
      l.failure_reason, l.data, p.platform_id, p.username, p.display_name, al.username as account,
      (select count(*) from send_intents i where i.lead_id = l.id and i.kind = 'message' and i.status = 'sent') as messages_sent
    from campaign_leads l
    join prospects p on p.id = l.prospect_id
    left join account_links al on al.id = l.account_link_id
    where l.campaign_id = ${campaignId} ${after ? sql`and (l.created_at, l.position) > (${after.createdAt}::timestamptz, ${after.position})` : sql``}
    order by l.created_at, l.position
    limit ${PAGE}`.execute(db);
}

/** Checks the campaign now (so a wrong id answers 404 before any byte is sent), then yields the CSV's lines. */
export async function exportCampaignLeads(ctx: AppContext, teamId: string, campaignId: string): Promise<AsyncGenerator<string>> {
  await getCampaignRow(ctx.db, teamId, campaignId);
  const columns = (await columnsByOwner(ctx.db, CAMPAIGN_COLUMNS, [campaignId])).get(campaignId)!;
  return (async function* lines() {
    yield csvLine([...FIXED_HEADERS, ...columns.map((c) => c.name)]);
    for (let after: { createdAt: Date; position: number } | null = null; ; ) {
      const { rows } = await pageAfter(ctx.db, campaignId, after);
      let chunk = '';
      for (const r of rows) {
        chunk += csvLine([
          r.platform_id,
          r.username,
          r.display_name,
          r.state,
          r.account,
          // the 1-based position of the last step sent (0 before the first): the rank after it
          r.next_rank,
          Number(r.messages_sent),
          isoOrNull(r.contacted_at),
          isoOrNull(r.last_contact_at),
          isoOrNull(r.next_step_at),
          isoOrNull(r.replied_at),
          r.failure_reason,
          iso(r.created_at),
          ...columns.map((c) => {
            const value = r.data[c.id];
            return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : null;
          }),
        ]);
      }
      if (chunk) yield chunk;
      if (rows.length < PAGE) return;
      const last = rows.at(-1)!;
      after = { createdAt: new Date(last.created_at), position: Number(last.position) };
    }
  })();
}
