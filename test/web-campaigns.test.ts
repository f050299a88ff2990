import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../src/core/random.js';
import { sendingEngine } from '../src/runtimes/engine.js';
import { testContext } from './helpers/app.js';
import { browserSuite, newWebTeam, signIn, type WebTeam } from './helpers/browser.js';
import { HELLO_SEQUENCE, uniquePlatformId } from './helpers/campaigns.js';
import { runSyncs } from './helpers/lead-rules.js';

const { rig, page } = browserSuite();

/** A sandbox profile with a display name: any decimal id is one. */
async function sandboxProfile(team: WebTeam, displayName: string): Promise<string> {
  const platformId = uniquePlatformId();
  const put = await team.request('PUT', `/api/v1/sandbox/profiles/${platformId}`, { username: `w${platformId.slice(-12)}`, displayName });
  expect(put.statusCode, put.body).toBe(200);
  return platformId;
}

const counter = (p: Page, name: string) => p.getByLabel('Counters').locator('div', { hasText: name }).locator('dd');

/** "Mon 00:00" for next Monday midnight UTC in this machine's zone, which the browser shares. */
const mondayMidnightUtcHere = (hours = 0) => {
  const now = new Date();
  const monday = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) + ((8 - now.getUTCDay()) % 7) * 86_400_000 + hours * 3_600_000;
  return new Intl.DateTimeFormat('en-GB', { weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(monday));
};
const stepNames = (p: Page) => p.getByRole('list', { name: 'Steps' }).locator(':scope > li').evaluateAll((items) => items.map((i) => i.getAttribute('aria-label')));

describe('the campaigns pages', () => {
  it('takes a campaign from an empty team to sending: sequence and preview, schedule, a refused then accepted enable, live counters', async () => {
    const team = await newWebTeam(rig());
    const link = await team.request('POST', '/api/v1/account-links/sandbox', { username: `camp${uniquePlatformId().slice(-10)}` });
    expect(link.statusCode, link.body).toBe(200);
    const account = link.json() as { id: string; username: string };
    const leads = [await sandboxProfile(team, 'Ada Lovelace'), await sandboxProfile(team, 'Grace Hopper')];

    const p = await page();
    await signIn(p, team.email);
    await p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Campaigns' }).click();
    await p.getByText('No campaign yet').waitFor();
    await p.getByRole('button', { name: 'New campaign' }).click();
    await p.getByLabel('Campaign name').fill('Founders outreach');
    await p.getByRole('button', { name: 'Create' }).click();
    await p.getByRole('heading', { name: 'Founders outreach', level: 1 }).waitFor();
    const campaignId = /\/app\/campaigns\/([^/]+)$/.exec(p.url())![1]!;

    // Enabling an empty draft is refused with every reason, each beside what fixes it.
    await p.getByRole('button', { name: 'Enable' }).click();
    const reasons = p.getByRole('list', { name: 'Why the campaign cannot start' }).getByRole('listitem');
    await expect.poll(() => reasons.allTextContents()).toEqual([
      'the campaign has no lead to contact (none pending or active) — Add leads',
      'link at least one account to send from — Choose an active account',
      'the sequence needs at least one message step — Fix the sequence',
    ]);
    expect(await reasons.getByRole('link', { name: 'Add leads' }).getAttribute('href')).toBe('#campaign-leads');

    // Settings: the account, the pace.
    const settings = p.getByRole('region', { name: 'Settings' });
    await settings.getByRole('checkbox', { name: `@${account.username}` }).check();
    await settings.getByLabel('Messages per hour, per account').fill('25');
    await settings.getByRole('button', { name: 'Save settings' }).click();
    await settings.getByRole('status').getByText('Saved').waitFor();

    // The schedule: open all week, shown in the campaign's zone and the viewer's.
    const schedule = p.getByRole('region', { name: /^Schedule/ });
    await schedule.getByRole('button', { name: 'Every day, all day' }).click();
    await expect.poll(() => schedule.getByLabel('Sunday from').inputValue()).toBe('00:00');
    await schedule.getByRole('button', { name: 'Save schedule' }).click();
    await schedule.getByRole('status').getByText('Schedule saved').waitFor();
    await schedule.getByRole('cell', { name: `${mondayMidnightUtcHere()}–${mondayMidnightUtcHere(24)}`, exact: true }).waitFor();

    // A three-step sequence: opener with a variable and its fallback, a delay, a follow-up.
    const sequence = p.getByRole('region', { name: /^Sequence/ });
    await sequence.getByRole('button', { name: 'Add message' }).click();
    await sequence.getByRole('textbox', { name: 'Text, step 1, part 1' }).fill('Hi ');
    await sequence.getByRole('button', { name: 'Add variable to step 1' }).click();
    await sequence.getByRole('combobox', { name: 'Variable, step 1, part 2' }).selectOption('first-name');
    await sequence.getByRole('textbox', { name: 'Fallback, step 1, part 2' }).fill('there');
    await sequence.getByRole('button', { name: 'Add message' }).click();
    await sequence.getByRole('textbox', { name: 'Text, step 2, part 1' }).fill('Following up');
    await sequence.getByRole('button', { name: 'Add delay' }).click();
    expect(await stepNames(p)).toEqual(['Step 1: Message', 'Step 2: Message', 'Step 3: Delay']);
    // The delay goes between the messages by keyboard; a like step is dragged to the front and removed again.
    await sequence.getByRole('listitem', { name: 'Step 3: Delay' }).focus();
    await p.keyboard.press('Alt+ArrowUp');
    expect(await stepNames(p)).toEqual(['Step 1: Message', 'Step 2: Delay', 'Step 3: Message']);
    await expect.poll(() => p.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Step 2: Delay');
    await sequence.getByRole('button', { name: 'Add like' }).click();
    await sequence.getByRole('listitem', { name: 'Step 4: Like latest post' }).dragTo(sequence.getByRole('listitem', { name: 'Step 1: Message' }));
    expect(await stepNames(p)).toEqual(['Step 1: Like latest post', 'Step 2: Message', 'Step 3: Delay', 'Step 4: Message']);
    await sequence.getByRole('button', { name: 'Move step 1 down' }).click();
    expect(await stepNames(p)).toEqual(['Step 1: Message', 'Step 2: Like latest post', 'Step 3: Delay', 'Step 4: Message']);
    await sequence.getByRole('button', { name: 'Remove step 2' }).click();
    await sequence.getByRole('spinbutton', { name: 'Step 2 wait' }).fill('2');
    await sequence.getByRole('button', { name: 'Save sequence' }).click();
    await p.getByRole('heading', { name: 'Sequence (version 1)' }).waitFor();
    const preview = p.getByRole('list', { name: 'Preview messages' }).getByRole('listitem');
    await expect.poll(() => preview.allTextContents()).toEqual([expect.stringContaining('Hi Jane'), expect.stringContaining('Following up')]);
    const saved = (await team.request('GET', `/api/v1/campaigns/v2/${campaignId}`)).json();
    expect(saved.sequence.steps.map((s: { type: string; data: unknown }) => [s.type, s.data])).toEqual([
      ['message', { segments: [{ type: 'static', text: 'Hi ' }, { type: 'variable', name: 'first-name', fallback: 'there' }] }],
      ['delay', { delaySeconds: 2 * 86_400, unit: 'days' }],
      ['message', { segments: [{ type: 'static', text: 'Following up' }] }],
    ]);
    expect(saved).toMatchObject({ accountLinkIds: [account.id], messagesPerHour: 25, schedule: Object.fromEntries(['0', '1', '2', '3', '4', '5', '6'].map((d) => [d, { start: 0, end: 1440 }])) });

    // Leads, then the preview as one of them.
    const leadsSection = p.getByRole('region', { name: 'Leads' });
    await leadsSection.getByLabel('Leads to add').fill([...leads, '@nobody_has_this_name'].join('\n'));
    await leadsSection.getByRole('button', { name: 'Add leads' }).click();
    // The one that failed is named, with why.
    await leadsSection.getByRole('status').getByText('Added 2, skipped 0, failed 1: nobody_has_this_name (not found)').waitFor();
    await expect.poll(() => leadsSection.getByRole('table', { name: 'Leads' }).getByRole('row').count()).toBe(3);
    await p.getByRole('combobox', { name: 'As' }).selectOption({ label: `Grace Hopper (@w${leads[1]!.slice(-12)})` });
    await expect.poll(() => preview.first().textContent()).toContain('Hi Grace');

    await p.getByRole('button', { name: 'Enable' }).click();
    await p.getByLabel('Status: active').waitFor();
    expect(await p.getByRole('list', { name: 'Why the campaign cannot start' }).count()).toBe(0);
    const forecast = p.getByRole('region', { name: 'Forecast' });
    await forecast.getByRole('button', { name: 'Work out the forecast' }).click();
    await forecast.getByText(/Projected finish/).waitFor({ timeout: 30_000 });
    await forecast.getByRole('img', { name: 'Sends per day by account' }).locator('canvas').first().waitFor();
    expect(await counter(p, 'Contacted').textContent()).toBe('0');

    // The engine sends (the first lead at once); the page hears it on the event stream.
    const engine = sendingEngine(await testContext(), seededRandom(1));
    expect(await engine.runOnce()).toBeGreaterThanOrEqual(1);
    await expect.poll(() => counter(p, 'Contacted').textContent(), { timeout: 15_000 }).toBe('1');
    const results = p.getByRole('table', { name: 'Results per step' });
    await expect.poll(() => results.getByRole('row', { name: /^Step 1 all/ }).textContent()).toBe('Step 1all100%');
    const [contacted] = (await team.request('GET', `/api/v1/campaigns/v2/${campaignId}/leads?state=active`)).json().leads;
    await leadsSection.getByRole('row', { name: `@${contacted.prospect.username}` }).getByRole('cell', { name: `at step ${contacted.currentStep + 1}`, exact: true }).waitFor();
    // The other lead waits for the account's pace (one account, 25 an hour, a message just sent), and says so.
    const [waiting] = (await team.request('GET', `/api/v1/campaigns/v2/${campaignId}/leads?state=pending`)).json().leads;
    expect(waiting.waitingFor).toMatchObject({ reason: 'accountPace', messagesPerHour: 25 });
    await leadsSection
      .getByRole('row', { name: `@${waiting.prospect.username}` })
      .getByRole('cell', { name: /^the account's pace of 25 an hour, until / })
      .waitFor();

    // The list shows the same counters, and moves when a lead replies.
    await p.getByRole('link', { name: '← All campaigns' }).click();
    const row = p.getByRole('row', { name: 'Founders outreach' });
    await expect.poll(() => row.locator('[data-counter="contacted"]').textContent()).toBe('1');
    expect(await row.getByText('active').count()).toBe(1);
    const reply = await team.request('POST', '/api/v1/sandbox/inbound', { accountLinkId: account.id, fromPlatformId: contacted.prospect.platformId, content: 'Sounds good' });
    expect(reply.statusCode).toBeLessThan(300);
    await expect.poll(() => row.locator('[data-counter="replied"]').textContent(), { timeout: 15_000 }).toBe('1');
    await expect.poll(() => row.getByRole('cell', { name: '100%' }).count()).toBe(1);

    // Disable from the campaign page: paused, by hand.
    await row.getByRole('link', { name: 'Founders outreach' }).click();
    await p.getByRole('button', { name: 'Disable' }).click();
    await p.getByLabel('Status: paused').waitFor();
    await p.getByText('paused: manual').waitFor();
  }, 120_000);

  it("works a campaign's leads (filter, column values, cancel), its rules, columns and automations, and duplicates and exports it", async () => {
    const team = await newWebTeam(rig());
    const link = (await team.request('POST', '/api/v1/account-links/sandbox', { username: `leads${uniquePlatformId().slice(-10)}` })).json();
    const campaign = (await team.request('POST', '/api/v1/campaigns/v2', { name: 'Leads at work', accountLinkIds: [link.id] })).json();
    const list = (await team.request('POST', '/api/v1/lists', { name: 'Meetup' })).json();
    const tag = (await team.request('POST', '/api/v1/tags', { name: 'Warm' })).json();
    const column = (await team.request('POST', `/api/v1/campaigns/v2/${campaign.id}/columns`, { name: 'Company' })).json();
    const [ada, grace] = [await sandboxProfile(team, 'Ada Lovelace'), await sandboxProfile(team, 'Grace Hopper')];
    expect((await team.request('POST', `/api/v1/campaigns/v2/${campaign.id}/leads`, { platformIds: [ada, grace] })).json()).toMatchObject({ added: 2 });
    const username = (platformId: string) => `@w${platformId.slice(-12)}`;

    const p = await page();
    await signIn(p, team.email);
    await p.getByRole('navigation', { name: 'Main' }).waitFor();
    await p.goto(`/app/campaigns/${campaign.id}`);
    const table = p.getByRole('table', { name: 'Leads' });
    await expect.poll(() => table.getByRole('row').count()).toBe(3);

    // A column value, edited in the row.
    await table.getByRole('button', { name: `Edit values of ${username(ada)}` }).click();
    await table.getByRole('textbox', { name: `Company of ${username(ada)}` }).fill('Analytical Engines');
    await table.getByRole('button', { name: 'Save values' }).click();
    // While the row is edited its cell is named by the field's value too: wait for the saved row.
    await table.getByRole('textbox', { name: `Company of ${username(ada)}` }).waitFor({ state: 'detached' });
    await table.getByRole('cell', { name: 'Analytical Engines' }).waitFor();
    const adaLead = (await team.request('GET', `/api/v1/campaigns/v2/${campaign.id}/leads`)).json().leads.find((l: { prospect: { platformId: string } }) => l.prospect.platformId === ada);
    expect(adaLead.data).toEqual({ [column.id]: 'Analytical Engines' });

    // Cancel one, then filter by state.
    await table.getByRole('button', { name: `Cancel ${username(grace)}` }).click();
    await table.getByRole('row', { name: username(grace) }).getByText('cancelled').waitFor();
    await p.getByRole('combobox', { name: 'State' }).selectOption('cancelled');
    await expect.poll(() => table.getByRole('row').count()).toBe(2);
    await table.getByRole('row', { name: username(grace) }).waitFor();
    await p.getByRole('combobox', { name: 'State' }).selectOption('pending');
    await table.getByRole('row', { name: username(ada) }).waitFor();
    expect(await table.getByRole('row').count()).toBe(2);

    // Lead rules, a column renamed, an automation.
    const rules = p.getByRole('region', { name: 'Lead rules' });
    await rules.getByRole('checkbox', { name: 'Exclude Meetup' }).check();
    await rules.getByRole('checkbox', { name: 'Exclude mutuals (DMs in both directions)' }).check();
    await rules.getByRole('button', { name: 'Save lead rules' }).click();
    await rules.getByRole('status').getByText(/Lead rules saved/).waitFor();
    const columns = p.getByRole('region', { name: 'Columns' });
    await columns.getByRole('textbox', { name: 'Name of column Company' }).fill('Employer');
    await columns.getByRole('textbox', { name: 'Name of column Company' }).press('Tab');
    await expect.poll(async () => (await team.request('GET', `/api/v1/campaigns/v2/${campaign.id}/columns`)).json()[0].name).toBe('Employer');
    const automations = p.getByRole('region', { name: 'Automations' });
    await automations.getByRole('button', { name: 'Add automation' }).click();
    await automations.getByRole('combobox', { name: 'Automation 1 value' }).selectOption({ label: 'Warm' });
    await automations.getByRole('button', { name: 'Save automations' }).click();
    await automations.getByRole('status').getByText('Saved').waitFor();
    const saved = (await team.request('GET', `/api/v1/campaigns/v2/${campaign.id}`)).json();
    expect(saved.rules).toMatchObject({ excludedLists: [{ listId: list.id }], excludeMutuals: true, excludeContacted: false });
    expect(saved.automations).toMatchObject([{ trigger: 'replied', action: 'addTag', actionData: { tagId: tag.id }, enabled: true }]);

    // The export link serves the CSV with this session.
    const href = await p.getByRole('link', { name: 'Export leads (CSV)' }).getAttribute('href');
    const csv = await p.request.get(href!);
    expect(csv.headers()['content-type']).toMatch(/^text\/csv/);
    expect((await csv.text()).split('\r\n')[0]).toContain(',Employer');

    // Duplicate opens the copy, without leads.
    await p.getByRole('button', { name: 'Duplicate' }).click();
    await p.getByRole('heading', { name: 'Leads at work (copy)', level: 1 }).waitFor();
    expect(p.url()).not.toContain(campaign.id);
    await p.getByRole('region', { name: 'Leads' }).getByText('No lead yet').waitFor();
  }, 120_000);

  it('previews the draft as it is typed, edits variation segments and restores a saved version', async () => {
    const team = await newWebTeam(rig());
    const campaign = (await team.request('POST', '/api/v1/campaigns/v2', { name: 'Drafts' })).json();
    expect((await team.request('PUT', `/api/v1/campaigns/v2/${campaign.id}/sequence`, HELLO_SEQUENCE)).statusCode).toBe(200);

    const p = await page();
    await signIn(p, team.email);
    await p.getByRole('navigation', { name: 'Main' }).waitFor();
    await p.goto(`/app/campaigns/${campaign.id}`);
    const sequence = p.getByRole('region', { name: /^Sequence/ });
    const previewTitle = sequence.getByRole('heading', { level: 3 });
    const preview = sequence.getByRole('list', { name: 'Preview messages' }).getByRole('listitem');
    await expect.poll(() => preview.allTextContents()).toEqual([expect.stringContaining('Hi Jane'), expect.stringContaining('Following up!')]);
    expect(await previewTitle.textContent()).toBe('Preview of version 1');

    // Typing changes the preview before anything is saved.
    await sequence.getByRole('textbox', { name: 'Text, step 1, part 1' }).fill('Hello ');
    await expect.poll(() => preview.first().textContent()).toContain('Hello Jane');
    expect(await previewTitle.textContent()).toBe('Preview of the unsaved draft');
    expect((await team.request('GET', `/api/v1/campaigns/v2/${campaign.id}`)).json().sequence.version).toBe(1);

    // A variation segment: while its options are empty the draft cannot render and says why, keeping the last preview.
    await sequence.getByRole('button', { name: 'Add variation to step 1' }).click();
    const draftProblem = sequence.getByRole('alert').filter({ hasText: 'The draft cannot be previewed yet' });
    await draftProblem.getByText(/^Step 1: /).first().waitFor();
    expect(await preview.first().textContent()).toContain('Hello Jane');
    await sequence.getByRole('textbox', { name: 'Option 1, step 1, part 3' }).fill(', quick question');
    await sequence.getByRole('textbox', { name: 'Option 2, step 1, part 3' }).fill(', one question');
    await expect.poll(() => preview.first().textContent()).toMatch(/Hello Jane, (quick|one) question$/);
    expect(await draftProblem.count()).toBe(0);
    await sequence.getByRole('button', { name: 'Add option' }).click();
    await sequence.getByRole('textbox', { name: 'Option 3, step 1, part 3' }).fill(', a thought');
    await sequence.getByRole('button', { name: 'Remove option 2, step 1, part 3' }).click();
    expect(await sequence.getByRole('textbox', { name: /^Option \d, step 1, part 3$/ }).evaluateAll((inputs) => inputs.map((i) => (i as HTMLInputElement).value))).toEqual([
      ', quick question',
      ', a thought',
    ]);
    await sequence.getByRole('button', { name: 'Save sequence' }).click();
    await p.getByRole('heading', { name: 'Sequence (version 2)' }).waitFor();
    await expect.poll(() => previewTitle.textContent()).toBe('Preview of version 2');
    const saved = (await team.request('GET', `/api/v1/campaigns/v2/${campaign.id}`)).json();
    expect(saved.sequence.steps[0].data.segments).toEqual([
      { type: 'static', text: 'Hello ' },
      { type: 'variable', name: 'first-name', fallback: 'there' },
      { type: 'variation', options: [', quick question', ', a thought'] },
    ]);

    // The saved versions, newest first; editing a copy of the first one is a draft again.
    await sequence.getByText('Saved versions (2)').click();
    const versions = sequence.getByRole('list', { name: 'Saved versions' }).getByRole('listitem');
    await expect.poll(() => versions.allTextContents()).toEqual([expect.stringMatching(/^Version 2 · .* · 3 steps \(current\)/), expect.stringMatching(/^Version 1 · .* · 3 steps Edit/)]);
    await sequence.getByRole('button', { name: 'Edit a copy of version 1' }).click();
    expect(await sequence.getByRole('textbox', { name: 'Text, step 1, part 1' }).inputValue()).toBe('Hi ');
    expect(await sequence.getByRole('textbox', { name: 'Option 1, step 1, part 3' }).count()).toBe(0);
    await expect.poll(() => previewTitle.textContent()).toBe('Preview of the unsaved draft');
    await expect.poll(() => preview.first().textContent()).toContain('Hi Jane');
  }, 120_000);

  it('shows results per step and variation, a failed lead with its reason, and the accounts and pause reason in the list', async () => {
    const team = await newWebTeam(rig());
    const links = [];
    for (const name of ['ana', 'bob']) links.push((await team.request('POST', '/api/v1/account-links/sandbox', { username: `${name}${uniquePlatformId().slice(-10)}` })).json() as { id: string; username: string });
    const allWeek = Object.fromEntries(['0', '1', '2', '3', '4', '5', '6'].map((d) => [d, { start: 0, end: 1440 }]));
    const campaign = (
      await team.request('POST', '/api/v1/campaigns/v2', { name: 'Openers', accountLinkIds: links.map((l) => l.id), messagesPerHour: 25, schedule: allWeek })
    ).json();
    const opener = { type: 'message', data: { segments: [{ type: 'variation', options: ['Hey', 'Hello'] }, { type: 'static', text: ' there' }] } };
    const followUp = { type: 'message', data: { segments: [{ type: 'static', text: 'Any thoughts?' }] } };
    const steps = [opener, { type: 'delay', data: { delaySeconds: 86_400, unit: 'days' } }, followUp];
    expect((await team.request('PUT', `/api/v1/campaigns/v2/${campaign.id}/sequence`, { steps })).statusCode).toBe(200);
    const [reachable, closing] = [await sandboxProfile(team, 'Ada Lovelace'), await sandboxProfile(team, 'Alan Turing')];
    expect((await team.request('POST', `/api/v1/campaigns/v2/${campaign.id}/leads`, { platformIds: [reachable, closing] })).json()).toMatchObject({ added: 2 });
    // Its DMs close after it joined: the send is refused and the lead fails.
    expect((await team.request('PUT', `/api/v1/sandbox/profiles/${closing}`, { dmsOpen: false })).statusCode).toBe(200);
    expect((await team.request('POST', `/api/v1/campaigns/v2/${campaign.id}/enable`, {})).statusCode).toBe(200);
    const engine = sendingEngine(await testContext(), seededRandom(2));
    const leadOf = async (platformId: string) =>
      (await team.request('GET', `/api/v1/campaigns/v2/${campaign.id}/leads`)).json().leads.find((l: { prospect: { platformId: string } }) => l.prospect.platformId === platformId);
    await expect
      .poll(async () => (await engine.runOnce(), [(await leadOf(reachable)).state, (await leadOf(closing)).state]), { timeout: 30_000 })
      .toEqual(['active', 'failed']);
    const failed = await leadOf(closing);
    expect(failed.failureReason).toMatch(/^User \d+ /);

    const p = await page();
    await signIn(p, team.email);
    await p.getByRole('navigation', { name: 'Main' }).waitFor();
    await p.goto(`/app/campaigns/${campaign.id}`);
    const leadsTable = p.getByRole('region', { name: 'Leads' }).getByRole('table', { name: 'Leads' });
    const failedRow = leadsTable.getByRole('row', { name: `@${failed.prospect.username}` });
    await failedRow.getByRole('cell', { name: failed.failureReason, exact: true }).waitFor();
    await failedRow.getByRole('cell', { name: 'failed', exact: true }).waitFor();

    // One message sent, its variation named; a reply moves the step and that variation's rows.
    const sentOption = async () => (await team.request('GET', `/api/v1/campaigns/v2/${campaign.id}/stats`)).json().steps[0].variations[0].options.find((o: { sent: number }) => o.sent === 1).text as string;
    const sent = await sentOption();
    const results = p.getByRole('table', { name: 'Results per step' });
    const rows = () => results.getByRole('row').allTextContents();
    const header = 'StepVariationSentReplied afterReply rate';
    await expect.poll(rows).toEqual([header, 'Step 1all100%', ...['Hey', 'Hello'].map((o) => `“${o}”${o === sent ? '10' : '00'}0%`), 'Step 3all000%']);
    const reply = await team.request('POST', '/api/v1/sandbox/inbound', { accountLinkId: (await leadOf(reachable)).accountLinkId, fromPlatformId: reachable, content: 'Hey yourself' });
    expect(reply.statusCode).toBeLessThan(300);
    await expect.poll(rows, { timeout: 15_000 }).toEqual([header, 'Step 1all11100%', ...['Hey', 'Hello'].map((o) => `“${o}”${o === sent ? '11100' : '000'}%`), 'Step 3all000%']);

    // An active campaign cannot be deleted: the refusal shows where it was asked.
    await p.getByRole('button', { name: 'Delete campaign' }).click();
    await p.getByRole('group', { name: 'Confirm deletion' }).getByRole('button', { name: 'Delete for good' }).click();
    await p.getByRole('alert').getByText(/^Campaign cannot be deleted: /).waitFor();
    await p.getByRole('button', { name: 'Disable' }).click();
    await p.getByLabel('Status: paused').waitFor();

    // The list names both accounts and why the campaign is paused.
    await p.getByRole('link', { name: '← All campaigns' }).click();
    const row = p.getByRole('row', { name: 'Openers' });
    const cells = row.getByRole('cell');
    await expect.poll(() => cells.nth(2).textContent()).toBe('manual');
    expect((await cells.nth(3).textContent())!.split(', ').sort()).toEqual(links.map((l) => `@${l.username}`).sort());
    const headers = await p.getByRole('table').getByRole('columnheader').allTextContents();
    expect(headers.slice(2, 4)).toEqual(['Pause reason', 'Accounts']);
  }, 120_000);

  it('edits the description, time zone, columns and synced lists with their column mappings, and deletes the campaign', async () => {
    const team = await newWebTeam(rig());
    const campaign = (await team.request('POST', '/api/v1/campaigns/v2', { name: 'Everything' })).json();
    const list = (await team.request('POST', '/api/v1/lists', { name: 'Meetup' })).json();
    const listColumn = (await team.request('POST', `/api/v1/lists/${list.id}/columns`, { name: 'Company' })).json();
    const member = await sandboxProfile(team, 'Ada Lovelace');
    expect((await team.request('POST', `/api/v1/lists/${list.id}/leads`, { platformIds: [member] })).statusCode).toBe(200);
    const read = async () => (await team.request('GET', `/api/v1/campaigns/v2/${campaign.id}`)).json();

    const p = await page();
    await signIn(p, team.email);
    await p.getByRole('navigation', { name: 'Main' }).waitFor();
    await p.goto(`/app/campaigns/${campaign.id}`);

    // The description.
    const settings = p.getByRole('region', { name: 'Settings' });
    await settings.getByRole('textbox', { name: 'Description' }).fill('Founders we met in Berlin');
    await settings.getByRole('button', { name: 'Save settings' }).click();
    await settings.getByRole('status').getByText('Saved').waitFor();
    expect((await read()).description).toBe('Founders we met in Berlin');

    // The time zone: the viewer's column follows as it is typed, and the heading once saved.
    const schedule = p.getByRole('region', { name: /^Schedule/ });
    const mondayHere = (from: number, to: number) => schedule.getByRole('cell', { name: `${mondayMidnightUtcHere(from)}–${mondayMidnightUtcHere(to)}`, exact: true });
    await mondayHere(9, 17).waitFor();
    await schedule.getByLabel('Time zone').fill('Asia/Tokyo');
    await mondayHere(0, 8).waitFor();
    expect(await mondayHere(9, 17).count()).toBe(0);
    await schedule.getByRole('button', { name: 'Save schedule' }).click();
    await p.getByRole('heading', { name: 'Schedule (Asia/Tokyo)' }).waitFor();
    expect((await read()).timezone).toBe('Asia/Tokyo');

    // Columns: two added, one with a description that is then edited, the other deleted.
    const columns = p.getByRole('region', { name: 'Columns' });
    const addColumn = async (name: string, description: string) => {
      await columns.getByLabel('New column').fill(name);
      await columns.getByLabel('Its description').fill(description);
      await columns.getByRole('button', { name: 'Add column' }).click();
      await columns.getByRole('textbox', { name: `Name of column ${name}` }).waitFor();
    };
    await addColumn('Employer', 'Where they work');
    await addColumn('Scratch', '');
    const apiColumns = async () => (await team.request('GET', `/api/v1/campaigns/v2/${campaign.id}/columns`)).json() as Array<{ id: string; name: string; description: string | null }>;
    expect((await apiColumns()).map((c) => [c.name, c.description])).toEqual([
      ['Employer', 'Where they work'],
      ['Scratch', null],
    ]);
    const description = columns.getByRole('textbox', { name: 'Description of column Employer' });
    expect(await description.inputValue()).toBe('Where they work');
    await description.fill('Their employer');
    await description.press('Tab');
    await expect.poll(async () => (await apiColumns())[0]!.description).toBe('Their employer');
    await columns.getByRole('button', { name: 'Delete column Scratch' }).click();
    await columns.getByRole('textbox', { name: 'Name of column Scratch' }).waitFor({ state: 'detached' });
    const [employer] = await apiColumns();
    expect((await apiColumns()).map((c) => c.name)).toEqual(['Employer']);

    // A synced list, its column copied into the campaign's; its leads join.
    const rules = p.getByRole('region', { name: 'Lead rules' });
    await rules.getByRole('checkbox', { name: 'Sync Meetup' }).check();
    await rules.getByRole('combobox', { name: 'Meetup: copy Company into' }).selectOption({ label: 'Employer' });
    // A list both synced and excluded is refused, and the refusal shows beside the button.
    await rules.getByRole('checkbox', { name: 'Exclude Meetup' }).check();
    await rules.getByRole('button', { name: 'Save lead rules' }).click();
    await rules.getByRole('alert').getByText(/'Meetup' is also synced: a list is either synced or excluded/).waitFor();
    await rules.getByRole('checkbox', { name: 'Exclude Meetup' }).uncheck();
    await rules.getByRole('button', { name: 'Save lead rules' }).click();
    await rules.getByRole('status').getByText(/Lead rules saved/).waitFor();
    expect((await read()).rules.syncedLists).toEqual([{ listId: list.id, listName: 'Meetup', columnMapping: { [listColumn.id]: employer!.id } }]);
    await runSyncs(team);
    expect((await team.request('GET', `/api/v1/campaigns/v2/${campaign.id}/leads`)).json().leads.map((l: { prospect: { platformId: string } }) => l.prospect.platformId)).toEqual([member]);
    // The page hears of it too (and its sections below the leads settle where they now are).
    const leadsSection = p.getByRole('region', { name: 'Leads' });
    await leadsSection.getByRole('row', { name: `@w${member.slice(-12)}` }).waitFor();

    // No longer synced: the page asks what becomes of its leads; removing them takes them out.
    await rules.getByRole('checkbox', { name: 'Sync Meetup' }).uncheck();
    const detach = rules.getByRole('group', { name: 'Leads of Meetup, no longer synced' });
    expect(await detach.getByRole('radio', { name: 'Keep them in the campaign' }).isChecked()).toBe(true);
    await detach.getByRole('radio', { name: /^Remove those only these lists brought/ }).check();
    await rules.getByRole('button', { name: 'Save lead rules' }).click();
    await rules.getByRole('status').getByText(/Lead rules saved/).waitFor();
    expect((await read()).rules.syncedLists).toEqual([]);
    await runSyncs(team);
    expect((await team.request('GET', `/api/v1/campaigns/v2/${campaign.id}/leads`)).json().leads).toEqual([]);
    await leadsSection.getByText('No lead yet').waitFor();

    // Deleting asks once more in place; kept, then deleted, back to the list.
    await p.getByRole('button', { name: 'Delete campaign' }).click();
    const confirm = p.getByRole('group', { name: 'Confirm deletion' });
    await confirm.getByText('Delete “Everything” with its leads and results? This cannot be undone.').waitFor();
    await confirm.getByRole('button', { name: 'Keep it' }).click();
    await confirm.waitFor({ state: 'detached' });
    await p.getByRole('button', { name: 'Delete campaign' }).click();
    await confirm.getByRole('button', { name: 'Delete for good' }).click();
    await p.getByRole('heading', { name: 'Campaigns', level: 1 }).waitFor();
    expect(new URL(p.url()).pathname).toBe('/app/campaigns');
    await p.getByText('No campaign yet').waitFor();
    expect((await team.request('GET', `/api/v1/campaigns/v2/${campaign.id}`)).statusCode).toBe(404);
  }, 120_000);
});
