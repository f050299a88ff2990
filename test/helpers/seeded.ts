import type { TeamClient } from './app.js';
import { readyCampaign } from './campaigns.js';
import { conversation, ok } from './sandbox.js';

/** Real ids of a team that has one of everything, by path parameter name. */
export async function seededIds(team: TeamClient): Promise<(name: string, path: string) => string> {
  const chat = await conversation(team);
  const campaign = await readyCampaign(team);
  const tag = await ok(team.request('POST', '/api/v1/tags', { name: 'Fuzzed' }));
  const status = await ok(team.request('POST', '/api/v1/statuses', { name: 'Fuzzed' }));
  const list = await ok(team.request('POST', '/api/v1/lists', { name: 'Fuzzed' }));
  const listColumn = await ok(team.request('POST', `/api/v1/lists/${list.id}/columns`, { name: 'Role' }));
  const campaignColumn = await ok(team.request('POST', `/api/v1/campaigns/v2/${campaign.id}/columns`, { name: 'Role' }));
  const webhook = await ok(team.request('POST', '/api/v1/webhooks', { url: 'https://example.com/hook', eventTypes: ['*'] }));
  const token = await ok(team.request('POST', '/api/v1/tokens', { name: 'fuzzed' }));
  const ids: Record<string, string> = {
    memberId: team.ownerMemberId,
    tokenId: token.id,
    tagId: tag.id,
    statusId: status.id,
    accountLinkId: chat.account.id,
    threadId: chat.thread.id,
    messageId: chat.first.id,
    prospectId: chat.prospectId,
    platformId: chat.from,
    webhookId: webhook.id,
    campaignId: campaign.id,
    identifier: campaign.prospectId,
    listId: list.id,
    importJobId: 'nope',
  };
  return (name, path) => (name === 'columnId' ? (path.startsWith('/api/v1/lists') ? listColumn.id : campaignColumn.id) : (ids[name] ?? 'nope'));
}
