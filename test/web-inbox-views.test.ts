import { describe, expect, it } from 'vitest';
import { browserSuite, inboundDm, newWebTeam, selectedThread, signIn, threadLink, threadList } from './helpers/browser.js';
import { addMember } from './helpers/session.js';
import { sharedStore } from './helpers/store.js';

const suite = browserSuite();

const page = suite.page;

const threadIdOf = (url: string) => /\/app\/inbox\/([0-9a-z]+)$/.exec(url)?.[1];

describe('the inbox views, filters and URL', () => {
  it('shows unread counts beside the views, Mine, Unassigned and each account, and keeps them live', async () => {
    const team = await newWebTeam(suite.rig());
    const { accountLinkId } = await inboundDm(team, 'first', { name: 'Count One' });
    await inboundDm(team, 'second', { accountLinkId, name: 'Count Two' });
    const username = (await team.request('GET', '/api/v1/account-links')).json().find((link: { id: string }) => link.id === accountLinkId).username as string;
    const p = await page();
    await signIn(p, team.email);
    const views = p.getByRole('navigation', { name: 'Views' });
    const button = (name: string) => views.getByRole('button', { name, exact: true });
    await button('Inbox 2 unread').waitFor();
    await button('Unassigned 2 unread').waitFor();
    await button(`@${username} 2 unread`).waitFor();
    expect(await button('Mine').count()).toBe(1);
    expect(await button('Requests').count()).toBe(1);

    // A DM arriving and an assignment made elsewhere show up without a reload.
    await inboundDm(team, 'third', { accountLinkId, name: 'Count Three' });
    await button('Inbox 3 unread').waitFor();
    const [newest] = (await team.request('GET', '/api/v1/threads')).json().threads;
    await team.request('PATCH', `/api/v1/threads/${newest.id}`, { assigneeId: team.ownerMemberId });
    await button('Mine 1 unread').waitFor();
    await button('Unassigned 2 unread').waitFor();

    // Reading a thread takes it off the counts.
    await threadLink(p, /Count One/).click();
    await button('Inbox 2 unread').waitFor();
  });

  it('filters the list by tag, status, assignee, account and campaign', async () => {
    const team = await newWebTeam(suite.rig());
    const tag = (await team.request('POST', '/api/v1/tags', { name: 'Hot' })).json();
    const status = (await team.request('POST', '/api/v1/statuses', { name: 'Qualified' })).json();
    const { accountLinkId } = await inboundDm(team, 'tagged', { name: 'Tagged Person' });
    await inboundDm(team, 'with status', { accountLinkId, name: 'Status Person' });
    await inboundDm(team, 'assigned', { accountLinkId, name: 'Assigned Person' });
    await inboundDm(team, 'campaign', { accountLinkId, name: 'Campaign Person' });
    const other = await inboundDm(team, 'elsewhere', { name: 'Other Account Person' });
    const campaign = (await team.request('POST', '/api/v1/campaigns/v2', { name: 'Spring', accountLinkIds: [accountLinkId] })).json();
    const byName = new Map<string, any>((await team.request('GET', '/api/v1/threads?limit=50')).json().threads.map((t: any) => [t.prospect.displayName, t]));
    const prospectOf = (name: string) => byName.get(name).prospect.externalId;
    await team.request('PATCH', `/api/v1/prospects/${prospectOf('Tagged Person')}/context`, { addTags: [tag.id] });
    await team.request('PATCH', `/api/v1/prospects/${prospectOf('Status Person')}/context`, { statusId: status.id });
    await team.request('PATCH', `/api/v1/threads/${byName.get('Assigned Person').id}`, { assigneeId: team.ownerMemberId });
    // The engine marks the messages it sends with their campaign; here the store stands in for it.
    const { db } = await sharedStore();
    await db.updateTable('messages').set({ campaign_id: campaign.id }).where('thread_id', '=', byName.get('Campaign Person').id).where('content', '=', 'Hello from us').execute();

    const p = await page();
    await signIn(p, team.email);
    const list = threadList(p);
    const people = ['Tagged Person', 'Status Person', 'Assigned Person', 'Campaign Person', 'Other Account Person'];
    const names = async () => (await list.getByRole('listitem').allTextContents()).map((text) => people.find((name) => text.includes(name))).join(', ');
    await expect.poll(() => list.getByRole('listitem').count()).toBe(5);
    const cases: Array<[string, string, string]> = [
      ['Tag', 'Hot', 'Tagged Person'],
      ['Status', 'Qualified', 'Status Person'],
      ['Assignee', 'Owner', 'Assigned Person'],
      ['Campaign', 'Spring', 'Campaign Person'],
    ];
    for (const [filter, option, expected] of cases) {
      const select = p.getByRole('combobox', { name: filter });
      await select.selectOption({ label: option });
      await expect.poll(names).toBe(expected);
      await select.selectOption({ label: `${filter}: any` });
      await expect.poll(() => list.getByRole('listitem').count()).toBe(5);
    }
    await p.getByRole('combobox', { name: 'Account' }).selectOption(other.accountLinkId);
    await expect.poll(names).toBe('Other Account Person');
  });

  it('edits the status, tags, valuation and assignee in the prospect panel: each shows at once and is saved', async () => {
    const team = await newWebTeam(suite.rig());
    const tag = (await team.request('POST', '/api/v1/tags', { name: 'Warm' })).json();
    const status = (await team.request('POST', '/api/v1/statuses', { name: 'Qualified' })).json();
    const colleague = await addMember(team.teamId, 'user');
    await inboundDm(team, 'tell me more', { name: 'Panel Person' });
    const [thread] = (await team.request('GET', '/api/v1/threads')).json().threads;
    const context = async () => (await team.request('GET', `/api/v1/threads/${thread.id}`)).json().prospect.context;
    const p = await page();
    await signIn(p, team.email);
    const row = threadLink(p, /Panel Person/);
    await row.click();
    const panel = p.getByRole('complementary', { name: 'Prospect' });

    await panel.getByRole('combobox', { name: 'Status' }).selectOption({ label: 'Qualified' });
    await row.getByText('Qualified').waitFor();
    await expect.poll(async () => (await context()).statusId).toBe(status.id);

    await panel.getByRole('combobox', { name: 'Add tag' }).selectOption({ label: 'Warm' });
    await row.getByText('Warm').waitFor();
    await expect.poll(async () => (await context()).tags).toEqual([tag.id]);
    await panel.getByRole('button', { name: 'Remove tag Warm' }).click();
    await row.getByText('Warm').waitFor({ state: 'detached' });
    await expect.poll(async () => (await context()).tags).toEqual([]);

    const valuation = panel.getByRole('textbox', { name: 'Valuation' });
    await valuation.fill('1500');
    await valuation.press('Enter');
    await expect.poll(async () => (await context()).valuation).toBe(1500);

    await panel.getByRole('combobox', { name: 'Assignee' }).selectOption({ label: 'A user' });
    await row.getByText('@ A user').waitFor();
    await expect.poll(async () => (await context()).assigneeId).toBe(colleague.memberId);
    expect((await team.request('GET', `/api/v1/threads/${thread.id}`)).json().assigneeId).toBe(colleague.memberId);

    // A reload shows what was saved, not what the page remembered.
    await p.reload();
    await expect.poll(() => panel.getByRole('combobox', { name: 'Status' }).inputValue()).toBe(status.id);
    await expect.poll(() => panel.getByRole('textbox', { name: 'Valuation' }).inputValue()).toBe('1500');
    await expect.poll(() => panel.getByRole('combobox', { name: 'Assignee' }).inputValue()).toBe(colleague.memberId);
  });

  it('shows a status change made elsewhere, through the API, while the page is open', async () => {
    const team = await newWebTeam(suite.rig());
    const status = (await team.request('POST', '/api/v1/statuses', { name: 'Meeting booked' })).json();
    await inboundDm(team, 'let us talk', { name: 'Live Status' });
    const [thread] = (await team.request('GET', '/api/v1/threads')).json().threads;
    const p = await page();
    await signIn(p, team.email);
    const row = threadLink(p, /Live Status/);
    await row.click();
    const panel = p.getByRole('complementary', { name: 'Prospect' });
    // The status list is loaded once the Status field offers it; the change itself comes only from the event stream.
    await panel.getByRole('option', { name: 'Meeting booked' }).waitFor({ state: 'attached' });
    expect((await team.request('PATCH', `/api/v1/prospects/${thread.prospect.externalId}/context`, { statusId: status.id })).statusCode).toBe(200);
    await row.getByText('Meeting booked').waitFor();
    await expect.poll(() => panel.getByRole('combobox', { name: 'Status' }).inputValue()).toBe(status.id);
  });

  it('puts the open thread in the URL, so reload, back and forward keep it', async () => {
    const team = await newWebTeam(suite.rig());
    const { accountLinkId } = await inboundDm(team, 'message of first', { name: 'First Url' });
    await inboundDm(team, 'message of second', { accountLinkId, name: 'Second Url' });
    const p = await page();
    await signIn(p, team.email);
    const log = p.getByRole('log', { name: 'Messages' });
    await threadLink(p, /First Url/).click();
    await log.getByText('message of first').waitFor();
    const first = threadIdOf(p.url());
    expect(first).toBeTruthy();
    await threadLink(p, /Second Url/).click();
    await log.getByText('message of second').waitFor();
    const second = threadIdOf(p.url());
    expect(second).toBeTruthy();
    expect(second).not.toBe(first);

    await p.goBack();
    await log.getByText('message of first').waitFor();
    expect(threadIdOf(p.url())).toBe(first);
    await p.goForward();
    await log.getByText('message of second').waitFor();
    await p.reload();
    await log.getByText('message of second').waitFor();
    await selectedThread(p).filter({ hasText: /Second Url/ }).waitFor();
    await p.goto('/app');
    await p.getByText('Select a thread').waitFor();
  });

  it('keeps a draft per thread while switching between threads', async () => {
    const team = await newWebTeam(suite.rig());
    const { accountLinkId } = await inboundDm(team, 'one', { name: 'Draft One' });
    await inboundDm(team, 'two', { accountLinkId, name: 'Draft Two' });
    const p = await page();
    await signIn(p, team.email);
    const reply = p.getByRole('textbox', { name: 'Reply' });
    await threadLink(p, /Draft One/).click();
    await reply.fill('for one');
    await threadLink(p, /Draft Two/).click();
    await expect.poll(() => reply.inputValue()).toBe('');
    await reply.fill('for two');
    await threadLink(p, /Draft One/).click();
    await expect.poll(() => reply.inputValue()).toBe('for one');
    await threadLink(p, /Draft Two/).click();
    await expect.poll(() => reply.inputValue()).toBe('for two');
  });

  it('lists the campaigns the prospect is in, with its state there, beside the conversation', async () => {
    const team = await newWebTeam(suite.rig());
    const { accountLinkId } = await inboundDm(team, 'hello', { name: 'Campaign Lead' });
    const [thread] = (await team.request('GET', '/api/v1/threads')).json().threads;
    const campaign = (await team.request('POST', '/api/v1/campaigns/v2', { name: 'Autumn push', accountLinkIds: [accountLinkId] })).json();
    expect((await team.request('POST', `/api/v1/campaigns/v2/${campaign.id}/leads`, { externalIds: [thread.prospect.externalId] })).statusCode).toBe(200);
    const [{ state }] = (await team.request('GET', `/api/v1/prospects/${thread.prospect.externalId}/campaigns`)).json();
    const p = await page();
    await signIn(p, team.email);
    await threadLink(p, /Campaign Lead/).click();
    const panel = p.getByRole('region', { name: 'Campaigns of the prospect' });
    await panel.getByText('Autumn push').waitFor();
    await panel.getByText(state, { exact: true }).waitFor();
    await panel.getByText('campaign draft').waitFor();
  });

  it('opens a command palette with Ctrl+K that goes to views and pages and finds a thread', async () => {
    const team = await newWebTeam(suite.rig());
    const { accountLinkId } = await inboundDm(team, 'find me by palette', { name: 'Palette Person' });
    await inboundDm(team, 'done and dusted', { accountLinkId, name: 'Filed Away' });
    const filed = (await team.request('GET', '/api/v1/threads')).json().threads.find((t: any) => t.prospect.displayName === 'Filed Away');
    await team.request('PATCH', `/api/v1/threads/${filed.id}`, { done: true });
    const p = await page();
    await signIn(p, team.email);
    await threadList(p).getByRole('listitem').first().waitFor();
    await p.keyboard.press('?');
    const help = p.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await help.getByText('Ctrl/Cmd + K').waitFor();
    await help.getByRole('button', { name: 'Close' }).click();
    const palette = p.getByRole('dialog', { name: 'Command palette' });
    const command = palette.getByRole('combobox', { name: 'Command' });

    await p.keyboard.press('Control+k');
    await command.fill('sett');
    await palette.getByRole('option', { name: 'Go to Settings', selected: true }).waitFor();
    await p.keyboard.press('Enter');
    await p.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
    await palette.waitFor({ state: 'hidden' });

    await p.keyboard.press('Control+k');
    await command.fill('requ');
    await palette.getByRole('option', { name: 'Go to Requests' }).click();
    await p.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: /^Requests/, pressed: true }).waitFor();

    await p.keyboard.press('Control+k');
    await command.fill('Inbox');
    await p.keyboard.press('Enter');
    await p.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: /^Inbox/, pressed: true }).waitFor();

    // From the search box too: the palette opens while typing in a field.
    await p.getByRole('searchbox', { name: 'Search' }).focus();
    await p.keyboard.press('Control+k');
    await command.fill('palette');
    await palette.getByRole('option', { name: /Open Palette Person/ }).waitFor();
    await p.keyboard.press('ArrowDown');
    await palette.getByRole('option', { name: /Open Palette Person/, selected: true }).waitFor();
    await p.keyboard.press('Enter');
    await p.getByRole('log', { name: 'Messages' }).getByText('find me by palette').waitFor();
    expect(threadIdOf(p.url())).toBeTruthy();

    // An archived thread is found too, and opens although the list shows the inbox.
    await p.keyboard.press('Control+k');
    await command.fill('filed');
    await palette.getByRole('option', { name: /Open Filed Away .* in Archived/ }).click();
    await p.getByRole('log', { name: 'Messages' }).getByText('done and dusted').waitFor();
    expect(threadIdOf(p.url())).toBe(filed.id);
    await p.getByRole('region', { name: 'Conversation' }).getByRole('button', { name: 'Reopen' }).waitFor();
  });
});
