import { expect } from 'vitest';
import { newId } from '../../src/core/ids.js';
import type { LeadState } from '../../src/store/schema-campaigns.js';
import type { TeamClient } from './app.js';
import { sharedStore } from './store.js';

let counter = 0;
/** A platform id no other test uses: sandbox users are global, like X's. */
export const uniquePlatformId = () => `8${Date.now()}${String(++counter).padStart(3, '0')}${process.pid % 100}`;

export async function linkAccount(team: TeamClient): Promise<{ id: string }> {
  const response = await team.request('POST', '/api/v1/account-links/sandbox', { username: `c${uniquePlatformId().slice(-12)}` });
  expect(response.statusCode, response.body).toBe(200);
  return response.json();
}

export interface ProfileInput {
  displayName?: string;
  bio?: string | null;
  location?: string | null;
}

/** A real prospect of the team: a sandbox profile, then a thread with it from `accountLinkId`. */
export async function newProspect(
  team: TeamClient,
  accountLinkId: string,
  profile: ProfileInput = {},
): Promise<{ id: string; platformId: string; username: string }> {
  const platformId = uniquePlatformId();
  const username = `p${platformId.slice(-13)}`;
  const put = await team.request('PUT', `/api/v1/sandbox/profiles/${platformId}`, { username, ...profile });
  expect(put.statusCode, put.body).toBe(200);
  const thread = await team.request('POST', '/api/v1/threads', { accountLinkId, externalPlatformId: platformId });
  expect(thread.statusCode, thread.body).toBe(200);
  const { db } = await sharedStore();
  const row = await db
    .selectFrom('prospects')
    .select('id')
    .where('team_id', '=', team.teamId)
    .where('platform_id', '=', platformId)
    .executeTakeFirstOrThrow();
  return { id: row.id, platformId, username };
}

/** Puts a prospect into a campaign directly (the add-leads endpoint is another module's). */
export async function insertLead(
  team: TeamClient,
  campaignId: string,
  prospectId: string,
  fields: { state?: LeadState; data?: Record<string, unknown>; contacted?: boolean; replied?: boolean } = {},
): Promise<void> {
  const { db } = await sharedStore();
  const now = new Date();
  await db
    .insertInto('campaign_leads')
    .values({
      id: newId(),
      campaign_id: campaignId,
      team_id: team.teamId,
      prospect_id: prospectId,
      state: fields.state ?? 'pending',
      direct: true,
      account_link_id: null,
      data: JSON.stringify(fields.data ?? {}),
      sequence_version: null,
      next_step_at: null,
      contacted_at: fields.contacted ? now : null,
      last_contact_at: fields.contacted ? now : null,
      replied_at: fields.replied ? now : null,
      finished_at: null,
      failure_reason: null,
      created_at: now,
      updated_at: null,
    })
    .execute();
}

export const HELLO_SEQUENCE = {
  steps: [
    { type: 'message', data: { segments: [{ type: 'static', text: 'Hi ' }, { type: 'variable', name: 'first-name', fallback: 'there' }] } },
    { type: 'delay', data: { delaySeconds: 86_400, unit: 'days' } },
    { type: 'message', data: { segments: [{ type: 'static', text: 'Following up!' }] } },
  ],
};

/** A draft with an active account, a valid sequence and one pending lead: enable succeeds. */
export async function readyCampaign(team: TeamClient, name = 'Ready'): Promise<{ id: string; accountLinkId: string; prospectId: string }> {
  const account = await linkAccount(team);
  const created = await team.request('POST', '/api/v1/campaigns/v2', { name, accountLinkIds: [account.id] });
  expect(created.statusCode, created.body).toBe(200);
  const { id } = created.json();
  expect((await team.request('PUT', `/api/v1/campaigns/v2/${id}/sequence`, HELLO_SEQUENCE)).statusCode).toBe(200);
  const prospect = await newProspect(team, account.id);
  await insertLead(team, id, prospect.id);
  return { id, accountLinkId: account.id, prospectId: prospect.id };
}

export async function eventTypes(team: TeamClient): Promise<string[]> {
  return (await team.request('GET', '/api/v1/events')).json().events.map((e: { type: string }) => e.type);
}
