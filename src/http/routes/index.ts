import type { AppContext } from '../../app/context.js';
import type { Api } from '../api.js';
import { eventRoutes } from './events.js';
import { tagAndStatusRoutes } from './labels.js';
import { teamRoutes } from './team.js';
import { webhookRoutes } from './webhooks.js';

export function registerApiRoutes(api: Api, ctx: AppContext): void {
  teamRoutes(api, ctx);
  tagAndStatusRoutes(api, ctx);
  eventRoutes(api, ctx);
  webhookRoutes(api, ctx);
}
