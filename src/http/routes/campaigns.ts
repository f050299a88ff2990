import { z } from 'zod';
import { Readable } from 'node:stream';
import { listAutomations, replaceAutomations } from '../../app/campaigns/automations.js';
import { duplicateCampaign } from '../../app/campaigns/copy.js';
import { exportCampaignLeads } from '../../app/campaigns/export.js';
import { campaignStats } from '../../app/campaigns/stats.js';
import { listSequenceVersions, previewSequence, replaceSequence } from '../../app/campaigns/sequence.js';
import {
  createCampaign,
  deleteCampaign,
  disableCampaign,
  enableCampaign,
  getCampaign,
  getCampaignV1,
  listCampaigns,
  pauseCampaignV1,
  updateCampaign,
} from '../../app/campaigns/campaigns.js';
import { CAMPAIGN_COLUMNS, createColumn, deleteColumn, listColumns, updateColumn } from '../../app/leads/columns.js';
import type { AppContext } from '../../app/context.js';
import type { Api } from '../api.js';
import {
  AutomationSchema,
  CampaignListQuery,
  CampaignPageSchema,
  CampaignParams,
  CampaignSchema,
  CampaignStatsSchema,
  CampaignV1Schema,
  ColumnParams,
  ColumnSchema,
  CreateCampaignBody,
  CreateColumnBody,
  PreviewBody,
  PutAutomationsBody,
  PutSequenceBody,
  SequencePreviewSchema,
  SequenceSchema,
  SequenceVersionSchema,
  UpdateCampaignBody,
  UpdateColumnBody,
} from '../schemas/campaigns.js';
import { LeadRulesBody } from '../schemas/campaign-leads.js';
import { EmptyBody, errorResponses } from '../schemas/common.js';
import { cursorFrom, paginate } from '../schemas/pagination.js';

const tags = ['Campaigns'];
const params = CampaignParams;
const response = { 200: CampaignSchema, ...errorResponses };
const v2 = '/campaigns/v2/:campaignId';

export function campaignRoutes(api: Api, ctx: AppContext): void {
  api.get(
    '/campaigns',
    { schema: { tags, summary: 'List campaigns, newest first', querystring: CampaignListQuery, response: { 200: CampaignPageSchema, ...errorResponses } } },
    async (req) => {
      const { status, limit } = req.query;
      const rows = await listCampaigns(ctx, req.actor.teamId, { status, limit, cursor: cursorFrom(req.query) });
      const { page, nextCursor } = paginate(rows, limit, (c) => ({ id: c.id, timestamp: new Date(c.createdAt) }));
      return { campaigns: page, nextCursor };
    },
  );
  api.post('/campaigns/v2', { schema: { tags, summary: 'Create a draft campaign', body: CreateCampaignBody.extend({ rules: LeadRulesBody.optional() }), response } }, async (req) =>
    createCampaign(ctx, req.actor.teamId, req.body),
  );
  api.get(v2, { schema: { tags, summary: 'Get a campaign', params, response } }, async (req) =>
    getCampaign(ctx, req.actor.teamId, req.params.campaignId),
  );
  api.patch(v2, { schema: { tags, summary: "Update a campaign's settings", params, body: UpdateCampaignBody, response } }, async (req) =>
    updateCampaign(ctx, req.actor.teamId, req.params.campaignId, req.body),
  );
  api.delete(v2, { schema: { tags, summary: 'Delete a campaign that is not active', params, body: EmptyBody } }, async (req, reply) => {
    await deleteCampaign(ctx, req.actor.teamId, req.params.campaignId);
    return reply.code(200).send();
  });
  api.post(
    `${v2}/enable`,
    { schema: { tags, summary: 'Start a draft or resume a paused campaign (422 CAMPAIGN_NOT_READY lists what is missing)', params, body: EmptyBody, response } },
    async (req) => enableCampaign(ctx, req.actor.teamId, req.params.campaignId),
  );
  api.post(`${v2}/disable`, { schema: { tags, summary: 'Pause an active campaign', params, body: EmptyBody, response } }, async (req) =>
    disableCampaign(ctx, req.actor.teamId, req.params.campaignId),
  );

  api.post(
    `${v2}/duplicate`,
    { schema: { tags, summary: 'A new draft with the settings, sequence, lead rules, columns and automations of this one, without its leads', params, body: EmptyBody, response } },
    async (req) => duplicateCampaign(ctx, req.actor.teamId, req.params.campaignId),
  );
  api.get(
    `${v2}/stats`,
    { schema: { tags, summary: 'Sent, replied and reply rate per message step and per variation option', params, response: { 200: CampaignStatsSchema, ...errorResponses } } },
    async (req) => campaignStats(ctx, req.actor.teamId, req.params.campaignId),
  );
  api.get(
    `${v2}/leads/export`,
    {
      schema: {
        tags,
        summary: "The campaign's leads with their state and results as CSV (streamed; cells that would start a formula are prefixed with ')",
        params,
        response: { 200: z.string().describe('text/csv'), ...errorResponses },
      },
    },
    async (req, reply) => {
      const lines = await exportCampaignLeads(ctx, req.actor.teamId, req.params.campaignId);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="campaign-${req.params.campaignId}-leads.csv"`)
        // A stream: the 200 schema's string only documents the body, which no serializer touches.
        .send(Readable.from(lines) as never);
    },
  );

  const v1Response = { 200: CampaignV1Schema, ...errorResponses };
  api.get('/campaigns/:campaignId', { schema: { tags, summary: 'Get a campaign (legacy v1 shape)', params, response: v1Response } }, async (req) =>
    getCampaignV1(ctx, req.actor.teamId, req.params.campaignId),
  );
  api.post(
    '/campaigns/:campaignId/pause',
    { schema: { tags, summary: 'Pause an active campaign (legacy v1 shape)', params, body: EmptyBody, response: v1Response } },
    async (req) => pauseCampaignV1(ctx, req.actor.teamId, req.params.campaignId),
  );

  api.put(
    `${v2}/sequence`,
    { schema: { tags, summary: 'Replace the sequence (a new version)', params, body: PutSequenceBody, response: { 200: SequenceSchema, ...errorResponses } } },
    async (req) => replaceSequence(ctx, req.actor.teamId, req.params.campaignId, req.body.steps),
  );
  api.get(
    `${v2}/sequence/versions`,
    { schema: { tags, summary: 'Every sequence version, newest first', params, response: { 200: z.array(SequenceVersionSchema), ...errorResponses } } },
    async (req) => listSequenceVersions(ctx, req.actor.teamId, req.params.campaignId),
  );
  api.post(
    `${v2}/sequence/preview`,
    {
      schema: {
        tags,
        summary: 'Render the current sequence for one prospect or a sample lead, without sending',
        params,
        body: PreviewBody,
        response: { 200: SequencePreviewSchema, ...errorResponses },
      },
    },
    async (req) => previewSequence(ctx, req.actor.teamId, req.params.campaignId, req.body ?? {}),
  );

  const columnResponse = { 200: ColumnSchema, ...errorResponses };
  api.get(
    `${v2}/columns`,
    { schema: { tags, summary: "A campaign's custom columns", params, response: { 200: z.array(ColumnSchema), ...errorResponses } } },
    async (req) => listColumns(ctx, CAMPAIGN_COLUMNS, req.actor.teamId, req.params.campaignId),
  );
  api.post(`${v2}/columns`, { schema: { tags, summary: 'Create a custom column', params, body: CreateColumnBody, response: columnResponse } }, async (req) =>
    createColumn(ctx, CAMPAIGN_COLUMNS, req.actor.teamId, req.params.campaignId, req.body),
  );
  api.patch(
    `${v2}/columns/:columnId`,
    { schema: { tags, summary: 'Rename or describe a custom column', params: ColumnParams, body: UpdateColumnBody, response: columnResponse } },
    async (req) => updateColumn(ctx, CAMPAIGN_COLUMNS, req.actor.teamId, req.params.campaignId, req.params.columnId, req.body),
  );
  api.delete(
    `${v2}/columns/:columnId`,
    { schema: { tags, summary: 'Delete a custom column the sequence does not use', params: ColumnParams, body: EmptyBody } },
    async (req, reply) => {
      await deleteColumn(ctx, CAMPAIGN_COLUMNS, req.actor.teamId, req.params.campaignId, req.params.columnId);
      return reply.code(200).send();
    },
  );

  const automationsResponse = { 200: z.array(AutomationSchema), ...errorResponses };
  api.get(`${v2}/automations`, { schema: { tags, summary: "A campaign's automations", params, response: automationsResponse } }, async (req) =>
    listAutomations(ctx, req.actor.teamId, req.params.campaignId),
  );
  api.put(
    `${v2}/automations`,
    { schema: { tags, summary: "Replace a campaign's automations", params, body: PutAutomationsBody, response: automationsResponse } },
    async (req) => replaceAutomations(ctx, req.actor.teamId, req.params.campaignId, req.body),
  );
}
