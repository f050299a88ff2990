import type { AppContext } from '../../app/context.js';
import { listProspectTable } from '../../app/prospects/table.js';
import { runBulkAction } from '../../app/prospects/bulk.js';
import type { Api } from '../api.js';
import { errorResponses } from '../schemas/common.js';
import { BulkBody, BulkResultSchema, ProspectTablePageSchema, ProspectTableQuery } from '../schemas/prospect-table.js';

const tags = ['Prospects'];

/** The prospects table and its bulk actions (our extensions). */
export function prospectTableRoutes(api: Api, ctx: AppContext): void {
  api.get(
    '/prospects',
    {
      schema: {
        tags,
        summary: "The team's prospects, filtered, sorted and paged by cursor (our extension)",
        querystring: ProspectTableQuery,
        response: { 200: ProspectTablePageSchema, ...errorResponses },
      },
    },
    async (req) => {
      const { tagIds, statusIds, noStatus, assigneeIds, noAssignee, listId, campaignId, q, sort, order, limit, after } = req.query;
      return listProspectTable(ctx, req.actor.teamId, { tagIds, statusIds, noStatus, assigneeIds, noAssignee, listId, campaignId, q, sort, order, limit, cursor: after });
    },
  );
  api.post(
    '/prospects/bulk',
    {
      schema: {
        tags,
        summary: 'Tag, untag, set the status of, assign, or add to a list or campaign up to 10,000 prospects in one call (our extension)',
        description:
          'The same checks and the same events as the single actions (PATCH /prospects/{id}/context, POST /lists/{id}/leads, POST /campaigns/v2/{id}/leads). ' +
          'An id that is not one of the team\'s prospects answers 404 PROSPECT_NOT_FOUND and changes nothing.',
        body: BulkBody,
        response: { 200: BulkResultSchema, ...errorResponses },
      },
    },
    async (req) => runBulkAction(ctx, req.actor.teamId, req.body.prospectIds, req.body.action),
  );
}
