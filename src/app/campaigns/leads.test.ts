import { beforeAll, describe, expect, it } from 'vitest';
import { testContext } from '../../../test/helpers/app.js';
import { linkSandboxAccount } from '../accounts/account-links.js';
import type { AppContext } from '../context.js';
import { putSandboxProfile } from '../../platforms/sandbox.js';
import { createTeam } from '../team/teams.js';
import { createCampaign } from './campaigns.js';
import { addCampaignLeads, listCampaignLeads } from './leads.js';

let ctx: AppContext;
let next = 0;
const uniqueId = () => `7${String(process.pid % 1000).padStart(3, '0')}${String(Date.now() % 1e9).padStart(9, '0')}${String(++next).padStart(3, '0')}`;

beforeAll(async () => {
  ctx = await testContext();
});

async function draftCampaign() {
  const { team } = await createTeam(ctx.db, 'Leads use case', ctx.clock.now());
  const account = await linkSandboxAccount(ctx, team.id, { username: `u${uniqueId()}` });
  const campaign = await createCampaign(ctx, team.id, { name: 'Direct', accountLinkIds: [account.id] });
  return { teamId: team.id, campaignId: campaign.id };
}

const byId = (value: string) => ({ ref: { by: 'platformId' as const, value } });

describe('addCampaignLeads (the one door for direct leads: API, web app and simulation)', () => {
  it('lets the lead rules decide each lead: closed DMs are kept out, a repeat is skipped', async () => {
    const { teamId, campaignId } = await draftCampaign();
    const [open, closed] = [uniqueId(), uniqueId()];
    await putSandboxProfile(ctx.db, closed, { dmsOpen: false }, ctx.clock.now());

    const result = await addCampaignLeads(ctx, teamId, campaignId, [byId(open), byId(closed), byId(open)]);
    expect(result).toMatchObject({ added: 1, skipped: 1, failed: 0 });

    const states = (await listCampaignLeads(ctx, teamId, campaignId, { limit: 10 })).map((l) => [l.prospect.platformId, l.state]);
    expect(states).toEqual(
      expect.arrayContaining([
        [open, 'pending'],
        [closed, 'excluded'],
      ]),
    );
    // Added again, the pending lead is not added twice.
    expect(await addCampaignLeads(ctx, teamId, campaignId, [byId(open)])).toMatchObject({ added: 0, skipped: 1 });
  });

  it('refuses a campaign of another team as not found', async () => {
    const { campaignId } = await draftCampaign();
    const other = await draftCampaign();
    await expect(addCampaignLeads(ctx, other.teamId, campaignId, [byId(uniqueId())])).rejects.toMatchObject({ status: 404, code: 'CAMPAIGN_NOT_FOUND' });
  });
});
