import type { z } from 'zod';
import type { ForecastSchema } from '../../../src/http/routes/campaign-forecast.js';
import type { CampaignLeadPageSchema, CampaignLeadSchema } from '../../../src/http/schemas/campaign-leads.js';
import type {
  AutomationSchema,
  CampaignSchema,
  CampaignStatsSchema,
  ColumnSchema,
  PutSequenceBody,
  SequencePreviewSchema,
  SequenceVersionSchema,
} from '../../../src/http/schemas/campaigns.js';
import type { ListSchema } from '../../../src/http/schemas/lists.js';

// The campaign pages' types, from the API's own schemas.
export type Campaign = z.infer<typeof CampaignSchema>;
export type Column = z.infer<typeof ColumnSchema>;
export type Automation = z.infer<typeof AutomationSchema>;
export type SequenceVersion = z.infer<typeof SequenceVersionSchema>;
export type SequencePreview = z.infer<typeof SequencePreviewSchema>;
export type CampaignStats = z.infer<typeof CampaignStatsSchema>;
export type Forecast = z.infer<typeof ForecastSchema>;
export type List = z.infer<typeof ListSchema>;
export type CampaignLeadPage = z.infer<typeof CampaignLeadPageSchema>;
/** A step as the editor holds it: the PUT body's shape. */
export type EditStep = z.infer<typeof PutSequenceBody>['steps'][number];
export type Segment = Extract<EditStep, { type: 'message' }>['data']['segments'][number];
export type Schedule = Campaign['schedule'];

export type CampaignLead = z.infer<typeof CampaignLeadSchema>;
/** Why a lead is waiting: the API's own union (one shape per reason). */
export type WaitingFor = NonNullable<CampaignLead['waitingFor']>;

export const LEAD_STATES = ['pending', 'active', 'replied', 'completed', 'cancelled', 'failed', 'excluded'] as const;

export const percent = (ratio: number) => `${Math.round(ratio * 1000) / 10}%`;

export const campaignPath = (id: string, rest = '') => `/campaigns/v2/${id}${rest}`;
