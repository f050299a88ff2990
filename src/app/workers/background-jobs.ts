import { CAMPAIGN_SYNC, finishSync, runCampaignSync } from '../campaigns/sync.js';
import type { AppContext } from '../context.js';
import { runAudienceImport } from '../lists/audience-imports.js';
import { CSV_IMPORT, dropUpload, FOLLOWERS_IMPORT, LIKES_IMPORT, runCsvImport } from '../lists/imports.js';
import { JobRunner, type JobRunnerOptions } from './jobs.js';

/** A job runner that knows every kind of background job; `serve`, the CLI and tests all use this one. */
export function createJobRunner(ctx: AppContext, options?: JobRunnerOptions): JobRunner {
  return new JobRunner(ctx, options)
    .register(CSV_IMPORT, runCsvImport, dropUpload)
    .register(FOLLOWERS_IMPORT, runAudienceImport)
    .register(LIKES_IMPORT, runAudienceImport)
    .register(CAMPAIGN_SYNC, runCampaignSync, finishSync);
}
