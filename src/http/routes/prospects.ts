import { z } from 'zod';
import type { AppContext } from '../../app/context.js';
import { getProspect, lookupProspect, prospectCampaigns, updateProspectContext } from '../../app/prospects/prospects.js';
import type { Api } from '../api.js';
import { ProspectCampaignSchema } from '../schemas/campaign-leads.js';
import { errorResponses } from '../schemas/common.js';
import { ContextBody, ProspectLookupQuery, ProspectParams, ProspectWithContextSchema } from '../schemas/prospects.js';

const tags = ['Prospects'];

export function prospectRoutes(api: Api, ctx: AppContext): void {
  api.get(
    '/prospects/lookup',
    {
      schema: {
        tags,
        summary: 'Find a prospect the team has interacted with by platform user id (null if none)',
        querystring: ProspectLookupQuery,
        response: { 200: ProspectWithContextSchema.nullable(), ...errorResponses },
      },
    },
    async (req) => lookupProspect(ctx, req.actor.teamId, req.query.platformId),
  );
  api.get(
    '/prospects/:prospectId',
    { schema: { tags, summary: 'Get a prospect', params: ProspectParams, response: { 200: ProspectWithContextSchema, ...errorResponses } } },
    async (req) => getProspect(ctx, req.actor.teamId, req.params.prospectId),
  );
  api.get(
    '/prospects/:prospectId/campaigns',
    {
      schema: {
        tags,
        summary: 'The campaigns a prospect is a lead of, with its state in each, newest first (extension)',
        params: ProspectParams,
        response: { 200: z.array(ProspectCampaignSchema), ...errorResponses },
      },
    },
    async (req) => prospectCampaigns(ctx, req.actor.teamId, req.params.prospectId),
  );
  api.patch(
    '/prospects/:prospectId/context',
    {
      schema: {
        tags,
        summary: "Update a prospect's CRM context (assignee and done apply to all its threads)",
        params: ProspectParams,
        body: ContextBody,
        response: { 200: ProspectWithContextSchema, ...errorResponses },
      },
    },
    async (req) => updateProspectContext(ctx, req.actor.teamId, req.params.prospectId, req.body ?? {}),
  );
}
