import { describe, expect, it } from 'vitest';
import { WebhookDispatcher } from '../src/app/events/webhook-delivery.js';
import { testContext } from './helpers/app.js';
import { browserSuite, newWebTeam, signIn } from './helpers/browser.js';
import { addMember } from './helpers/session.js';
import { startReceiver } from './helpers/receiver.js';
import { sharedStore } from './helpers/store.js';

const suite = browserSuite();

async function settingsPage(email: string, password?: string) {
  const p = await suite.page();
  await signIn(p, email, password);
  await p.getByRole('list', { name: 'Threads' }).waitFor();
  await p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
  await p.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
  return p;
}

describe('Settings', () => {
  it('creates a webhook whose signing secret is shown once, lists its recent deliveries, and deletes it', async () => {
    const receiver = await startReceiver();
    try {
      const team = await newWebTeam(suite.rig());
      const p = await settingsPage(team.email);
      const hooks = p.getByRole('region', { name: 'Webhooks' });
      await hooks.getByText('No webhook yet.').waitFor();
      await hooks.getByRole('textbox', { name: 'Webhook URL' }).fill(receiver.url);
      await hooks.getByRole('textbox', { name: 'Event types' }).fill('tag.created');
      await hooks.getByRole('button', { name: 'Create webhook' }).click();
      const secret = await hooks.getByText(/shown only once/).locator('code').textContent();
      expect(secret).toMatch(/^whsec_/);
      const [stored] = (await team.request('GET', '/api/v1/webhooks')).json();
      expect(stored).toMatchObject({ url: receiver.url, eventTypes: ['tag.created'] });
      expect(stored.secret).toBeUndefined();

      // An event for it, delivered to the receiver, shows under the webhook; the secret is gone after a reload.
      await team.request('POST', '/api/v1/tags', { name: 'Delivered' });
      await new WebhookDispatcher(await testContext()).runOnce();
      expect(receiver.received).toHaveLength(1);
      await p.reload();
      await hooks.getByText(/tag\.created · delivered · HTTP 200 · 1 attempt/).waitFor();
      expect(await hooks.getByText(/shown only once/).count()).toBe(0);
      expect(await p.getByText(secret!).count()).toBe(0);

      // One the server switched off says why, beside the button that turns it back on.
      const { db } = await sharedStore();
      await db.updateTable('webhooks').set({ enabled: false, disabled_at: new Date(), disabled_reason: 'every delivery has failed since yesterday (last: HTTP 503)' }).where('id', '=', stored.id).execute();
      await p.reload();
      await hooks.getByText('Switched off by the server: every delivery has failed since yesterday (last: HTTP 503).').waitFor();
      await hooks.getByRole('button', { name: `Enable the webhook ${receiver.url}` }).click();
      await expect.poll(async () => (await team.request('GET', '/api/v1/webhooks')).json()[0].enabled).toBe(true);
      await hooks.getByRole('button', { name: `Enable the webhook ${receiver.url}` }).waitFor({ state: 'detached' });

      await hooks.getByRole('button', { name: `Delete the webhook ${receiver.url}` }).click();
      await hooks.getByRole('button', { name: `Confirm deleting the webhook ${receiver.url}` }).click();
      await hooks.getByText('No webhook yet.').waitFor();
      expect((await team.request('GET', '/api/v1/webhooks')).json()).toEqual([]);
    } finally {
      await receiver.close();
    }
  });

  it('lists the members, creates an invite link that is listed, and adds a status', async () => {
    const team = await newWebTeam(suite.rig());
    const p = await settingsPage(team.email);
    const members = p.getByRole('region', { name: 'Members' });
    await members.getByText(team.email).waitFor();
    const email = `colleague-${team.teamId}@example.test`;
    await members.getByRole('textbox', { name: 'Invite email' }).fill(email);
    await members.getByRole('combobox', { name: 'Role', exact: true }).selectOption('admin');
    await members.getByRole('button', { name: 'Create invite link' }).click();
    const link = await members.getByText(`Send this link to ${email}`).locator('code').textContent();
    expect(link).toMatch(new RegExp(`^${suite.rig().origin}/app/accept/.+`));
    await members.getByRole('listitem').filter({ hasText: email }).getByText(/admin · expires/).waitFor();
    const invites = (await team.request('GET', '/api/v1/invites')).json().data;
    expect(invites).toMatchObject([{ email, role: 'admin' }]);

    const statuses = p.getByRole('region', { name: 'Statuses' });
    await statuses.getByRole('textbox', { name: 'New status name' }).fill('Qualified');
    await statuses.getByRole('button', { name: 'Add' }).click();
    await statuses.getByText('Qualified', { exact: true }).waitFor();
    expect((await team.request('GET', '/api/v1/statuses')).json().map((s: { name: string }) => s.name)).toContain('Qualified');
  });

  it("changes a member's role, removes a member after a second click, revokes an invite, and shows a refusal in place", async () => {
    const team = await newWebTeam(suite.rig());
    const [agent, leaver] = [await addMember(team.teamId, 'user'), await addMember(team.teamId, 'user')];
    const invited = `invited-${team.teamId}@example.test`;
    await team.request('POST', '/api/v1/invites', { email: invited });
    const p = await settingsPage(team.email);
    const members = p.getByRole('region', { name: 'Members' });
    const memberRoles = async () => Object.fromEntries((await team.request('GET', '/api/v1/members')).json().map((m: { email: string; role: string }) => [m.email, m.role]));

    await members.getByRole('combobox', { name: `Role of ${agent.email}` }).selectOption('admin');
    await expect.poll(async () => (await memberRoles())[agent.email]).toBe('admin');

    await members.getByRole('button', { name: `Remove ${leaver.email}` }).click();
    await members.getByRole('button', { name: `Confirm removing ${leaver.email}` }).click();
    await members.getByRole('cell', { name: leaver.email, exact: true }).waitFor({ state: 'detached' });
    expect(Object.keys(await memberRoles())).not.toContain(leaver.email);

    await members.getByRole('button', { name: `Revoke the invite of ${invited}` }).click();
    await members.getByRole('listitem').filter({ hasText: invited }).waitFor({ state: 'detached' });
    expect((await team.request('GET', '/api/v1/invites')).json().data).toEqual([]);

    // The only owner stepping down is refused: the message shows in the section, the select goes back.
    const own = members.getByRole('combobox', { name: `Role of ${team.email}` });
    await own.selectOption('user');
    await members.getByRole('alert').first().getByText('A team keeps at least one owner').waitFor();
    await expect.poll(() => own.inputValue()).toBe('owner');
    expect((await memberRoles())[team.email]).toBe('owner');
  });

  it('shows a user who is not an admin no member or account-link controls, and the API refuses them', async () => {
    const team = await newWebTeam(suite.rig());
    await team.request('POST', '/api/v1/account-links/sandbox', { username: 'seen_not_managed' });
    const agent = await addMember(team.teamId, 'user');
    const p = await settingsPage(agent.email, agent.password);
    const accounts = p.getByRole('region', { name: 'Linked accounts' });
    await accounts.getByRole('cell', { name: '@seen_not_managed' }).waitFor();
    expect(await accounts.getByRole('button').count()).toBe(0);
    expect(await accounts.getByRole('spinbutton').count()).toBe(0);
    expect(await accounts.getByRole('textbox').count()).toBe(0);
    const members = p.getByRole('region', { name: 'Members' });
    await members.getByRole('cell', { name: team.email, exact: true }).waitFor();
    expect(await members.getByRole('combobox').count()).toBe(0);
    expect(await members.getByRole('button').count()).toBe(0);
    expect(await members.getByRole('heading', { name: 'Invites' }).count()).toBe(0);
    const refused = await p.evaluate(async (ownerId) => {
      const response = await fetch(`/api/v1/members/${ownerId}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ role: 'user' }) });
      return { status: response.status, body: await response.json() };
    }, team.ownerMemberId);
    expect(refused).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
  });

  it("changes a linked account's daily limit, and shows the API's refusal of a bad one where it happened", async () => {
    const team = await newWebTeam(suite.rig());
    await team.request('POST', '/api/v1/account-links/sandbox', { username: 'limits_acct' });
    const p = await settingsPage(team.email);
    const accounts = p.getByRole('region', { name: 'Linked accounts' });
    const daily = accounts.getByRole('spinbutton', { name: 'Daily limit of @limits_acct' });
    await daily.fill('40');
    await daily.press('Tab');
    await expect.poll(async () => (await team.request('GET', '/api/v1/account-links')).json()[0].dailyLimit).toBe(40);
    await daily.fill('-5');
    await daily.press('Tab');
    await expect.poll(() => accounts.getByRole('alert').textContent()).toMatch(/.+/);
    await expect.poll(() => daily.inputValue()).toBe('40');
  });
});
