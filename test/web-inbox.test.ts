import { describe, expect, it } from 'vitest';
import { browserSuite, inboundDm, newWebTeam, selectedThread, signIn, threadLink, threadList } from './helpers/browser.js';

const suite = browserSuite();

const page = suite.page;

describe('the web app', () => {
  it('redirects / to /app and an unauthenticated page to the sign-in page, and signs in', async () => {
    const team = await newWebTeam(suite.rig());
    const redirect = await suite.rig().app.inject({ method: 'GET', url: '/' });
    expect(redirect.statusCode).toBe(302);
    expect(redirect.headers.location).toBe('/app');
    const p = await page();
    await p.goto('/app');
    await p.waitForURL('**/app/sign-in');
    await signIn(p, team.email);
    const nav = p.getByRole('navigation', { name: 'Main' });
    for (const name of ['Inbox', 'Campaigns', 'Settings']) await nav.getByRole('link', { name }).waitFor();
    await threadList(p).waitFor();
    expect(p.url()).toMatch(/\/app$/);
  });

  it('shows the API message for a wrong password', async () => {
    const team = await newWebTeam(suite.rig());
    const p = await page();
    await signIn(p, team.email, 'not the password at all');
    await expect.poll(() => p.getByRole('alert').textContent()).toBe('The e-mail or password is incorrect');
  });

  it('reads a thread and replies with Ctrl+Enter; the draft survives a reload', async () => {
    const team = await newWebTeam(suite.rig());
    await inboundDm(team, 'Hi, is this still available?', { name: 'Ada Lovelace' });
    const p = await page();
    await signIn(p, team.email);
    await threadLink(p, /Ada Lovelace/).click();
    const log = p.getByRole('log', { name: 'Messages' });
    await log.getByText('Hi, is this still available?').waitFor();

    const reply = p.getByRole('textbox', { name: 'Reply' });
    await reply.fill('Kept draft');
    await p.reload();
    await threadLink(p, /Ada Lovelace/).click();
    await expect.poll(() => p.getByRole('textbox', { name: 'Reply' }).inputValue()).toBe('Kept draft');

    await p.getByRole('textbox', { name: 'Reply' }).fill('Yes it is.');
    await p.keyboard.press('Enter');
    await p.keyboard.type('Want a demo?');
    await p.keyboard.press('Control+Enter');
    await log.getByText(/Yes it is\.\s+Want a demo\?/).waitFor();
    await expect.poll(() => p.getByRole('textbox', { name: 'Reply' }).inputValue()).toBe('');

    const [thread] = (await team.request('GET', '/api/v1/threads')).json().threads;
    const sent = (await team.request('GET', `/api/v1/threads/${thread.id}/messages`)).json().messages;
    expect(sent[0].content).toBe('Yes it is.\nWant a demo?');
  });

  it('shows a DM that arrives while the page is open, without a reload', async () => {
    const team = await newWebTeam(suite.rig());
    const { accountLinkId, from } = await inboundDm(team, 'First question', { name: 'Grace Hopper' });
    const p = await page();
    await signIn(p, team.email);
    await threadLink(p, /Grace Hopper/).click();
    const log = p.getByRole('log', { name: 'Messages' });
    await log.getByText('First question').waitFor();
    // The page holds its event stream open; the DM comes in through the API meanwhile.
    await team.request('POST', '/api/v1/sandbox/inbound', { accountLinkId, fromPlatformId: from, content: 'Are you still there?' });
    await log.getByText('Are you still there?').waitFor();
    await threadLink(p, /Grace Hopper/).getByText('Are you still there?').waitFor();
  });

  it('moves the selection with j and k and opens it with Enter', async () => {
    const team = await newWebTeam(suite.rig());
    const { accountLinkId } = await inboundDm(team, 'one', { name: 'Prospect One' });
    await inboundDm(team, 'two', { accountLinkId, name: 'Prospect Two' });
    await inboundDm(team, 'three', { accountLinkId, name: 'Prospect Three' });
    const p = await page();
    await signIn(p, team.email);
    const list = threadList(p);
    await expect.poll(() => list.getByRole('listitem').count()).toBe(3);
    const selected = async () => (await selectedThread(p).textContent()) ?? '';
    await expect.poll(selected).toContain('Prospect Three');
    await p.keyboard.press('j');
    await expect.poll(selected).toContain('Prospect Two');
    await p.keyboard.press('j');
    await expect.poll(selected).toContain('Prospect One');
    await p.keyboard.press('k');
    await expect.poll(selected).toContain('Prospect Two');
    await p.keyboard.press('Enter');
    await p.getByRole('log', { name: 'Messages' }).getByText('two', { exact: true }).waitFor();
    // Typing in the reply box is not a shortcut.
    await p.keyboard.press('r');
    await p.keyboard.type('jk');
    await expect.poll(() => p.getByRole('textbox', { name: 'Reply' }).inputValue()).toBe('jk');
    await expect.poll(selected).toContain('Prospect Two');
  });

  it('leaves Enter and Space to the focused button or link while the inbox is open; Enter in the list opens the selected thread', async () => {
    const team = await newWebTeam(suite.rig());
    const { accountLinkId } = await inboundDm(team, 'first', { name: 'Enter One' });
    await inboundDm(team, 'second', { accountLinkId, name: 'Enter Two' });
    const p = await page();
    await signIn(p, team.email);
    const ids = new Map<string, string>((await team.request('GET', '/api/v1/threads')).json().threads.map((t: any) => [t.prospect.displayName, t.id]));
    const apiThread = async (name: string) => (await team.request('GET', `/api/v1/threads/${ids.get(name)}`)).json();
    const conversation = p.getByRole('region', { name: 'Conversation' });

    // The focus stays on the row clicked: j moves it (and the selection) to the next row, Enter opens that one.
    await threadLink(p, /Enter Two/).click();
    await p.getByRole('log', { name: 'Messages' }).getByText('second', { exact: true }).waitFor();
    await p.keyboard.press('j');
    await selectedThread(p).filter({ hasText: 'Enter One' }).waitFor();
    await expect.poll(() => p.evaluate(() => document.activeElement?.closest('li')?.textContent ?? '')).toContain('Enter One');
    await p.keyboard.press('Enter');
    await p.getByRole('log', { name: 'Messages' }).getByText('first', { exact: true }).waitFor();
    await expect.poll(async () => (await apiThread('Enter One')).unread).toBe(false);

    await conversation.getByRole('button', { name: 'Mark unread' }).focus();
    await p.keyboard.press('Enter');
    await expect.poll(async () => (await apiThread('Enter One')).unread).toBe(true);
    await threadLink(p, /Enter One/).getByText('Unread', { exact: true }).waitFor();

    await conversation.getByRole('button', { name: 'Assign to me' }).focus();
    await p.keyboard.press(' ');
    await expect.poll(async () => (await apiThread('Enter One')).assigneeId).toBe(team.ownerMemberId);

    await conversation.getByRole('button', { name: 'Done' }).focus();
    await p.keyboard.press('Enter');
    await expect.poll(async () => (await apiThread('Enter One')).done).toBe(true);

    const views = p.getByRole('navigation', { name: 'Views' });
    await views.getByRole('button', { name: /^Archived/ }).focus();
    await p.keyboard.press('Enter');
    await views.getByRole('button', { name: /^Archived/, pressed: true }).waitFor();
    await threadLink(p, /Enter One/).waitFor();

    await p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Campaigns' }).focus();
    await p.keyboard.press('Enter');
    await p.getByRole('heading', { name: 'Campaigns' }).waitFor();
    expect(p.url()).toMatch(/\/app\/campaigns$/);
  });

  it('focuses the tag and status fields with t and s and goes back to the inbox with g i; none of them fires while typing', async () => {
    const team = await newWebTeam(suite.rig());
    await inboundDm(team, 'hello', { name: 'Key Person' });
    const p = await page();
    await signIn(p, team.email);
    await threadLink(p, /Key Person/).click();
    const panel = p.getByRole('complementary', { name: 'Prospect' });
    const focused = (locator: ReturnType<typeof p.getByRole>) => locator.evaluate((element) => element === document.activeElement);
    // Clicking the messages (nothing focusable) puts the focus back on the page, as a person leaves a field.
    const leaveField = () => p.getByRole('log', { name: 'Messages' }).click();

    await leaveField();
    await p.keyboard.press('t');
    await expect.poll(() => focused(panel.getByRole('combobox', { name: 'Add tag' }))).toBe(true);
    await leaveField();
    await p.keyboard.press('s');
    await expect.poll(() => focused(panel.getByRole('combobox', { name: 'Status' }))).toBe(true);

    const threadUrl = p.url();
    const reply = p.getByRole('textbox', { name: 'Reply' });
    await reply.focus();
    await p.keyboard.type('tsgi');
    await expect.poll(() => reply.inputValue()).toBe('tsgi');
    expect(await focused(reply)).toBe(true);
    expect(p.url()).toBe(threadUrl);

    await leaveField();
    await p.keyboard.press('g');
    await p.keyboard.press('c');
    await p.getByRole('heading', { name: 'Campaigns' }).waitFor();
    await p.keyboard.press('g');
    await p.keyboard.press('i');
    await threadLink(p, /Key Person/).waitFor();
    expect(p.url()).toMatch(/\/app$/);
  });

  it('sends the reply with Cmd+Enter as with Ctrl+Enter', async () => {
    const team = await newWebTeam(suite.rig());
    await inboundDm(team, 'on a Mac?', { name: 'Mac Person' });
    const p = await page();
    await signIn(p, team.email);
    await threadLink(p, /Mac Person/).click();
    const reply = p.getByRole('textbox', { name: 'Reply' });
    await reply.fill('Sent with Cmd');
    await p.keyboard.press('Meta+Enter');
    await p.getByRole('log', { name: 'Messages' }).getByText('Sent with Cmd').waitFor();
    await expect.poll(() => reply.inputValue()).toBe('');
    const [thread] = (await team.request('GET', '/api/v1/threads')).json().threads;
    expect((await team.request('GET', `/api/v1/threads/${thread.id}/messages`)).json().messages[0].content).toBe('Sent with Cmd');
  });

  it('rolls a refused edit back and says why', async () => {
    const team = await newWebTeam(suite.rig());
    await inboundDm(team, 'hello', { name: 'Long Notes' });
    const p = await page();
    await signIn(p, team.email);
    await threadLink(p, /Long Notes/).click();
    const notes = p.getByRole('textbox', { name: 'Notes' });
    await notes.fill('x'.repeat(10_001));
    await notes.blur();
    await expect.poll(() => p.getByRole('alert').filter({ hasText: 'Not saved' }).count()).toBe(1);
    await expect.poll(() => notes.inputValue()).toBe('');
    const [thread] = (await team.request('GET', '/api/v1/threads')).json().threads;
    expect(thread.prospect.context.notes).toBeNull();
  });

  it('accepts an invite; a user who is not an admin cannot open token settings, and the API refuses them', async () => {
    const team = await newWebTeam(suite.rig());
    const invite = await team.request('POST', '/api/v1/invites', { email: `new-${team.teamId}@example.test`, role: 'user' });
    expect(invite.statusCode).toBe(201);
    const p = await page();
    await p.goto(invite.json().url);
    await p.getByLabel('Name').fill('New Colleague');
    await p.getByLabel('Password').fill('a long enough password');
    await p.getByRole('button', { name: 'Accept invite' }).click();
    await threadList(p).waitFor();
    await p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
    const tokens = p.getByRole('region', { name: 'API tokens' });
    await expect.poll(() => tokens.getByRole('alert').textContent()).toMatch(/.+/);
    expect(await tokens.getByRole('button', { name: 'Create token' }).count()).toBe(0);
    const refused = await p.request.get('/api/v1/tokens');
    expect(refused.status()).toBe(403);
  });

  it('marks a thread read when it is opened, and unread again by the button or the u key', async () => {
    const team = await newWebTeam(suite.rig());
    await inboundDm(team, 'unread one', { name: 'Unread Person' });
    const p = await page();
    await signIn(p, team.email);
    const row = threadLink(p, /Unread Person/);
    const apiUnread = async () => (await team.request('GET', '/api/v1/threads')).json().threads[0].unread as boolean;
    await row.getByText('Unread', { exact: true }).waitFor();
    expect(await apiUnread()).toBe(true);
    await row.click();
    await row.getByText('Unread', { exact: true }).waitFor({ state: 'detached' });
    await expect.poll(apiUnread).toBe(false);
    await p.getByRole('button', { name: 'Mark unread' }).click();
    await row.getByText('Unread', { exact: true }).waitFor();
    await expect.poll(apiUnread).toBe(true);
    await row.click();
    await expect.poll(apiUnread).toBe(false);
    await p.keyboard.press('u');
    await row.getByText('Unread', { exact: true }).waitFor();
    await expect.poll(apiUnread).toBe(true);
  });

  it('searches threads by message text and name from the Search box (/ focuses it)', async () => {
    const team = await newWebTeam(suite.rig());
    const { accountLinkId } = await inboundDm(team, 'a question about pricing', { name: 'Alpha Person' });
    await inboundDm(team, 'hello there', { accountLinkId, name: 'Beta Person' });
    const p = await page();
    await signIn(p, team.email);
    const list = threadList(p);
    await expect.poll(() => list.getByRole('listitem').count()).toBe(2);
    await p.keyboard.press('/');
    await p.keyboard.type('pricing');
    await expect.poll(() => p.getByRole('searchbox', { name: 'Search' }).inputValue()).toBe('pricing');
    await expect.poll(async () => (await list.getByRole('listitem').allTextContents()).join('|')).toMatch(/^[^|]*Alpha Person[^|]*$/);
    await p.getByRole('searchbox', { name: 'Search' }).fill('beta');
    await expect.poll(async () => (await list.getByRole('listitem').allTextContents()).join('|')).toMatch(/^[^|]*Beta Person[^|]*$/);
  });

  it('assigns with a, archives with e, lists the shortcuts with ?, and goes to campaigns with g c', async () => {
    const team = await newWebTeam(suite.rig());
    const { accountLinkId } = await inboundDm(team, 'keep me', { name: 'Stays Here' });
    await inboundDm(team, 'archive me', { accountLinkId, name: 'Goes Away' });
    const p = await page();
    await signIn(p, team.email);
    const row = threadLink(p, /Goes Away/);
    await row.click();
    await p.keyboard.press('a');
    await row.getByText('@ Owner').waitFor();
    const thread = async () => (await team.request('GET', '/api/v1/threads?inbox=archived')).json().threads[0];
    await p.keyboard.press('e');
    await row.waitFor({ state: 'detached' });
    await expect.poll(async () => (await thread())?.assigneeId).toBe(team.ownerMemberId);
    expect((await thread()).done).toBe(true);
    await p.keyboard.press('?');
    const help = p.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await help.getByText('Next / previous thread').waitFor();
    await help.getByRole('button', { name: 'Close' }).click();
    await p.keyboard.press('g');
    await p.keyboard.press('c');
    await p.getByRole('heading', { name: 'Campaigns' }).waitFor();
    expect(p.url()).toMatch(/\/app\/campaigns$/);
  });

  it('renders only the rows in view and pages in more by cursor as the list scrolls', async () => {
    const team = await newWebTeam(suite.rig());
    const link = await team.request('POST', '/api/v1/account-links/sandbox', { username: 'manyrequests' });
    const accountLinkId = link.json().id as string;
    // Prospects that write first land in Requests: 120 of them is more than two pages of 50.
    for (let i = 0; i < 120; i++) {
      const from = String(8_000_000 + i);
      expect((await team.request('POST', '/api/v1/sandbox/inbound', { accountLinkId, fromPlatformId: from, content: `request ${i}` })).statusCode).toBeLessThan(300);
    }
    const p = await page();
    await signIn(p, team.email);
    await p.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: /^Requests( [0-9,]+ unread)?$/ }).click();
    const list = threadList(p);
    await list.getByRole('listitem').first().waitFor();
    expect(await list.getByRole('listitem').count()).toBeLessThan(30);
    const lastPosition = () => list.getByRole('listitem').last().getAttribute('aria-posinset');
    for (let round = 0; round < 20 && (await lastPosition()) !== '120'; round++) {
      await list.evaluate((element) => element.parentElement!.scrollTo({ top: element.parentElement!.scrollHeight }));
      await p.waitForTimeout(150);
    }
    expect(await lastPosition()).toBe('120');
    expect(await list.getByRole('listitem').count()).toBeLessThan(30);
    await list.getByRole('listitem').last().getByText('request 0').waitFor();
  });

  it('fetches the first page again after the event stream reconnects, so what it missed meanwhile appears', async () => {
    const team = await newWebTeam(suite.rig());
    const { accountLinkId, from } = await inboundDm(team, 'before the drop', { name: 'Dropped Line' });
    const p = await page();
    let posted!: () => void;
    const dmPosted = new Promise<void>((resolve) => (posted = resolve));
    let streams = 0;
    // The first stream carries no event id and ends once the DM is in: the reconnect starts at the log's end,
    // so only the page's own refetch can show that DM.
    await p.route('**/api/v1/events/stream*', async (route) => {
      if (++streams > 1) return route.continue();
      await dmPosted;
      await route.fulfill({ status: 200, headers: { 'content-type': 'text/event-stream' }, body: 'retry: 100\n\n' });
    });
    await signIn(p, team.email);
    const row = threadLink(p, /Dropped Line/);
    await row.getByText('before the drop').waitFor();
    await team.request('POST', '/api/v1/sandbox/inbound', { accountLinkId, fromPlatformId: from, content: 'sent while offline' });
    posted();
    await row.getByText('sent while offline').waitFor();
    expect(streams).toBeGreaterThan(1);
  });

  it('lets an owner link a sandbox account, change its limit, create a token shown once and add a tag in Settings', async () => {
    const team = await newWebTeam(suite.rig());
    const p = await page();
    await signIn(p, team.email);
    await threadList(p).waitFor();
    await p.keyboard.press('g');
    await p.keyboard.press('s');
    const accounts = p.getByRole('region', { name: 'Linked accounts' });
    await accounts.getByRole('textbox', { name: 'Sandbox username' }).fill('settings_acct');
    await accounts.getByRole('button', { name: 'Link a sandbox account' }).click();
    const hourly = accounts.getByRole('spinbutton', { name: 'Hourly limit of @settings_acct' });
    await hourly.fill('7');
    await hourly.press('Tab');
    await expect.poll(async () => (await team.request('GET', '/api/v1/account-links')).json()[0]?.hourlyLimit).toBe(7);

    const tokens = p.getByRole('region', { name: 'API tokens' });
    await tokens.getByRole('textbox', { name: 'Token name' }).fill('zapier');
    await tokens.getByRole('button', { name: 'Create token' }).click();
    const secret = (await tokens.getByText(/shown only once/).locator('code').textContent())!;
    const withIt = await suite.rig().app.inject({ method: 'GET', url: '/api/v1/team', headers: { authorization: `Bearer ${secret}` } });
    expect(withIt.statusCode).toBe(200);

    const tags = p.getByRole('region', { name: 'Tags' });
    await tags.getByRole('textbox', { name: 'New tag name' }).fill('Warm');
    await tags.getByRole('button', { name: 'Add' }).click();
    await tags.getByText('Warm', { exact: true }).waitFor();

    // Errors show where they happen: this server has no X app configured.
    await accounts.getByRole('button', { name: 'Link an X account' }).click();
    await expect.poll(() => accounts.getByRole('alert').textContent()).toMatch(/X/);
  });
});
