import { useState } from 'preact/hooks';
import { api, ApiError, type Me } from '../api.js';
import { navigate } from '../router.js';
import { me } from '../session.js';

export function SignIn() {
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  async function submit(event: Event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    setBusy(true);
    setError('');
    try {
      me.value = await api<Me>('POST', '/auth/sign-in', { email: form.get('email'), password: form.get('password') });
      navigate('/app');
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.message : String(caught));
    } finally {
      setBusy(false);
    }
  }
  return (
    <main class="auth-page">
      <form class="auth-card" onSubmit={submit}>
        <h1>Sign in to Inbox</h1>
        <label>
          Email
          <input name="email" type="email" autocomplete="username" required />
        </label>
        <label>
          Password
          <input name="password" type="password" autocomplete="current-password" required />
        </label>
        <div role="alert" class="form-error">
          {error}
        </div>
        <button type="submit" class="primary" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}
