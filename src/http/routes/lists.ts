import { z } from 'zod';
import { deleteColumn, LIST_COLUMNS, listColumns, updateColumn } from '../../app/leads/columns.js';
import type { AppContext } from '../../app/context.js';
import { addListLeads, listListLeads, removeListLeads, updateListLead } from '../../app/lists/leads.js';
import { createList, createListColumn, deleteList, getList, listLists, updateList } from '../../app/lists/lists.js';
import type { Api } from '../api.js';
import { ColumnSchema, CreateColumnBody, UpdateColumnBody } from '../schemas/campaigns.js';
import { EmptyBody, errorResponses } from '../schemas/common.js';
import {
  AddLeadsBody,
  leadInputsOf,
  AddLeadsResultSchema,
  CreateListBody,
  ListColumnParams,
  ListLeadPageSchema,
  ListLeadParams,
  ListLeadsQuery,
  ListParams,
  ListSchema,
  RemoveLeadsBody,
  UpdateLeadBody,
  UpdateLeadResultSchema,
  UpdateListBody,
} from '../schemas/lists.js';
import { cursorFrom, paginate } from '../schemas/pagination.js';

const tags = ['Lists'];
const params = ListParams;
const response = { 200: ListSchema, ...errorResponses };

export function listRoutes(api: Api, ctx: AppContext): void {
  api.get('/lists', { schema: { tags, summary: 'List the lists, system lists first', response: { 200: z.array(ListSchema), ...errorResponses } } }, async (req) =>
    listLists(ctx, req.actor.teamId),
  );
  api.post('/lists', { schema: { tags, summary: 'Create a list', body: CreateListBody, response } }, async (req) => createList(ctx, req.actor.teamId, req.body));
  api.get('/lists/:listId', { schema: { tags, summary: 'Get a list', params, response } }, async (req) => getList(ctx, req.actor.teamId, req.params.listId));
  api.patch('/lists/:listId', { schema: { tags, summary: 'Rename or describe a list', params, body: UpdateListBody, response } }, async (req) =>
    updateList(ctx, req.actor.teamId, req.params.listId, req.body),
  );
  api.delete('/lists/:listId', { schema: { tags, summary: 'Delete a list with its leads', params, body: EmptyBody } }, async (req, reply) => {
    await deleteList(ctx, req.actor.teamId, req.params.listId);
    return reply.code(200).send();
  });

  api.get(
    '/lists/:listId/leads',
    { schema: { tags, summary: "A list's leads, in the order they were added", params, querystring: ListLeadsQuery, response: { 200: ListLeadPageSchema, ...errorResponses } } },
    async (req) => {
      const { limit } = req.query;
      const rows = await listListLeads(ctx, req.actor.teamId, req.params.listId, { limit, cursor: cursorFrom(req.query) });
      const { page, nextCursor } = paginate(rows, limit, (l) => ({ id: l.prospect.externalId, timestamp: new Date(l.addedAt) }));
      return { leads: page, nextCursor };
    },
  );
  api.post(
    '/lists/:listId/leads',
    { schema: { tags, summary: 'Add leads by X user id, username or externalId', params, body: AddLeadsBody, response: { 200: AddLeadsResultSchema, ...errorResponses } } },
    async (req) => addListLeads(ctx, req.actor.teamId, req.params.listId, leadInputsOf(req.body)),
  );
  api.delete(
    '/lists/:listId/leads',
    { schema: { tags, summary: 'Remove leads by X user id', params, body: RemoveLeadsBody, response: { 200: z.object({ removed: z.number().int() }), ...errorResponses } } },
    async (req) => ({ removed: await removeListLeads(ctx, req.actor.teamId, req.params.listId, req.body.platformIds) }),
  );
  api.patch(
    '/lists/:listId/leads/:platformId',
    { schema: { tags, summary: "Set a lead's column values", params: ListLeadParams, body: UpdateLeadBody, response: { 200: UpdateLeadResultSchema, ...errorResponses } } },
    async (req) => updateListLead(ctx, req.actor.teamId, req.params.listId, req.params.platformId, req.body.data),
  );

  const columnResponse = { 200: ColumnSchema, ...errorResponses };
  api.get(
    '/lists/:listId/columns',
    { schema: { tags, summary: "A list's custom columns", params, response: { 200: z.array(ColumnSchema), ...errorResponses } } },
    async (req) => listColumns(ctx, LIST_COLUMNS, req.actor.teamId, req.params.listId),
  );
  api.post('/lists/:listId/columns', { schema: { tags, summary: 'Create a custom column', params, body: CreateColumnBody, response: columnResponse } }, async (req) =>
    createListColumn(ctx, req.actor.teamId, req.params.listId, req.body),
  );
  api.patch(
    '/lists/:listId/columns/:columnId',
    { schema: { tags, summary: 'Rename or describe a custom column', params: ListColumnParams, body: UpdateColumnBody, response: columnResponse } },
    async (req) => updateColumn(ctx, LIST_COLUMNS, req.actor.teamId, req.params.listId, req.params.columnId, req.body),
  );
  api.delete(
    '/lists/:listId/columns/:columnId',
    { schema: { tags, summary: 'Delete a custom column and its values', params: ListColumnParams, body: EmptyBody } },
    async (req, reply) => {
      await deleteColumn(ctx, LIST_COLUMNS, req.actor.teamId, req.params.listId, req.params.columnId);
      return reply.code(200).send();
    },
  );
}
