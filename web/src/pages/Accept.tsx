import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type InviteLookup, type Me } from '../api.js';
import { navigate } from '../router.js';
import { me } from '../session.js';

/** Accepting an invite, or the one-time link that sets an existing member's password. */
export function Accept({ secret }: { secret: string }) {
  const [invite, setInvite] = useState<InviteLookup | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    api<InviteLookup>('GET', `/invites/accept/${encodeURIComponent(secret)}`).then(setInvite, (caught: ApiError) => setError(caught.message));
  }, [secret]);
  async function submit(event: Event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const name = String(form.get('name') ?? '').trim();
    try {
      me.value = await api<Me>('POST', `/invites/accept/${encodeURIComponent(secret)}`, {
        password: form.get('password'),
        ...(name ? { name } : {}),
      });
      navigate('/app');
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.message : String(caught));
    }
  }
  return (
    <main class="auth-page">
      <form class="auth-card" onSubmit={submit}>
        <h1>{invite ? (invite.kind === 'invite' ? `Join ${invite.teamName}` : 'Set your password') : 'Inbox'}</h1>
        {invite && <p class="muted">{invite.email}</p>}
        {invite?.kind === 'invite' && (
          <label>
            Name
            <input name="name" autocomplete="name" />
          </label>
        )}
        {invite && (
          <label>
            Password
            <input name="password" type="password" autocomplete="new-password" minLength={12} required />
          </label>
        )}
        <div role="alert" class="form-error">
          {error}
        </div>
        {invite && (
          <button type="submit" class="primary">
            {invite.kind === 'invite' ? 'Accept invite' : 'Set password'}
          </button>
        )}
      </form>
    </main>
  );
}
