import type { AppContext } from '../../app/context.js';
import type { Api } from '../api.js';
import { accountLinkRoutes } from './account-links.js';
import { authRoutes } from './auth.js';
import { campaignForecastRoutes } from './campaign-forecast.js';
import { campaignLeadRoutes } from './campaign-leads.js';
import { campaignRoutes } from './campaigns.js';
import { eventRoutes } from './events.js';
import { importJobRoutes } from './import-jobs.js';
import { tagAndStatusRoutes } from './labels.js';
import { listImportJobRoutes } from './list-import-jobs.js';
import { listRoutes } from './lists.js';
import { messageRoutes } from './messages.js';
import { prospectTableRoutes } from './prospect-table.js';
import { prospectRoutes } from './prospects.js';
import { sandboxRoutes } from './sandbox.js';
import { teamRoutes } from './team.js';
import { threadRoutes } from './threads.js';
import { webhookRoutes } from './webhooks.js';

export function registerApiRoutes(api: Api, ctx: AppContext): void {
  teamRoutes(api, ctx);
  authRoutes(api, ctx);
  tagAndStatusRoutes(api, ctx);
  eventRoutes(api, ctx);
  accountLinkRoutes(api, ctx);
  threadRoutes(api, ctx);
  messageRoutes(api, ctx);
  prospectRoutes(api, ctx);
  prospectTableRoutes(api, ctx);
  sandboxRoutes(api, ctx);
  webhookRoutes(api, ctx);
  campaignRoutes(api, ctx);
  campaignLeadRoutes(api, ctx);
  campaignForecastRoutes(api, ctx);
  listRoutes(api, ctx);
  importJobRoutes(api, ctx);
  listImportJobRoutes(api, ctx);
}
