import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { createJobRunner } from '../src/app/workers/background-jobs.js';
import { testContext } from './helpers/app.js';
import { browserSuite, inboundDm, newWebTeam, signIn, type WebTeam } from './helpers/browser.js';
import { addMember } from './helpers/session.js';
import { sharedStore } from './helpers/store.js';
import { sandboxFollowerId, sandboxLikerId, seededLikeCount } from '../src/platforms/sandbox-audience.js';
import { allLeads, linkAccount, ok, randomPlatformId } from './helpers/sandbox.js';

const suite = browserSuite();

async function page(team: WebTeam, path: string): Promise<Page> {
  const p = await suite.page();
  await signIn(p, team.email);
  await p.getByRole('list', { name: 'Threads' }).waitFor();
  await p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: path }).click();
  return p;
}

/** Where a test's screenshots go when SCREENSHOTS names a folder (to look at the pages; nothing checks them). */
async function screenshot(p: Page, name: string): Promise<void> {
  if (process.env.SCREENSHOTS) await p.screenshot({ path: `${process.env.SCREENSHOTS}/${name}.png` });
}

/** A list of `count` new prospects, added through the API; their ids, oldest first. */
async function listOf(team: WebTeam, name: string, count: number): Promise<{ listId: string; ids: string[]; usernames: string[] }> {
  const list = await ok(team.request('POST', '/api/v1/lists', { name }));
  const platformIds = Array.from({ length: count }, () => randomPlatformId());
  await ok(team.request('POST', `/api/v1/lists/${list.id}/leads`, { platformIds }));
  const page = await ok(team.request('GET', `/api/v1/prospects?listId=${list.id}&sort=createdAt&order=asc&limit=500`));
  return { listId: list.id, ids: page.prospects.map((p: { externalId: string }) => p.externalId), usernames: page.prospects.map((p: { username: string }) => p.username) };
}

/** An import's row: its type, when it started (in the viewer's words), then the rest of its row from its status on. */
const jobRow = (imports: Locator, type: string, rest: string) => imports.getByRole('row', { name: new RegExp(`^${type} \\S.*? ${rest}`) });

const prospect = async (team: WebTeam, id: string) => ok(team.request('GET', `/api/v1/prospects/${id}`));

describe('lists', () => {
  it('shows the system lists, adds leads by pasting ids and usernames, and removes one', async () => {
    const team = await newWebTeam(suite.rig());
    const p = await page(team, 'Lists');
    const lists = p.getByRole('navigation', { name: 'Lists' });
    await lists.getByRole('button', { name: /Contacted/ }).waitFor();
    await lists.getByRole('button', { name: /Mutual/ }).waitFor();
    await p.getByRole('textbox', { name: 'New list name' }).fill('Founders');
    await p.getByRole('button', { name: 'Create list' }).click();
    await p.getByRole('heading', { name: 'Founders' }).waitFor();

    const [a, b, c] = [randomPlatformId(), randomPlatformId(), randomPlatformId()];
    await p.getByRole('textbox', { name: 'X user ids or usernames' }).fill(`${a}, @user${b}\nhttps://x.com/user${c}\n${a}`);
    await p.getByRole('button', { name: 'Add leads' }).click();
    await expect.poll(() => p.getByRole('status').filter({ hasText: 'added' }).textContent()).toBe('3 added');
    const table = p.getByRole('table', { name: 'Leads of Founders' });
    for (const id of [a, b, c]) await table.getByRole('cell', { name: id, exact: true }).waitFor();
    await expect.poll(() => lists.getByRole('button', { name: /Founders/ }).textContent()).toBe('Founders 3');
    await screenshot(p, 'lists');

    await p.getByRole('button', { name: `Remove @user${b}` }).click();
    await expect.poll(() => table.getByRole('row').count()).toBe(3);
    const [list] = (await ok(team.request('GET', '/api/v1/lists'))).filter((l: { name: string }) => l.name === 'Founders');
    const leads = await ok(team.request('GET', `/api/v1/lists/${list.id}/leads`));
    expect(leads.leads.map((l: { prospect: { platformId: string } }) => l.prospect.platformId).sort()).toEqual([a, c].sort());
  });

  it('shows the system lists Contacted and Mutual with their leads, filled by the conversations and not editable', async () => {
    const team = await newWebTeam(suite.rig());
    // One prospect we wrote to who never answered, and one who wrote back.
    const { accountLinkId, from: answered } = await inboundDm(team, 'Sounds good');
    const silent = randomPlatformId();
    await ok(team.request('POST', '/api/v1/threads/messages', { accountLinkId, externalPlatformId: silent, content: 'Hello there' }));
    const p = await page(team, 'Lists');
    const nav = p.getByRole('navigation', { name: 'Lists' });
    await expect.poll(() => nav.getByRole('button', { name: /^Contacted/ }).textContent()).toBe('Contacted 2');
    await expect.poll(() => nav.getByRole('button', { name: /^Mutual/ }).textContent()).toBe('Mutual 1');

    /** Opens a system list and checks that its leads are exactly these X user ids. */
    const expectLeads = async (name: string, platformIds: string[]) => {
      await nav.getByRole('button', { name: new RegExp(`^${name}`) }).click();
      await p.getByRole('heading', { name, exact: true }).waitFor();
      const table = p.getByRole('table', { name: `Leads of ${name}` });
      for (const id of platformIds) await table.getByRole('cell', { name: id, exact: true }).waitFor();
      expect(await table.getByRole('row').count()).toBe(platformIds.length + 1);
      // System lists are not edited by hand: no add, import or remove.
      await p.getByText("A system list: it follows the team's conversations by itself and cannot be edited.").waitFor();
      expect(await p.getByRole('textbox', { name: 'X user ids or usernames' }).count()).toBe(0);
      expect(await table.getByRole('button', { name: /^Remove/ }).count()).toBe(0);
    };
    await expectLeads('Contacted', [answered, silent]);
    await screenshot(p, 'lists-contacted');
    await expectLeads('Mutual', [answered]);
  });

  it('imports a CSV after mapping its columns, shows progress and the rejected row with its reason, and cancels an import', async () => {
    const team = await newWebTeam(suite.rig());
    const list = await ok(team.request('POST', '/api/v1/lists', { name: 'Imported' }));
    const company = await ok(team.request('POST', `/api/v1/lists/${list.id}/columns`, { name: 'Company', type: 'text' }));
    const p = await page(team, 'Lists');
    await p.getByRole('navigation', { name: 'Lists' }).getByRole('button', { name: /Imported/ }).click();
    await p.getByRole('heading', { name: 'Imported' }).waitFor();

    const [a, b] = [randomPlatformId(), randomPlatformId()];
    const csv = `Handle,X id,Org\n@user${a},${a},Acme\n,,Nobody\nuser${b},${b},Globex\n`;
    await p.getByLabel('CSV file', { exact: true }).setInputFiles({ name: 'leads.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    // The mapping step guesses from the header; the person picks the rest.
    await expect.poll(() => p.getByRole('combobox', { name: 'Column that names the lead' }).inputValue()).toBe('X id');
    await p.getByRole('combobox', { name: 'Column that names the lead' }).selectOption('Handle');
    await p.getByRole('combobox', { name: 'It holds' }).selectOption('username');
    await p.getByRole('combobox', { name: 'CSV column for Company' }).selectOption('Org');
    await p.getByRole('button', { name: 'Start import' }).click();
    const imports = p.getByRole('table', { name: 'Imports into Imported' });
    await jobRow(imports, 'CSV file', 'Waiting to start 0 of 3 rows').waitFor();

    // The server's job runner does the import; the page hears of it on the event stream.
    const { importJobs } = await ok(team.request('GET', `/api/v1/import-jobs?listId=${list.id}`));
    await createJobRunner(await testContext()).runOnce(importJobs[0].id);
    const done = jobRow(imports, 'CSV file', 'Imported 3 of 3 rows 2 added · 0 already in the list · 1 rejected');
    await done.waitFor();
    await expect.poll(() => done.getByRole('progressbar', { name: 'CSV file import progress' }).getAttribute('value')).toBe('3');
    const rejected = p.getByRole('table', { name: 'Rejected rows' });
    await rejected.getByRole('row', { name: '2 missing username' }).waitFor();
    const imported = p.getByRole('table', { name: 'Leads of Imported' });
    await imported.getByRole('row', { name: new RegExp(`@user${b} ${b} Globex`) }).waitFor();
    const leads = await ok(team.request('GET', `/api/v1/lists/${list.id}/leads`));
    expect(leads.leads.map((l: { data: Record<string, string> }) => l.data[company.id]).sort()).toEqual(['Acme', 'Globex']);
    await screenshot(p, 'lists-import');

    // A second import, canceled before the runner gets to it.
    await p.getByLabel('CSV file', { exact: true }).setInputFiles({ name: 'more.csv', mimeType: 'text/csv', buffer: Buffer.from(`id\n${randomPlatformId()}\n`) });
    await p.getByRole('button', { name: 'Start import' }).click();
    const waiting = jobRow(imports, 'CSV file', 'Waiting to start 0 of 1 row ');
    await waiting.getByRole('button', { name: 'Cancel' }).click();
    await jobRow(imports, 'CSV file', 'Canceled 0 of 1 row ').waitFor();
    const jobs = await ok(team.request('GET', `/api/v1/import-jobs?listId=${list.id}`));
    expect(jobs.importJobs.map((j: { status: string }) => j.status)).toEqual(['canceled', 'completed']);
  });
});

describe('importing followers and likes', () => {
  /** A list of the team's, shown on the Lists page. */
  async function listPage(team: WebTeam, name: string): Promise<{ p: Page; listId: string }> {
    const list = await ok(team.request('POST', '/api/v1/lists', { name }));
    const p = await page(team, 'Lists');
    await p.getByRole('navigation', { name: 'Lists' }).getByRole('button', { name: new RegExp(name) }).click();
    await p.getByRole('heading', { name }).waitFor();
    return { p, listId: list.id };
  }

  const jobIds = async (team: WebTeam, listId: string): Promise<string[]> => (await ok(team.request('GET', `/api/v1/lists/${listId}/import-jobs`))).data.map((j: { id: string }) => j.id);
  const leadIds = async (team: WebTeam, listId: string) => new Set((await allLeads(team, listId)).map((l) => l.prospect.platformId));

  it("imports a linked account's followers, shown batch by batch with the rejected follower, into the list", async () => {
    const team = await newWebTeam(suite.rig());
    const account = await linkAccount(team);
    await ok(team.request('PUT', `/api/v1/sandbox/profiles/${account.platformId}`, { username: account.username, followerCount: 150 }));
    const suspended = sandboxFollowerId(account.platformId, 7);
    await ok(team.request('PUT', `/api/v1/sandbox/profiles/${suspended}`, { accountStatus: 'suspended' }));
    const { p, listId } = await listPage(team, 'Audience');

    // Keyboard first: the importers are radio buttons, moved between by the arrow keys.
    await p.getByRole('radio', { name: 'A CSV file' }).focus();
    await p.keyboard.press('ArrowRight');
    expect(await p.getByRole('radio', { name: "An account's followers" }).isChecked()).toBe(true);
    await expect.poll(() => p.getByRole('combobox', { name: 'Whose followers' }).inputValue()).toBe(account.platformId);
    await p.getByRole('button', { name: 'Import followers' }).click();
    const imports = p.getByRole('table', { name: 'Imports into Audience' });
    await jobRow(imports, 'Followers', 'Waiting to start 0 of 150 followers').waitFor();

    // One page of 100 a turn: the page shows the job under way, then done.
    const [jobId] = await jobIds(team, listId);
    await createJobRunner(await testContext(), { batchesPerTurn: 1 }).runOnce(jobId);
    await jobRow(imports, 'Followers', 'Importing 100 of 150 followers 99 added · 0 already in the list · 1 rejected').waitFor();
    // The list's count follows each batch.
    const nav = p.getByRole('navigation', { name: 'Lists' }).getByRole('button', { name: /Audience/ });
    await expect.poll(() => nav.textContent()).toBe('Audience 99');
    await createJobRunner(await testContext()).runOnce(jobId);
    await jobRow(imports, 'Followers', 'Imported 150 of 150 followers 149 added · 0 already in the list · 1 rejected').waitFor();
    await p.getByRole('table', { name: 'Rejected rows' }).getByRole('row', { name: new RegExp(`^8 X user id '${suspended}' could not be resolved`) }).waitFor();
    await expect.poll(() => nav.textContent()).toBe('Audience 149');
    await p.getByRole('table', { name: 'Leads of Audience' }).getByRole('cell', { name: sandboxFollowerId(account.platformId, 0), exact: true }).waitFor();
    const expected = Array.from({ length: 150 }, (_, i) => sandboxFollowerId(account.platformId, i)).filter((id) => id !== suspended);
    expect(await leadIds(team, listId)).toEqual(new Set(expected));
    await screenshot(p, 'lists-followers');
  });

  it("imports a post's likes by its link, shows the API's refusals where they happen, and cancels a running followers import", async () => {
    const team = await newWebTeam(suite.rig());
    const { p, listId } = await listPage(team, 'Likers');
    const imports = p.getByRole('table', { name: 'Imports into Likers' });

    // Not a post's link: the API says so under the field, and no job exists.
    await p.getByRole('radio', { name: "A post's likes" }).check();
    const post = p.getByRole('textbox', { name: 'Post link or id' });
    await post.fill('https://x.com/someone/likes');
    await post.press('Enter');
    await p.getByRole('alert').filter({ hasText: "'https://x.com/someone/likes' is not a link to a post" }).waitFor();
    expect(await post.getAttribute('aria-invalid')).toBe('true');
    await screenshot(p, 'lists-likes-refused');
    expect(await jobIds(team, listId)).toEqual([]);

    // A post some people liked (the sandbox seeds 0 to 29 likers per post).
    let author = randomPlatformId();
    while (seededLikeCount(author) < 2) author = randomPlatformId();
    const likers = seededLikeCount(author);
    await post.fill(`https://x.com/user${author}/status/${author}?s=20`);
    await post.press('Enter');
    await jobRow(imports, 'Likes of a post', 'Waiting to start 0 likes so far').waitFor();
    expect(await post.inputValue()).toBe('');
    await expect.poll(() => p.getByRole('alert').filter({ hasText: 'is not a link to a post' }).count()).toBe(0);
    const [likesJob] = await jobIds(team, listId);
    await createJobRunner(await testContext()).runOnce(likesJob);
    await jobRow(imports, 'Likes of a post', `Imported ${likers} of ${likers} likes ${likers} added`).waitFor();
    expect(await leadIds(team, listId)).toEqual(new Set(Array.from({ length: likers }, (_, i) => sandboxLikerId(author, i))));
    await expect.poll(() => p.getByRole('table', { name: 'Leads of Likers' }).getByRole('row').count()).toBe(likers + 1);

    // An account the platform does not know is refused by the API, shown under the form.
    await p.getByRole('radio', { name: "An account's followers" }).check();
    // Without a linked account, the only choice is to name one.
    expect(await p.getByRole('combobox', { name: 'Whose followers' }).inputValue()).toBe('');
    const username = p.getByRole('textbox', { name: 'Username or profile link' });
    await username.fill('@nobody_at_all_here');
    await username.press('Enter');
    await p.getByRole('alert').filter({ hasText: 'No sandbox account @nobody_at_all_here' }).waitFor();
    expect(await jobIds(team, listId)).toEqual([likesJob]);

    // A followers import by profile link, canceled between two of its batches: what it added stays.
    const star = randomPlatformId();
    await ok(team.request('PUT', `/api/v1/sandbox/profiles/${star}`, { followerCount: 230 }));
    await username.fill(`https://x.com/user${star}`);
    await username.press('Enter');
    await jobRow(imports, 'Followers', 'Waiting to start 0 of 230 followers').waitFor();
    const [followersJob] = await jobIds(team, listId);
    await createJobRunner(await testContext(), { batchesPerTurn: 1 }).runOnce(followersJob);
    const running = jobRow(imports, 'Followers', 'Importing 100 of 230 followers');
    await running.waitFor();
    await screenshot(p, 'lists-followers-running');
    await running.getByRole('button', { name: 'Cancel' }).click();
    await jobRow(imports, 'Followers', 'Canceled 100 of 230 followers 100 added').waitFor();
    await expect.poll(() => running.count()).toBe(0);
    expect(await createJobRunner(await testContext()).runOnce(followersJob)).toBe(0);
    const jobs = (await ok(team.request('GET', `/api/v1/lists/${listId}/import-jobs`))).data;
    expect(jobs.map((j: { type: string; status: string; processedCount: number }) => [j.type, j.status, j.processedCount])).toEqual([
      ['followers', 'canceled', 100],
      ['likes', 'completed', likers],
    ]);
    expect((await leadIds(team, listId)).size).toBe(likers + 100);
    await screenshot(p, 'lists-likes');
  });
});

describe('prospects', () => {
  it('tags 500 prospects with one bulk call', async () => {
    const team = await newWebTeam(suite.rig());
    await listOf(team, 'Five hundred', 500);
    const tag = await ok(team.request('POST', '/api/v1/tags', { name: 'Launch' }));
    const p = await page(team, 'Prospects');
    await p.getByText('500 prospects', { exact: true }).waitFor();
    const table = p.getByRole('table', { name: 'Prospects' });
    // Virtualised: far fewer rows than prospects are in the DOM.
    await expect.poll(async () => (await table.getByRole('row').count()) < 60).toBe(true);

    const bulkCalls: string[] = [];
    p.on('request', (request) => request.url().endsWith('/api/v1/prospects/bulk') && bulkCalls.push(request.method()));
    await p.getByRole('button', { name: 'Select all 500 matching' }).click();
    await p.getByText('500 selected', { exact: true }).waitFor();
    await p.getByRole('combobox', { name: 'Add tag to selected' }).selectOption({ label: 'Launch' });
    await p.getByRole('status').filter({ hasText: 'Tagged 500 prospects' }).waitFor();
    expect(bulkCalls).toEqual(['POST']);
    expect((await ok(team.request('GET', `/api/v1/prospects?tagIds=${tag.id}&limit=1`))).total).toBe(500);
    await table.getByRole('row').nth(1).getByText('Launch').waitFor();
    await screenshot(p, 'prospects');
  }, 90_000);

  it('edits inline, filters and sorts, and rolls back a refused edit with the reason', async () => {
    const team = await newWebTeam(suite.rig());
    const { ids, usernames } = await listOf(team, 'Few', 3);
    const won = await ok(team.request('POST', '/api/v1/statuses', { name: 'Won' }));
    const gone = await ok(team.request('POST', '/api/v1/statuses', { name: 'Going away' }));
    const p = await page(team, 'Prospects');
    await p.getByText('3 prospects', { exact: true }).waitFor();

    await p.getByRole('combobox', { name: `Status of @${usernames[0]}` }).selectOption({ label: 'Won' });
    await expect.poll(async () => (await prospect(team, ids[0]!)).context.statusId).toBe(won.id);
    const value = p.getByRole('textbox', { name: `Value of @${usernames[1]}` });
    await value.fill('1200');
    await value.press('Enter');
    await expect.poll(async () => (await prospect(team, ids[1]!)).context.valuation).toBe(1200);
    // Shown as the pipeline board shows values once the field is left, and edited as plain digits.
    await value.press('Tab');
    await expect.poll(() => value.inputValue()).toBe('1,200');
    await value.focus();
    expect(await value.inputValue()).toBe('1200');
    // Entered, its digits are selected, so what is typed replaces them.
    await value.pressSequentially('950');
    await value.press('Enter');
    await expect.poll(async () => (await prospect(team, ids[1]!)).context.valuation).toBe(950);
    const notes = p.getByRole('textbox', { name: `Notes on @${usernames[2]}` });
    await notes.fill('Met at the conference');
    await notes.press('Tab');
    await expect.poll(async () => (await prospect(team, ids[2]!)).context.notes).toBe('Met at the conference');

    await p.getByRole('combobox', { name: 'Filter by status' }).selectOption({ label: 'Won' });
    await p.getByText('1 prospects', { exact: true }).waitFor();
    await p.getByRole('combobox', { name: 'Filter by status' }).selectOption({ label: 'Status: any' });
    await p.getByText('3 prospects', { exact: true }).waitFor();
    await p.getByRole('button', { name: 'Value' }).click();
    await expect.poll(() => p.getByRole('table', { name: 'Prospects' }).getByRole('row').nth(1).textContent()).toContain(`@${usernames[1]}`);
    await p.getByRole('columnheader', { name: 'Value' }).and(p.locator('[aria-sort="descending"]')).waitFor();

    // A teammate deletes a status the page still offers: choosing it is refused, and the row goes back.
    expect((await team.request('DELETE', `/api/v1/statuses/${gone.id}`)).statusCode).toBe(200);
    const status = p.getByRole('combobox', { name: `Status of @${usernames[2]}` });
    await status.selectOption({ label: 'Going away' });
    await p.getByRole('alert').filter({ hasText: `Not saved for @${usernames[2]}: Status with ID '${gone.id}' not found` }).waitFor();
    await expect.poll(() => status.inputValue()).toBe('');
    expect((await prospect(team, ids[2]!)).context.statusId).toBeNull();

    // The arrows move between rows in a column, as in a spreadsheet.
    const boxes = p.getByRole('table', { name: 'Prospects' }).getByRole('checkbox', { name: /^Select @/ });
    await boxes.nth(0).focus();
    await p.keyboard.press('ArrowDown');
    expect(await p.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe(await boxes.nth(1).getAttribute('aria-label'));
    await p.keyboard.press('ArrowUp');
    expect(await p.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe(await boxes.nth(0).getAttribute('aria-label'));

    await p.getByText('Columns', { exact: true }).click();
    await p.getByRole('checkbox', { name: 'Notes' }).uncheck();
    await expect.poll(() => p.getByRole('columnheader', { name: 'Notes' }).count()).toBe(0);
  });
});

describe('prospects: filters, inline tags and assignees, bulk actions', () => {
  /** The usernames of the rows shown, in order. */
  const shownUsernames = (p: Page) =>
    p.getByRole('table', { name: 'Prospects' }).getByRole('checkbox', { name: /^Select @/ }).evaluateAll((boxes) => boxes.map((box) => box.getAttribute('aria-label')!.slice('Select @'.length)));
  const sorted = (names: string[]) => [...names].sort();

  it("filters by tag, assignee, list and campaign, and edits tags and the assignee inline, a refused edit rolled back with the API's reason", async () => {
    const team = await newWebTeam(suite.rig());
    const teammate = await addMember(team.teamId, 'admin');
    const leaving = await addMember(team.teamId, 'user');
    const { ids, usernames } = await listOf(team, 'Four', 4);
    const [hot, cold] = [await ok(team.request('POST', '/api/v1/tags', { name: 'Hot' })), await ok(team.request('POST', '/api/v1/tags', { name: 'Cold' }))];
    await ok(team.request('PATCH', `/api/v1/prospects/${ids[3]}/context`, { addTags: [hot.id] }));
    await ok(team.request('PATCH', `/api/v1/prospects/${ids[1]}/context`, { assigneeId: teammate.memberId }));
    const short = await ok(team.request('POST', '/api/v1/lists', { name: 'Short' }));
    await ok(team.request('POST', `/api/v1/lists/${short.id}/leads`, { externalIds: [ids[0], ids[1]] }));
    const account = await linkAccount(team);
    const spring = await ok(team.request('POST', '/api/v1/campaigns/v2', { name: 'Spring', accountLinkIds: [account.id] }));
    await ok(team.request('POST', `/api/v1/campaigns/v2/${spring.id}/leads`, { externalIds: [ids[2]] }));
    const p = await page(team, 'Prospects');
    await p.getByText('4 prospects', { exact: true }).waitFor();
    const who = (i: number) => `@${usernames[i]}`;

    // Tags: added from the row's + menu and removed by the chip's ×, each saved.
    await p.getByRole('combobox', { name: `Add tag to ${who(0)}` }).selectOption({ label: 'Hot' });
    await p.getByRole('button', { name: `Remove tag Hot from ${who(0)}` }).waitFor();
    await expect.poll(async () => (await prospect(team, ids[0]!)).context.tags).toEqual([hot.id]);
    await p.getByRole('button', { name: `Remove tag Hot from ${who(3)}` }).click();
    await expect.poll(() => p.getByRole('button', { name: `Remove tag Hot from ${who(3)}` }).count()).toBe(0);
    await expect.poll(async () => (await prospect(team, ids[3]!)).context.tags).toEqual([]);
    // A teammate deletes a tag the page still offers: adding it is refused, and the chip goes again.
    expect((await team.request('DELETE', `/api/v1/tags/${cold.id}`)).statusCode).toBe(200);
    await p.getByRole('combobox', { name: `Add tag to ${who(0)}` }).selectOption({ label: 'Cold' });
    await p.getByRole('alert').filter({ hasText: `Not saved for ${who(0)}: Tag with ID '${cold.id}' not found` }).waitFor();
    await expect.poll(() => p.getByRole('button', { name: `Remove tag Cold from ${who(0)}` }).count()).toBe(0);
    expect((await prospect(team, ids[0]!)).context.tags).toEqual([hot.id]);

    // The assignee: chosen in the row, saved; one who left the team meanwhile is refused and the row goes back.
    await p.getByRole('combobox', { name: `Assignee of ${who(2)}` }).selectOption({ label: 'A admin' });
    await expect.poll(async () => (await prospect(team, ids[2]!)).context.assigneeId).toBe(teammate.memberId);
    // The API has no route to remove a member yet, so the member leaves through the store.
    await (await sharedStore()).db.deleteFrom('members').where('id', '=', leaving.memberId).execute();
    const assignee = p.getByRole('combobox', { name: `Assignee of ${who(1)}` });
    await assignee.selectOption({ label: 'A user' });
    await p.getByRole('alert').filter({ hasText: `Not saved for ${who(1)}: Member with ID '${leaving.memberId}' not found` }).waitFor();
    await expect.poll(() => assignee.inputValue()).toBe(teammate.memberId);
    expect((await prospect(team, ids[1]!)).context.assigneeId).toBe(teammate.memberId);
    await screenshot(p, 'prospects-inline');

    // Each filter shows what it matches, and its total.
    const filter = async (name: string, label: string, count: number, expected: number[]) => {
      await p.getByRole('combobox', { name: `Filter by ${name}` }).selectOption({ label });
      await p.getByText(`${count} prospects`, { exact: true }).waitFor();
      await expect.poll(async () => sorted(await shownUsernames(p))).toEqual(sorted(expected.map((i) => usernames[i]!)));
    };
    await filter('tag', 'Hot', 1, [0]);
    await filter('tag', 'Tag: any', 4, [0, 1, 2, 3]);
    await filter('assignee', 'A admin', 2, [1, 2]);
    await filter('assignee', 'Unassigned', 2, [0, 3]);
    // Filters add up: unassigned and in Short.
    await filter('list', 'Short', 1, [0]);
    await filter('assignee', 'Assignee: any', 2, [0, 1]);
    await filter('list', 'List: any', 4, [0, 1, 2, 3]);
    await filter('campaign', 'Spring', 1, [2]);
    await screenshot(p, 'prospects-filtered');
    await filter('campaign', 'Campaign: any', 4, [0, 1, 2, 3]);
  });

  it('sets the status, assigns, adds to a list and to a campaign for a selection, one API call each', async () => {
    const team = await newWebTeam(suite.rig());
    const teammate = await addMember(team.teamId, 'admin');
    const { ids, usernames } = await listOf(team, 'Three', 3);
    const won = await ok(team.request('POST', '/api/v1/statuses', { name: 'Won' }));
    const target = await ok(team.request('POST', '/api/v1/lists', { name: 'Target' }));
    const account = await linkAccount(team);
    const launch = await ok(team.request('POST', '/api/v1/campaigns/v2', { name: 'Launch', accountLinkIds: [account.id] }));
    const p = await page(team, 'Prospects');
    await p.getByText('3 prospects', { exact: true }).waitFor();
    const bulkCalls: string[] = [];
    p.on('request', (request) => request.url().endsWith('/api/v1/prospects/bulk') && bulkCalls.push(request.method()));
    const chosen = [0, 2];
    for (const i of chosen) await p.getByRole('checkbox', { name: `Select @${usernames[i]}` }).check();
    await p.getByText('2 selected', { exact: true }).waitFor();
    const done = (text: string) => p.getByRole('status').filter({ hasText: text }).waitFor();
    const context = async (i: number) => (await prospect(team, ids[i]!)).context;

    await p.getByRole('combobox', { name: 'Set status of selected' }).selectOption({ label: 'Won' });
    await done('Status set for 2 prospects');
    expect(bulkCalls).toHaveLength(1);
    for (const i of [0, 1, 2]) expect(await p.getByRole('combobox', { name: `Status of @${usernames[i]}` }).inputValue()).toBe(chosen.includes(i) ? won.id : '');
    expect((await Promise.all([0, 1, 2].map(context))).map((c) => c.statusId)).toEqual([won.id, null, won.id]);

    await p.getByRole('combobox', { name: 'Assign selected' }).selectOption({ label: 'A admin' });
    await done('Assigned 2 prospects');
    expect(bulkCalls).toHaveLength(2);
    for (const i of [0, 1, 2]) expect(await p.getByRole('combobox', { name: `Assignee of @${usernames[i]}` }).inputValue()).toBe(chosen.includes(i) ? teammate.memberId : '');
    expect((await Promise.all([0, 1, 2].map(context))).map((c) => c.assigneeId)).toEqual([teammate.memberId, null, teammate.memberId]);

    await p.getByRole('combobox', { name: 'Add selected to list' }).selectOption({ label: 'Target' });
    await done('Added to the list: 2 prospects');
    expect(bulkCalls).toHaveLength(3);
    await p.getByRole('combobox', { name: 'Add selected to campaign' }).selectOption({ label: 'Launch' });
    await done('Added to the campaign: 2 prospects');
    expect(bulkCalls).toEqual(['POST', 'POST', 'POST', 'POST']);
    await screenshot(p, 'prospects-bulk');

    // The adds show in the table's filters, and in the API.
    const expected = sorted(chosen.map((i) => usernames[i]!));
    await p.getByRole('combobox', { name: 'Filter by list' }).selectOption({ label: 'Target' });
    await p.getByText('2 prospects', { exact: true }).waitFor();
    await expect.poll(async () => sorted(await shownUsernames(p))).toEqual(expected);
    await p.getByRole('combobox', { name: 'Filter by list' }).selectOption({ label: 'List: any' });
    await p.getByRole('combobox', { name: 'Filter by campaign' }).selectOption({ label: 'Launch' });
    await p.getByText('2 prospects', { exact: true }).waitFor();
    await expect.poll(async () => sorted(await shownUsernames(p))).toEqual(expected);
    expect((await ok(team.request('GET', `/api/v1/lists/${target.id}`))).leadsCount).toBe(2);
    const leads = (await ok(team.request('GET', `/api/v1/campaigns/v2/${launch.id}/leads`))).leads;
    expect(sorted(leads.map((l: { prospect: { username: string } }) => l.prospect.username))).toEqual(expected);
  });
});

describe('the pipeline board', () => {
  it('changes a status by dragging a card and by the keyboard', async () => {
    const team = await newWebTeam(suite.rig());
    const { ids, usernames } = await listOf(team, 'Board', 2);
    const fresh = await ok(team.request('POST', '/api/v1/statuses', { name: 'New' }));
    const qualified = await ok(team.request('POST', '/api/v1/statuses', { name: 'Qualified' }));
    await ok(team.request('PATCH', `/api/v1/prospects/${ids[1]}/context`, { statusId: fresh.id }));
    const p = await page(team, 'Pipeline');
    const column = (name: string) => p.getByRole('region', { name });
    const card = (i: number) => p.getByRole('listitem', { name: new RegExp(`@${usernames[i]}$`) });
    await column('No status').getByRole('listitem', { name: new RegExp(`@${usernames[0]}$`) }).waitFor();
    await column('New').getByRole('listitem', { name: new RegExp(`@${usernames[1]}$`) }).waitFor();
    await screenshot(p, 'pipeline');

    await card(0).dragTo(column('Qualified'));
    await column('Qualified').getByRole('listitem', { name: new RegExp(`@${usernames[0]}$`) }).waitFor();
    await expect.poll(async () => (await prospect(team, ids[0]!)).context.statusId).toBe(qualified.id);

    await card(1).focus();
    await p.keyboard.press('Alt+ArrowRight');
    await column('Qualified').getByRole('listitem', { name: new RegExp(`@${usernames[1]}$`) }).waitFor();
    await expect.poll(async () => (await prospect(team, ids[1]!)).context.statusId).toBe(qualified.id);
    // Focus stays on the moved card, so the next move follows.
    await p.keyboard.press('Alt+ArrowLeft');
    await p.keyboard.press('Alt+ArrowLeft');
    await column('No status').getByRole('listitem', { name: new RegExp(`@${usernames[1]}$`) }).waitFor();
    await expect.poll(async () => (await prospect(team, ids[1]!)).context.statusId).toBeNull();

    await p.getByRole('combobox', { name: `Move @${usernames[1]} to` }).selectOption({ label: 'New' });
    await expect.poll(async () => (await prospect(team, ids[1]!)).context.statusId).toBe(fresh.id);
  });
});
