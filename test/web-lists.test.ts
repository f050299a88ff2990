import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { createJobRunner } from '../src/app/workers/background-jobs.js';
import { testContext } from './helpers/app.js';
import { browserSuite, newWebTeam, signIn, type WebTeam } from './helpers/browser.js';
import { ok, randomPlatformId } from './helpers/sandbox.js';

const suite = browserSuite();

async function page(team: WebTeam, path: string): Promise<Page> {
  const p = await suite.page();
  await signIn(p, team.email);
  await p.getByRole('listbox', { name: 'Threads' }).waitFor();
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

  it('imports a CSV after mapping its columns, shows progress and the rejected row with its reason, and cancels an import', async () => {
    const team = await newWebTeam(suite.rig());
    const list = await ok(team.request('POST', '/api/v1/lists', { name: 'Imported' }));
    const company = await ok(team.request('POST', `/api/v1/lists/${list.id}/columns`, { name: 'Company', type: 'text' }));
    const p = await page(team, 'Lists');
    await p.getByRole('navigation', { name: 'Lists' }).getByRole('button', { name: /Imported/ }).click();
    await p.getByRole('heading', { name: 'Imported' }).waitFor();

    const [a, b] = [randomPlatformId(), randomPlatformId()];
    const csv = `Handle,X id,Org\n@user${a},${a},Acme\n,,Nobody\nuser${b},${b},Globex\n`;
    await p.getByLabel('CSV file').setInputFiles({ name: 'leads.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    // The mapping step guesses from the header; the person picks the rest.
    await expect.poll(() => p.getByRole('combobox', { name: 'Column that names the lead' }).inputValue()).toBe('X id');
    await p.getByRole('combobox', { name: 'Column that names the lead' }).selectOption('Handle');
    await p.getByRole('combobox', { name: 'It holds' }).selectOption('username');
    await p.getByRole('combobox', { name: 'CSV column for Company' }).selectOption('Org');
    await p.getByRole('button', { name: 'Start import' }).click();
    await p.getByText('Waiting to start').waitFor();

    // The server's job runner does the import; the page hears of it on the event stream.
    const { importJobs } = await ok(team.request('GET', `/api/v1/import-jobs?listId=${list.id}`));
    await createJobRunner(await testContext()).runOnce(importJobs[0].id);
    await p.getByText('Imported · 3 of 3 rows').waitFor();
    await expect.poll(() => p.getByRole('progressbar', { name: 'Import progress' }).getAttribute('value')).toBe('3');
    const rejected = p.getByRole('table', { name: 'Rejected rows' });
    await rejected.getByRole('row', { name: '2 missing username' }).waitFor();
    await p.getByText('2 added · 0 already in the list · 1 rejected').waitFor();
    const imported = p.getByRole('table', { name: 'Leads of Imported' });
    await imported.getByRole('row', { name: new RegExp(`@user${b} ${b} Globex`) }).waitFor();
    const leads = await ok(team.request('GET', `/api/v1/lists/${list.id}/leads`));
    expect(leads.leads.map((l: { data: Record<string, string> }) => l.data[company.id]).sort()).toEqual(['Acme', 'Globex']);
    await screenshot(p, 'lists-import');

    // A second import, canceled before the runner gets to it.
    await p.getByLabel('CSV file').setInputFiles({ name: 'more.csv', mimeType: 'text/csv', buffer: Buffer.from(`id\n${randomPlatformId()}\n`) });
    await p.getByRole('button', { name: 'Start import' }).click();
    await p.getByRole('button', { name: 'Cancel import' }).click();
    await p.getByText('Canceled · 0 of 1 rows').waitFor();
    const jobs = await ok(team.request('GET', `/api/v1/import-jobs?listId=${list.id}`));
    expect(jobs.importJobs.map((j: { status: string }) => j.status)).toEqual(['canceled', 'completed']);
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
