import { linkSandboxAccount, updateAccountLink } from '../../src/app/accounts/account-links.js';
import { replaceSequence } from '../../src/app/campaigns/sequence.js';
import { createCampaign, enableCampaign } from '../../src/app/campaigns/campaigns.js';
import type { AppContext } from '../../src/app/context.js';
import { createTeam } from '../../src/app/team/teams.js';
import type { Schedule } from '../../src/core/schedule.js';
import type { SequenceStep } from '../../src/core/sequence.js';
import { addSandboxLeads } from '../../src/runtimes/simulation.js';
import { allWeek, message } from './simulation.js';

let next = 0;
/** Sandbox users are global: ids and usernames no other test in this process uses. */
const uniqueNumber = () => `9${String(process.pid % 1000).padStart(3, '0')}${String(Date.now() % 1e9).padStart(9, '0')}${String(++next).padStart(4, '0')}`;
export const uniqueUsername = () => `e${uniqueNumber()}`;

export interface EngineSetup {
  accounts?: Array<{ hourlyLimit?: number; dailyLimit?: number }>;
  campaigns?: Array<{
    messagesPerHour: number;
    leads: number;
    steps?: object[];
    /** open all week by default */
    schedule?: Schedule;
    timezone?: string;
    /** which of the accounts (by index) the campaign sends from: all by default */
    accounts?: number[];
  }>;
}

/** A team with sandbox accounts and active campaigns (open all week, sending from all of them by default), through the use cases. */
export async function setUpCampaigns(ctx: AppContext, { accounts = [{}], campaigns = [{ messagesPerHour: 10, leads: 1 }] }: EngineSetup) {
  const now = ctx.clock.now();
  const { team } = await createTeam(ctx.db, 'Engine', now);
  const accountIds: string[] = [];
  for (const limits of accounts) {
    const link = await linkSandboxAccount(ctx, team.id, { username: uniqueUsername() });
    await updateAccountLink(ctx, team.id, link.id, limits);
    accountIds.push(link.id);
  }
  const campaignIds: string[] = [];
  const leadIds: string[][] = [];
  for (const spec of campaigns) {
    const campaign = await createCampaign(ctx, team.id, {
      name: 'C',
      messagesPerHour: spec.messagesPerHour,
      schedule: spec.schedule ?? allWeek,
      ...(spec.timezone ? { timezone: spec.timezone } : {}),
      accountLinkIds: spec.accounts ? spec.accounts.map((i) => accountIds[i]!) : accountIds,
    });
    await replaceSequence(ctx, team.id, campaign.id, (spec.steps ?? [message('Hello')]) as SequenceStep[]);
    const ids = Array.from({ length: spec.leads }, uniqueNumber);
    await addSandboxLeads(ctx, team.id, campaign.id, ids);
    await enableCampaign(ctx, team.id, campaign.id);
    campaignIds.push(campaign.id);
    leadIds.push(ids);
  }
  return { teamId: team.id, accountIds, campaignIds, leadIds };
}
