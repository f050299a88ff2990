import { z } from 'zod';
import { linkSandboxAccount, listAccountLinks, updateAccountLink } from '../../app/accounts/account-links.js';
import type { AppContext } from '../../app/context.js';
import type { Api } from '../api.js';
import { onlyAdmins } from '../auth.js';
import { AccountLinkParams, AccountLinkSchema, LinkSandboxBody, UpdateAccountLinkBody } from '../schemas/account-links.js';
import { errorResponses } from '../schemas/common.js';
import { xAuthorizeRoute } from './x.js';

const tags = ['Account links'];
const response = { 200: AccountLinkSchema, ...errorResponses };
const preHandler = onlyAdmins('account links');

export function accountLinkRoutes(api: Api, ctx: AppContext): void {
  api.get(
    '/account-links',
    { schema: { tags, summary: 'List connected accounts', response: { 200: z.array(AccountLinkSchema), ...errorResponses } } },
    async (req) => listAccountLinks(ctx, req.actor.teamId),
  );
  api.post(
    '/account-links/sandbox',
    { schema: { tags, summary: 'Link a sandbox account (created if the username is new); linking again re-activates it', body: LinkSandboxBody, response }, preHandler },
    async (req) => linkSandboxAccount(ctx, req.actor.teamId, req.body),
  );
  api.patch(
    '/account-links/:accountLinkId',
    { schema: { tags, summary: "Change an account's status or sending limits", params: AccountLinkParams, body: UpdateAccountLinkBody, response }, preHandler },
    async (req) => updateAccountLink(ctx, req.actor.teamId, req.params.accountLinkId, req.body),
  );
  xAuthorizeRoute(api, ctx);
}
