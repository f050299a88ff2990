import { signal } from '@preact/signals';
import { api, ApiError, type Me } from './api.js';
import { navigate, route } from './router.js';

/** The signed-in member and team, or null before /auth/me answered or when signed out. */
export const me = signal<Me | null>(null);

const PUBLIC = /^\/app\/(sign-in|accept\/)/;

/** Asks who is signed in; unauthenticated pages that need a session go to the sign-in page. */
export async function loadSession(): Promise<void> {
  try {
    me.value = await api<Me>('GET', '/auth/me');
  } catch (error) {
    me.value = null;
    if (error instanceof ApiError && error.status === 401 && !PUBLIC.test(route.value)) navigate('/app/sign-in', true);
    else if (!(error instanceof ApiError && error.status === 401)) throw error;
  }
}

export async function signOut(): Promise<void> {
  await api('POST', '/auth/sign-out');
  me.value = null;
  navigate('/app/sign-in');
}
