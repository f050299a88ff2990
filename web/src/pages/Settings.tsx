import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { z } from 'zod';
import type { CreatedTokenSchema, TokenSchema } from '../../../src/http/schemas/team.js';
import type { CreatedWebhookSchema, DeliveryPageSchema, WebhookSchema } from '../../../src/http/schemas/webhooks.js';
import { api, ApiError, type AccountLink, type CreatedInvite, type Invite, type Member, type Status, type Tag } from '../api.js';
import { useEditedField } from '../components/edited-field.js';
import { loadSession, me } from '../session.js';

type Token = z.infer<typeof TokenSchema>;
type Webhook = z.infer<typeof WebhookSchema>;

/** Loads a section's data; a refusal (e.g. 403 for a user who is not an admin) becomes the section's message. */
function useLoad<T>(path: string): [T | null, string, () => void, (message: string) => void] {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState('');
  const [version, setVersion] = useState(0);
  useEffect(() => {
    // A reload after a refused change keeps the refusal's message; the next change that succeeds clears it.
    api<T>('GET', path).then(setData, (caught: Error) => setError(caught.message));
  }, [path, version]);
  return [data, error, () => setVersion((v) => v + 1), setError];
}

function Section({ title, error, children }: { title: string; error: string; children?: ComponentChildren }) {
  const id = `section-${title.toLowerCase().replace(/\W+/g, '-')}`;
  return (
    <section class="settings-section" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      <div role="alert" class="form-error">{error}</div>
      {children}
    </section>
  );
}

async function submit(event: Event, action: (form: FormData) => Promise<void>, fail: (message: string) => void) {
  event.preventDefault();
  const element = event.currentTarget as HTMLFormElement;
  try {
    await action(new FormData(element));
    element.reset();
    fail('');
  } catch (caught) {
    fail(caught instanceof ApiError ? caught.message : String(caught));
  }
}

/**
 * A limit edited in place. Uncontrolled, so a reload that lands while someone types does not overwrite their
 * digits; a value saved elsewhere shows once the field is not being edited, and a refused value goes back.
 */
function LimitInput({ label, saved, save }: { label: string; saved: number; save: (value: number) => Promise<boolean> }) {
  const input = useEditedField(String(saved));
  return (
    <input
      ref={input}
      class="narrow"
      type="number"
      aria-label={label}
      defaultValue={String(saved)}
      onChange={(e) => {
        const field = e.currentTarget;
        void save(Number(field.value)).then((accepted) => { if (!accepted) field.value = String(saved); });
      }}
    />
  );
}

/** Owners and admins manage members, tokens, webhooks and account links (the API enforces it; the page follows). */
const managing = () => {
  const role = me.value?.member.role;
  return role === 'owner' || role === 'admin';
};

function Accounts() {
  const [list, error, reload, fail] = useLoad<AccountLink[]>('/account-links');
  const manager = managing();
  const save = (account: AccountLink, change: Partial<Pick<AccountLink, 'hourlyLimit' | 'dailyLimit'>>) =>
    api('PATCH', `/account-links/${account.id}`, change).then(
      () => (fail(''), reload(), true),
      (caught: Error) => (fail(caught.message), false),
    );
  return (
    <Section title="Linked accounts" error={error}>
      <table class="table">
        <thead><tr><th>Account</th><th>Platform</th><th>Status</th><th>Hourly limit</th><th>Daily limit</th></tr></thead>
        <tbody>
          {list?.map((account) => (
            <tr key={account.id}>
              <td>@{account.username}</td>
              <td>{account.platform}</td>
              <td>{account.status}</td>
              <td>{manager ? <LimitInput label={`Hourly limit of @${account.username}`} saved={account.hourlyLimit} save={(hourlyLimit) => save(account, { hourlyLimit })} /> : account.hourlyLimit}</td>
              <td>{manager ? <LimitInput label={`Daily limit of @${account.username}`} saved={account.dailyLimit} save={(dailyLimit) => save(account, { dailyLimit })} /> : account.dailyLimit}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {manager && (
        <>
          <form class="inline-form" onSubmit={(e) => submit(e, async (form) => { await api('POST', '/account-links/sandbox', { username: form.get('username') }); reload(); }, fail)}>
            <input name="username" aria-label="Sandbox username" placeholder="sandbox username" required />
            <button type="submit">Link a sandbox account</button>
          </form>
          <button
            class="x-link"
            onClick={() => api<{ url: string }>('POST', '/account-links/x/authorize', {}).then((started) => location.assign(started.url), (caught: Error) => fail(caught.message))}
          >
            Link an X account
          </button>
        </>
      )}
    </Section>
  );
}

const ROLE_NAMES: Record<Member['role'], string> = { owner: 'Owner', admin: 'Admin', user: 'User' };

function Members() {
  const [list, error, reload, fail] = useLoad<Member[]>('/members');
  const role = me.value?.member.role;
  const manager = managing();
  // Only owners make, change or remove an owner (the API says so too).
  const editable = (member: Member) => manager && (role === 'owner' || member.role !== 'owner');
  const roles = (Object.keys(ROLE_NAMES) as Member['role'][]).filter((r) => role === 'owner' || r !== 'owner');
  // Removing asks once more in place: a second click on the same button confirms.
  const [confirming, setConfirming] = useState<string | null>(null);
  const done = (member: Member) => {
    fail('');
    reload();
    // One's own role or membership changed: the page's idea of who is signed in follows.
    if (member.id === me.value?.member.id) void loadSession();
  };
  const changeRole = (member: Member, field: HTMLSelectElement) =>
    api('PATCH', `/members/${member.id}`, { role: field.value }).then(
      () => done(member),
      (caught: Error) => ((field.value = member.role), fail(caught.message)),
    );
  const remove = (member: Member) => {
    if (confirming !== member.id) return setConfirming(member.id);
    setConfirming(null);
    api('DELETE', `/members/${member.id}`).then(() => done(member), (caught: Error) => fail(caught.message));
  };
  return (
    <Section title="Members" error={error}>
      <table class="table">
        <thead><tr><th>Name</th><th>Email</th><th>Role</th>{manager && <th aria-label="Actions" />}</tr></thead>
        <tbody>
          {list?.map((member) => (
            <tr key={member.id}>
              <td>{member.name || '—'}</td>
              <td class="muted">{member.email}</td>
              <td>
                {editable(member) ? (
                  <select aria-label={`Role of ${member.email}`} value={member.role} onChange={(e) => changeRole(member, e.currentTarget)}>
                    {roles.map((r) => <option key={r} value={r}>{ROLE_NAMES[r]}</option>)}
                  </select>
                ) : (
                  ROLE_NAMES[member.role]
                )}
              </td>
              {manager && (
                <td>
                  {editable(member) && (
                    <button aria-label={confirming === member.id ? `Confirm removing ${member.email}` : `Remove ${member.email}`} onClick={() => remove(member)} onBlur={() => setConfirming(null)}>
                      {confirming === member.id ? 'Really remove?' : 'Remove'}
                    </button>
                  )}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {manager && <Invites />}
    </Section>
  );
}

function Invites() {
  const [list, error, reload, fail] = useLoad<{ data: Invite[] }>('/invites');
  const [created, setCreated] = useState<CreatedInvite | null>(null);
  const revoke = (invite: Invite) =>
    api('DELETE', `/invites/${invite.id}`).then(
      () => (fail(''), setCreated((shown) => (shown?.id === invite.id ? null : shown)), reload()),
      (caught: Error) => fail(caught.message),
    );
  return (
    <div>
      <h3>Invites</h3>
      <div role="alert" class="form-error">{error}</div>
      <ul class="plain">
        {list?.data.map((invite) => (
          <li key={invite.id}>
            {invite.email} <span class="muted">{invite.role} · expires {new Date(invite.expiresAt).toLocaleDateString()}</span>{' '}
            <button aria-label={`Revoke the invite of ${invite.email}`} onClick={() => revoke(invite)}>Revoke</button>
          </li>
        ))}
      </ul>
      <form class="inline-form" onSubmit={(e) => submit(e, async (form) => { setCreated(await api<CreatedInvite>('POST', '/invites', { email: form.get('email'), role: form.get('role') })); reload(); }, fail)}>
        <input name="email" type="email" aria-label="Invite email" placeholder="name@company.com" required />
        <select name="role" aria-label="Role"><option value="user">User</option><option value="admin">Admin</option></select>
        <button type="submit">Create invite link</button>
      </form>
      {created?.url && <p>Send this link to {created.email}: <code>{location.origin}{created.url}</code></p>}
    </div>
  );
}

function Tokens() {
  const [list, error, reload, fail] = useLoad<Token[]>('/tokens');
  const [created, setCreated] = useState<z.infer<typeof CreatedTokenSchema> | null>(null);
  return (
    <Section title="API tokens" error={error}>
      {list && (
        <>
          <ul class="plain">{list.filter((token) => !token.revokedAt).map((token) => <li key={token.id}>{token.name} <span class="muted">…{token.hint}</span></li>)}</ul>
          <form class="inline-form" onSubmit={(e) => submit(e, async (form) => { setCreated(await api('POST', '/tokens', { name: form.get('name') })); reload(); }, fail)}>
            <input name="name" aria-label="Token name" placeholder="token name" required />
            <button type="submit">Create token</button>
          </form>
          {created && <p>Copy it now, it is shown only once: <code>{created.token}</code></p>}
        </>
      )}
    </Section>
  );
}

function Deliveries({ webhookId }: { webhookId: string }) {
  const [page, error] = useLoad<z.infer<typeof DeliveryPageSchema>>(`/webhooks/${webhookId}/deliveries?limit=5`);
  if (error) return <div role="alert" class="form-error">{error}</div>;
  if (!page?.deliveries.length) return <p class="muted small">No delivery yet.</p>;
  return (
    <ul class="plain small">
      {page.deliveries.map((delivery) => (
        <li key={delivery.id}>
          {delivery.eventType} · <strong>{delivery.status}</strong>
          {delivery.lastStatusCode !== null && ` · HTTP ${delivery.lastStatusCode}`} · {delivery.attempts} attempt{delivery.attempts === 1 ? '' : 's'}
          <span class="muted"> · {new Date(delivery.createdAt).toLocaleString()}</span>
        </li>
      ))}
    </ul>
  );
}

function Webhooks() {
  const [list, error, reload, fail] = useLoad<Webhook[]>('/webhooks');
  const [created, setCreated] = useState<z.infer<typeof CreatedWebhookSchema> | null>(null);
  // Deleting asks once more in place: a second click on the same button confirms.
  const [confirming, setConfirming] = useState<string | null>(null);
  const remove = (hook: Webhook) => {
    if (confirming !== hook.id) return setConfirming(hook.id);
    setConfirming(null);
    api('DELETE', `/webhooks/${hook.id}`).then(() => (fail(''), reload()), (caught: Error) => fail(caught.message));
  };
  const enable = (hook: Webhook) =>
    api('PATCH', `/webhooks/${hook.id}`, { enabled: true }).then(() => (fail(''), reload()), (caught: Error) => fail(caught.message));
  return (
    <Section title="Webhooks" error={error}>
      {list && (
        <>
          {!list.length && <p class="muted">No webhook yet.</p>}
          <ul class="plain webhooks">
            {list.map((hook) => (
              <li key={hook.id}>
                <div class="webhook-head">
                  <span>
                    {hook.url} <span class="muted">{hook.enabled ? 'enabled' : 'disabled'} · {hook.eventTypes.join(', ')}</span>
                  </span>
                  <button aria-label={confirming === hook.id ? `Confirm deleting the webhook ${hook.url}` : `Delete the webhook ${hook.url}`} onClick={() => remove(hook)} onBlur={() => setConfirming(null)}>
                    {confirming === hook.id ? 'Really delete?' : 'Delete'}
                  </button>
                </div>
                {!hook.enabled && (
                  <p class="webhook-off">
                    {hook.disabledReason && <span class="webhook-off-reason">Switched off by the server: {hook.disabledReason}. </span>}
                    <button onClick={() => enable(hook)} aria-label={`Enable the webhook ${hook.url}`}>Enable</button>
                  </p>
                )}
                <Deliveries webhookId={hook.id} />
              </li>
            ))}
          </ul>
          <form
            class="inline-form"
            onSubmit={(e) =>
              submit(e, async (form) => {
                const eventTypes = String(form.get('eventTypes') || '*').split(/[\s,]+/).filter(Boolean);
                setCreated(await api('POST', '/webhooks', { url: form.get('url'), eventTypes }));
                reload();
              }, fail)
            }
          >
            <input name="url" type="url" aria-label="Webhook URL" placeholder="https://example.com/hooks" required />
            <input name="eventTypes" aria-label="Event types" placeholder="* or thread, message.created" />
            <button type="submit">Create webhook</button>
          </form>
          {created && (
            <p>
              Copy the signing secret of {created.url} now, it is shown only once: <code>{created.secret}</code>
            </p>
          )}
        </>
      )}
    </Section>
  );
}

function Labels({ title, path }: { title: string; path: '/tags' | '/statuses' }) {
  const [list, error, reload, fail] = useLoad<Array<Tag | Status>>(path);
  return (
    <Section title={title} error={error}>
      <div class="chips">{list?.map((label) => <span key={label.id} class="chip" style={{ '--chip': label.color ?? '#94a3b8' }}>{label.name}</span>)}</div>
      <form class="inline-form" onSubmit={(e) => submit(e, async (form) => { await api('POST', path, { name: form.get('name') }); reload(); }, fail)}>
        <input name="name" aria-label={`New ${title === 'Tags' ? 'tag' : 'status'} name`} required />
        <button type="submit">Add</button>
      </form>
    </Section>
  );
}

export function Settings() {
  return (
    <main class="page settings">
      <h1>Settings</h1>
      <Accounts />
      <Members />
      <Tokens />
      <Webhooks />
      <Labels title="Tags" path="/tags" />
      <Labels title="Statuses" path="/statuses" />
    </main>
  );
}
