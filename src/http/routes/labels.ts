import { z } from 'zod';
import type { AppContext } from '../../app/context.js';
import {
  createLabel,
  deleteLabel,
  getLabel,
  listLabels,
  STATUS,
  TAG,
  updateLabel,
  type Label,
  type LabelKind,
} from '../../app/prospects/labels.js';
import { COLORS } from '../../core/colors.js';
import type { Api } from '../api.js';
import { ColorSchema, CreateLabelBody, StatusSchema, TagSchema, UpdateLabelBody } from '../schemas/labels.js';
import { EmptyBody, errorResponses, IdSchema } from '../schemas/common.js';

const colorsRoute = { schema: { summary: 'List the color palette', response: { 200: z.array(ColorSchema), ...errorResponses } } };

/** The same five routes serve tags and statuses; only the kind, path and schema differ. */
function labelRoutes(api: Api, ctx: AppContext, kind: LabelKind, path: string, schema: z.ZodType, tag: string) {
  const idParam = kind === TAG ? 'tagId' : 'statusId';
  const params = z.object({ [idParam]: IdSchema }) as z.ZodObject<Record<string, typeof IdSchema>>;
  const response = { 200: schema, ...errorResponses };
  const idOf = (p: Record<string, string>) => p[idParam]!;
  const output = (label: Label) => label;

  api.get(`${path}/colors`, { schema: { ...colorsRoute.schema, tags: [tag] } }, async () => [...COLORS]);
  api.get(path, { schema: { tags: [tag], summary: `List ${path.slice(1)}`, response: { 200: z.array(schema), ...errorResponses } } }, async (req) =>
    (await listLabels(ctx, kind, req.actor.teamId)).map(output),
  );
  api.post(path, { schema: { tags: [tag], summary: `Create a ${kind.noun.toLowerCase()}`, body: CreateLabelBody, response } }, async (req) =>
    output(await createLabel(ctx, kind, req.actor.teamId, req.body)),
  );
  api.get(`${path}/:${idParam}`, { schema: { tags: [tag], summary: `Get a ${kind.noun.toLowerCase()}`, params, response } }, async (req) =>
    output(await getLabel(ctx, kind, req.actor.teamId, idOf(req.params))),
  );
  api.patch(
    `${path}/:${idParam}`,
    { schema: { tags: [tag], summary: `Update a ${kind.noun.toLowerCase()}`, params, body: UpdateLabelBody, response } },
    async (req) => output(await updateLabel(ctx, kind, req.actor.teamId, idOf(req.params), req.body)),
  );
  api.delete(
    `${path}/:${idParam}`,
    { schema: { tags: [tag], summary: `Delete a ${kind.noun.toLowerCase()} and detach it from every prospect`, params, body: EmptyBody } },
    async (req, reply) => {
      await deleteLabel(ctx, kind, req.actor.teamId, idOf(req.params));
      return reply.code(200).send();
    },
  );
}

export function tagAndStatusRoutes(api: Api, ctx: AppContext): void {
  labelRoutes(api, ctx, TAG, '/tags', TagSchema, 'Tags');
  labelRoutes(api, ctx, STATUS, '/statuses', StatusSchema, 'Statuses');
  api.get('/colors', { schema: { ...colorsRoute.schema, tags: ['Colors'] } }, async () => [...COLORS]);
}
