import { z } from 'zod';
import { findContacts, getContact } from '../../../app/prospects/contacts.js';
import type { AppContext } from '../../../app/context.js';
import { findLabelByRef, getLabelByRef, STATUS, TAG } from '../../../app/prospects/labels.js';
import { getMember } from '../../../app/team/members.js';
import { updateProspectContext, type ContextInput } from '../../../app/prospects/prospects.js';
import type { Platform } from '../../../store/schema.js';
import { IdSchema } from '../../schemas/common.js';
import type { Api } from '../../api.js';
import { decodeCursor, fingerprint, pageOf } from '../cursors.js';
import { asBadReference, invalidRequest } from '../errors.js';
import { expanded, loadExpansions } from '../expand.js';
import { expandOf, pageQuery, repeated } from '../query.js';
import { v2Contact } from '../presenters.js';
import { ContactPageSchema, ContactSchema, ContactUpdateBody, errorResponses, PlatformName } from '../schemas.js';
import { assertPlatformsAvailable } from './platforms.js';

const Expand = expandOf(['status', 'tags', 'assignee'] as const);
const CONTACT_EXPANSIONS = { statuses: ['status'], tags: ['tags'], members: ['assignee'] };
const ContactParams = z.object({ contactId: IdSchema });

export function contactsV2Routes(api: Api, ctx: AppContext): void {
  const identity = z.array(z.string().min(1).max(255)).max(100);
  const ContactQuery = z
    .object({
      platform: PlatformName,
      platformId: repeated(z.string().min(1).max(64)).pipe(identity).optional(),
      username: repeated(z.string().min(1).max(255)).pipe(identity).optional(),
      expand: Expand,
      ...pageQuery,
    })
    .strict();
  api.get(
    '/contacts',
    { schema: { tags: ['Contacts'], summary: "Contacts by one of their profiles' platform identity; never creates one", querystring: ContactQuery, response: { 200: ContactPageSchema, ...errorResponses } } },
    async (req) => {
      const { platform, platformId, username, limit, cursor } = req.query;
      if ((platformId === undefined) === (username === undefined)) {
        throw invalidRequest([{ path: ['platformId'], message: 'give either platformId or username' }]);
      }
      assertPlatformsAvailable([platform]);
      const usernames = username?.map((u) => u.replace(/^@/, ''));
      const scope = fingerprint(req.actor.teamId, 'contacts', { platform, platformId: platformId && [...platformId].sort(), username: usernames?.map((u) => u.toLowerCase()).sort() });
      const after = cursor === undefined ? undefined : decodeCursor(cursor, scope);
      const contacts = await findContacts(ctx.db, req.actor.teamId, { platform: platform as Platform, platformIds: platformId, usernames });
      const { page, nextCursor } = pageOf(contacts, (c) => ({ at: c.row.created_at, id: c.row.id }), limit, after, scope);
      const expand = expanded(req.query.expand);
      const known = await loadExpansions(ctx, req.actor.teamId, expand, CONTACT_EXPANSIONS);
      return { data: page.map((c) => v2Contact(c, expand, known)), nextCursor };
    },
  );

  api.get(
    '/contacts/:contactId',
    { schema: { tags: ['Contacts'], summary: 'A contact with its profiles', params: ContactParams, querystring: z.object({ expand: Expand }).strict(), response: { 200: ContactSchema, ...errorResponses } } },
    async (req) => {
      const expand = expanded(req.query.expand);
      const [contact, known] = await Promise.all([getContact(ctx.db, req.actor.teamId, req.params.contactId), loadExpansions(ctx, req.actor.teamId, expand, CONTACT_EXPANSIONS)]);
      return v2Contact(contact, expand, known);
    },
  );

  api.patch(
    '/contacts/:contactId',
    { schema: { tags: ['Contacts'], summary: "Change a contact's status, notes, valuation or default assignee", params: ContactParams, body: ContactUpdateBody, response: { 200: ContactSchema, ...errorResponses } } },
    async (req) => {
      const { teamId } = req.actor;
      const body = req.body;
      await getContact(ctx.db, teamId, req.params.contactId);
      const input: ContextInput = { notes: body.notes, valuation: body.valuation, assigneeId: body.assigneeId };
      // The operation documents no 404 but its contact's: a status or member it cannot find is a bad request.
      if (body.status !== undefined) {
        const status = body.status === null ? null : await findLabelByRef(ctx, STATUS, teamId, body.status);
        if (status === null && body.status !== null) throw invalidRequest([{ path: ['status'], message: `no status '${body.status}'` }]);
        input.statusId = status?.id ?? null;
      }
      if (body.assigneeId) await getMember(ctx.db, teamId, body.assigneeId).catch(asBadReference('assigneeId'));
      await updateProspectContext(ctx, teamId, req.params.contactId, input);
      return v2Contact(await getContact(ctx.db, teamId, req.params.contactId));
    },
  );

  const TagParams = z.object({ contactId: IdSchema, tagRef: z.string().min(1).max(255) });
  const tagChange = (change: 'addTags' | 'removeTags', summary: string) =>
    [
      '/contacts/:contactId/tags/:tagRef',
      { schema: { tags: ['Contacts'], summary, params: TagParams } },
      async (req: { actor: { teamId: string }; params: z.infer<typeof TagParams> }, reply: { code(status: number): { send(): unknown } }) => {
        const { teamId } = req.actor;
        await getContact(ctx.db, teamId, req.params.contactId);
        const tag = await getLabelByRef(ctx, TAG, teamId, req.params.tagRef);
        await updateProspectContext(ctx, teamId, req.params.contactId, { [change]: [tag.id] });
        return reply.code(204).send();
      },
    ] as const;
  api.put(...tagChange('addTags', 'Tag a contact (a tag it has already succeeds)'));
  api.delete(...tagChange('removeTags', "Untag a contact (a tag it doesn't have succeeds)"));
}
