import { z } from 'zod';
import { getAccountLinkRow, listAccountLinks, presentAccountLink } from '../../../app/accounts/account-links.js';
import type { AppContext } from '../../../app/context.js';
import { getMember, listMembers } from '../../../app/team/members.js';
import { getTeam, presentTeam } from '../../../app/team/teams.js';
import { PLATFORMS } from '../../../core/platform-capabilities.js';
import { IdSchema } from '../../schemas/common.js';
import type { Api } from '../../api.js';
import { decodeCursor, fingerprint, pageOf } from '../cursors.js';
import { pageQuery, repeated } from '../query.js';
import { v2AccountLink, v2Member, v2Team } from '../presenters.js';
import { AccountLinkPageSchema, AccountLinkSchema, errorResponses, MemberPageSchema, MemberSchema, PlatformInfoSchema, PlatformName, TeamSchema } from '../schemas.js';
import { assertPlatformsAvailable } from './platforms.js';

const byCreation = (item: { createdAt: string; id: string }) => ({ at: new Date(item.createdAt), id: item.id });

export function teamV2Routes(api: Api, ctx: AppContext): void {
  api.get('/platforms', { schema: { tags: ['Platforms'], summary: 'Platforms available to the team, with their capabilities and limits', response: { 200: z.array(PlatformInfoSchema), ...errorResponses } } }, async () =>
    PLATFORMS.map((p) => ({ ...p, capabilities: [...p.capabilities] })),
  );

  api.get('/team', { schema: { tags: ['Team'], summary: 'The team the token belongs to', response: { 200: TeamSchema, ...errorResponses } } }, async (req) =>
    v2Team(presentTeam(await getTeam(ctx.db, req.actor.teamId))),
  );

  const MemberQuery = z.object({ ...pageQuery }).strict();
  api.get('/members', { schema: { tags: ['Members'], summary: 'Members, oldest first', querystring: MemberQuery, response: { 200: MemberPageSchema, ...errorResponses } } }, async (req) => {
    const scope = fingerprint(req.actor.teamId, 'members', {});
    const after = req.query.cursor === undefined ? undefined : decodeCursor(req.query.cursor, scope);
    const { page, nextCursor } = pageOf(await listMembers(ctx.db, req.actor.teamId), byCreation, req.query.limit, after, scope);
    return { data: page.map(v2Member), nextCursor };
  });

  api.get(
    '/members/:memberId',
    { schema: { tags: ['Members'], summary: 'A member', params: z.object({ memberId: IdSchema }), response: { 200: MemberSchema, ...errorResponses } } },
    async (req) => v2Member(await getMember(ctx.db, req.actor.teamId, req.params.memberId)),
  );

  const AccountLinkQuery = z
    .object({
      platform: repeated(PlatformName).optional(),
      status: repeated(z.enum(['active', 'offline', 'paused'])).optional(),
      ...pageQuery,
    })
    .strict();
  api.get(
    '/account-links',
    { schema: { tags: ['Account links'], summary: 'Account links, oldest first', querystring: AccountLinkQuery, response: { 200: AccountLinkPageSchema, ...errorResponses } } },
    async (req) => {
      const { platform, status, limit, cursor } = req.query;
      assertPlatformsAvailable(platform);
      const scope = fingerprint(req.actor.teamId, 'account-links', { platform: platform && [...platform].sort(), status: status && [...status].sort() });
      const after = cursor === undefined ? undefined : decodeCursor(cursor, scope);
      const links = (await listAccountLinks(ctx, req.actor.teamId)).filter((l) => (!platform || platform.includes(l.platform)) && (!status || status.includes(l.status)));
      const { page, nextCursor } = pageOf(links, byCreation, limit, after, scope);
      return { data: page.map(v2AccountLink), nextCursor };
    },
  );

  api.get(
    '/account-links/:accountLinkId',
    { schema: { tags: ['Account links'], summary: 'An account link, with its capabilities', params: z.object({ accountLinkId: IdSchema }), response: { 200: AccountLinkSchema, ...errorResponses } } },
    async (req) => v2AccountLink(presentAccountLink(await getAccountLinkRow(ctx.db, req.actor.teamId, req.params.accountLinkId))),
  );
}
