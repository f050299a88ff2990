import { addCampaignLeads, cancelCampaignLead, getCampaignLead, listCampaignLeads, updateCampaignLead } from '../../app/campaigns/leads.js';
import type { AppContext } from '../../app/context.js';
import { updateLeadRules } from '../../app/campaigns/lead-rules.js';
import type { Api } from '../api.js';
import {
  AddCampaignLeadsResultSchema,
  CampaignLeadPageSchema,
  CampaignLeadSchema,
  CampaignLeadsQuery,
  LeadQuery,
  CancelLeadBody,
  LeadParams,
  LeadRulesBody,
  SuccessSchema,
  UpdateCampaignLeadBody,
  UpdateLeadResultSchema,
} from '../schemas/campaign-leads.js';
import { CampaignParams } from '../schemas/campaigns.js';
import { errorResponses } from '../schemas/common.js';
import { AddLeadsBody, leadInputsOf } from '../schemas/lists.js';
import { cursorFrom, paginate } from '../schemas/pagination.js';

const tags = ['Campaigns'];
const v2 = '/campaigns/v2/:campaignId';
const success = { 200: SuccessSchema, ...errorResponses };

/** A campaign's lead rules and leads. */
export function campaignLeadRoutes(api: Api, ctx: AppContext): void {
  api.patch(
    `${v2}/rules`,
    { schema: { tags, summary: "Change the campaign's lead rules (re-syncs its leads in the background)", params: CampaignParams, body: LeadRulesBody, response: success } },
    async (req) => {
      await updateLeadRules(ctx, req.actor.teamId, req.params.campaignId, req.body);
      return { success: true as const };
    },
  );

  api.post(
    `${v2}/leads`,
    {
      schema: {
        tags,
        summary: 'Add leads directly by X user id, username or externalId (counts)',
        params: CampaignParams,
        body: AddLeadsBody,
        response: { 200: AddCampaignLeadsResultSchema, ...errorResponses },
      },
    },
    async (req) => addCampaignLeads(ctx, req.actor.teamId, req.params.campaignId, leadInputsOf(req.body)),
  );
  api.get(
    `${v2}/leads`,
    {
      schema: {
        tags,
        summary: "The campaign's leads in the order they entered",
        params: CampaignParams,
        querystring: CampaignLeadsQuery,
        response: { 200: CampaignLeadPageSchema, ...errorResponses },
      },
    },
    async (req) => {
      const { state, limit } = req.query;
      const rows = await listCampaignLeads(ctx, req.actor.teamId, req.params.campaignId, { state, limit, cursor: cursorFrom(req.query) });
      const { page, nextCursor } = paginate(rows, limit, (l) => ({ id: l.id, timestamp: new Date(l.createdAt) }));
      return { leads: page, nextCursor };
    },
  );
  api.get(
    `${v2}/leads/:identifier`,
    {
      schema: {
        tags,
        summary: 'One lead of the campaign, with when it is sent next and why it waits',
        params: LeadParams,
        querystring: LeadQuery,
        response: { 200: CampaignLeadSchema, ...errorResponses },
      },
    },
    async (req) => {
      const { campaignId, identifier } = req.params;
      return getCampaignLead(ctx, req.actor.teamId, campaignId, { by: req.query.by, value: identifier });
    },
  );
  api.post(
    `${v2}/leads/:identifier/cancel`,
    { schema: { tags, summary: "Stop a pending or active lead's sequence", params: LeadParams, body: CancelLeadBody, response: success } },
    async (req) => {
      const { campaignId, identifier } = req.params;
      await cancelCampaignLead(ctx, req.actor.teamId, campaignId, { by: req.body?.by ?? 'platformId', value: identifier });
      return { success: true as const };
    },
  );
  api.patch(
    `${v2}/leads/:identifier`,
    {
      schema: {
        tags,
        summary: "Set a lead's campaign column values",
        params: LeadParams,
        body: UpdateCampaignLeadBody,
        response: { 200: UpdateLeadResultSchema, ...errorResponses },
      },
    },
    async (req) => {
      const { campaignId, identifier } = req.params;
      return updateCampaignLead(ctx, req.actor.teamId, campaignId, { by: req.body.by, value: identifier }, req.body.data);
    },
  );
}
