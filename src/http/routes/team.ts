import { z } from 'zod';
import { changeMemberRole, getMember, listMembers, removeMember } from '../../app/team/members.js';
import { getTeam, presentTeam } from '../../app/team/teams.js';
import {
  assertCanManageTokens,
  createToken,
  listTokens,
  revokeToken,
  type TokenInfo,
} from '../../app/team/tokens.js';
import type { AppContext } from '../../app/context.js';
import { iso, isoOrNull } from '../../core/time.js';
import type { Api } from '../api.js';
import { EmptyBody, errorResponses, IdSchema } from '../schemas/common.js';
import { CreatedTokenSchema, MemberParams, MemberSchema, TeamSchema, TokenSchema, UpdateMemberBody } from '../schemas/team.js';

const presentToken = (t: TokenInfo) => ({
  id: t.id,
  name: t.name,
  hint: t.hint,
  memberId: t.memberId,
  createdAt: iso(t.createdAt),
  lastUsedAt: isoOrNull(t.lastUsedAt),
  revokedAt: isoOrNull(t.revokedAt),
});

export function teamRoutes(api: Api, ctx: AppContext): void {
  api.get(
    '/team',
    { schema: { tags: ['Team'], summary: 'Get the team that owns the token', response: { 200: TeamSchema, ...errorResponses } } },
    async (req) => presentTeam(await getTeam(ctx.db, req.actor.teamId)),
  );

  api.get(
    '/members',
    { schema: { tags: ['Members'], summary: 'List team members', response: { 200: z.array(MemberSchema), ...errorResponses } } },
    async (req) => listMembers(ctx.db, req.actor.teamId),
  );

  api.get(
    '/members/:memberId',
    {
      schema: {
        tags: ['Members'],
        summary: 'Get a team member',
        params: MemberParams,
        response: { 200: MemberSchema, ...errorResponses },
      },
    },
    async (req) => getMember(ctx.db, req.actor.teamId, req.params.memberId),
  );

  api.patch(
    '/members/:memberId',
    {
      schema: {
        tags: ['Members'],
        summary: "Change a member's role (owners and admins; only owners make or change an owner; a team keeps one owner)",
        params: MemberParams,
        body: UpdateMemberBody,
        response: { 200: MemberSchema, ...errorResponses },
      },
    },
    async (req) => changeMemberRole(ctx.db, req.actor, req.params.memberId, req.body.role, ctx.clock.now()),
  );

  api.delete(
    '/members/:memberId',
    {
      schema: {
        tags: ['Members'],
        summary: 'Remove a member from the team: their sessions end and their API tokens stop working',
        params: MemberParams,
        body: EmptyBody,
      },
    },
    async (req, reply) => {
      await removeMember(ctx.db, req.actor, req.params.memberId);
      return reply.code(204).send();
    },
  );

  api.get(
    '/tokens',
    { schema: { tags: ['Tokens'], summary: 'List API tokens', response: { 200: z.array(TokenSchema), ...errorResponses } } },
    async (req) => {
      assertCanManageTokens(req.actor);
      return (await listTokens(ctx.db, req.actor.teamId)).map(presentToken);
    },
  );

  api.post(
    '/tokens',
    {
      schema: {
        tags: ['Tokens'],
        summary: 'Create an API token (the secret is shown once)',
        body: z.object({ name: z.string().min(1).max(255) }),
        response: { 200: CreatedTokenSchema, ...errorResponses },
      },
    },
    async (req) => {
      assertCanManageTokens(req.actor);
      const created = await createToken(
        ctx.db,
        { teamId: req.actor.teamId, memberId: req.actor.memberId, name: req.body.name },
        ctx.clock.now(),
      );
      return { ...presentToken(created), token: created.token };
    },
  );

  api.delete(
    '/tokens/:tokenId',
    {
      schema: {
        tags: ['Tokens'],
        summary: 'Revoke an API token',
        params: z.object({ tokenId: IdSchema }),
        response: { 200: TokenSchema, ...errorResponses },
      },
    },
    async (req) => {
      assertCanManageTokens(req.actor);
      return presentToken(await revokeToken(ctx.db, req.actor.teamId, req.params.tokenId, ctx.clock.now()));
    },
  );
}
