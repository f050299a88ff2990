import { z } from 'zod';
import type { AppContext } from '../../../app/context.js';
import { assertNameFreeIgnoringAccents, createLabel, deleteLabel, getLabelByRef, listLabels, STATUS, TAG, updateLabel, type Label, type LabelKind } from '../../../app/prospects/labels.js';
import { COLORS } from '../../../core/colors.js';
import { randomInt } from 'node:crypto';
import type { Api } from '../../api.js';
import { v2Status, v2Tag } from '../presenters.js';
import {
  ColorSchema,
  errorResponses,
  StatusCreateBody,
  StatusPageSchema,
  StatusSchema,
  StatusUpdateBody,
  TagCreateBody,
  TagPageSchema,
  TagSchema,
  TagUpdateBody,
} from '../schemas.js';

/** Tags and statuses by reference (`{tagRef}`, `{statusRef}`: an id, else a name ignoring case and accents). */
function labelV2Routes(
  api: Api,
  ctx: AppContext,
  kind: LabelKind,
  path: string,
  schemas: { item: z.ZodType; page: z.ZodType; create: z.ZodType<{ name: string; color?: string | null }>; update: z.ZodType<{ name?: string; color?: string | null }> },
) {
  const ref = kind === TAG ? 'tagRef' : 'statusRef';
  const params = z.object({ [ref]: z.string().min(1).max(255) }) as z.ZodObject<Record<string, z.ZodString>>;
  const show: (label: Label) => unknown = kind === TAG ? v2Tag : v2Status;
  const tags = [kind === TAG ? 'Tags' : 'Statuses'];
  const noun = kind.noun.toLowerCase();
  const byRef = (teamId: string, p: Record<string, string>) => getLabelByRef(ctx, kind, teamId, p[ref]!);

  api.get(path, { schema: { tags, summary: kind === TAG ? 'Every tag, by name' : 'Every status, in board order', response: { 200: schemas.page, ...errorResponses } } }, async (req) => {
    const labels = await listLabels(ctx, kind, req.actor.teamId);
    const ordered = kind === TAG ? [...labels].sort((a, b) => a.name.localeCompare(b.name, 'en', { sensitivity: 'base' }) || (a.id < b.id ? -1 : 1)) : labels;
    return { data: ordered.map(show), nextCursor: null };
  });
  api.post(path, { schema: { tags, summary: `Create a ${noun}`, body: schemas.create, response: { 201: schemas.item, ...errorResponses } } }, async (req, reply) => {
    const body = req.body as { name: string; color?: string | null };
    await assertNameFreeIgnoringAccents(ctx, kind, req.actor.teamId, body.name);
    // A tag created without a color gets one of the palette's at random, as the vendor documents.
    const color = kind === TAG && body.color === undefined ? COLORS[randomInt(COLORS.length)]!.hex : body.color;
    return reply.code(201).send(show(await createLabel(ctx, kind, req.actor.teamId, { name: body.name, color })));
  });
  api.get(`${path}/:${ref}`, { schema: { tags, summary: `A ${noun} by id or name`, params, response: { 200: schemas.item, ...errorResponses } } }, async (req) =>
    show(await byRef(req.actor.teamId, req.params)),
  );
  api.patch(`${path}/:${ref}`, { schema: { tags, summary: `Rename or recolor a ${noun}`, params, body: schemas.update, response: { 200: schemas.item, ...errorResponses } } }, async (req) => {
    const label = await byRef(req.actor.teamId, req.params);
    const body = req.body as { name?: string; color?: string | null };
    if (body.name !== undefined) await assertNameFreeIgnoringAccents(ctx, kind, req.actor.teamId, body.name, label.id);
    return show(await updateLabel(ctx, kind, req.actor.teamId, label.id, body));
  });
  api.delete(`${path}/:${ref}`, { schema: { tags, summary: `Delete a ${noun}, taking it off every contact`, params } }, async (req, reply) => {
    const label = await byRef(req.actor.teamId, req.params);
    await deleteLabel(ctx, kind, req.actor.teamId, label.id);
    return reply.code(204).send();
  });
}

export function labelsV2Routes(api: Api, ctx: AppContext): void {
  labelV2Routes(api, ctx, TAG, '/tags', { item: TagSchema, page: TagPageSchema, create: TagCreateBody, update: TagUpdateBody });
  labelV2Routes(api, ctx, STATUS, '/statuses', { item: StatusSchema, page: StatusPageSchema, create: StatusCreateBody, update: StatusUpdateBody });
  api.get('/colors', { schema: { tags: ['Colors'], summary: 'The palette tags and statuses take colors from', response: { 200: z.array(ColorSchema), ...errorResponses } } }, async () => [...COLORS]);
}
