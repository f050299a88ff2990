import { z } from 'zod';
import type { AppContext } from '../../app/context.js';
import { Forecasts } from '../../runtimes/forecast.js';
import type { Api } from '../api.js';
import { CampaignParams } from '../schemas/campaigns.js';
import { errorResponses, TimestampSchema } from '../schemas/common.js';

export const ForecastSchema = z
  .object({
    completedAt: TimestampSchema.nullable(),
    sendsPerDay: z.array(
      z.object({
        date: z.string(),
        sends: z.number().int(),
        byAccount: z.record(z.string(), z.number().int()).describe('account link id -> its sends that day (our extension)'),
      }),
    ),
  })
  .meta({ id: 'CampaignForecast' });

export function campaignForecastRoutes(api: Api, ctx: AppContext): void {
  const forecasts = new Forecasts(ctx);
  api.get(
    '/campaigns/v2/:campaignId/forecast',
    {
      schema: {
        tags: ['Campaigns'],
        summary: 'Forecast when the campaign completes and how many sends go out per day (no replies assumed)',
        params: CampaignParams,
        response: { 200: ForecastSchema, ...errorResponses },
      },
    },
    async (req, reply) => {
      // A client that closes the connection before its answer is written no longer waits for the forecast.
      const gone = new AbortController();
      reply.raw.once('close', () => {
        if (!reply.raw.writableFinished) gone.abort();
      });
      return forecasts.forecast(req.actor.teamId, req.params.campaignId, gone.signal);
    },
  );
}
