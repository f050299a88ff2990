import { expect } from 'vitest';
import type { TeamClient } from './app.js';

/** A platform id no other test uses (sandbox users are global; allocated ids start at 1.9e18). */
export const randomPlatformId = () => String(1_000_000_000_000 + Math.floor(Math.random() * 9e14));

/** A sandbox username no other test uses (sandbox usernames may have 24 characters). */
export const randomUsername = (prefix = 'u') => `${prefix}${Math.random().toString(36).slice(2, 12)}`;

/** Expects a 200 and returns the JSON body. */
export async function ok<T = any>(response: Promise<{ statusCode: number; body: string; json(): unknown }>): Promise<T> {
  const r = await response;
  expect(r.statusCode, r.body).toBe(200);
  return r.json() as T;
}

/** Expects an error envelope with this status and code. */
export async function fails(response: Promise<{ statusCode: number; body: string; json(): any }>, status: number, code: string) {
  const r = await response;
  expect(r.statusCode, r.body).toBe(status);
  expect(r.json().error).toMatchObject({ code, status });
  return r.json().error as { code: string; message: string; status: number; details?: unknown };
}

export const linkAccount = (team: TeamClient, username = randomUsername('acct'), name?: string) =>
  ok(team.request('POST', '/api/v1/account-links/sandbox', { username, ...(name ? { name } : {}) }));

/** A sandbox user DMs the team's account. */
export const inbound = (team: TeamClient, accountLinkId: string, fromPlatformId: string, content: string) =>
  ok(team.request('POST', '/api/v1/sandbox/inbound', { accountLinkId, fromPlatformId, content }));

export const eventTypes = async (team: TeamClient): Promise<string[]> =>
  (await ok(team.request('GET', '/api/v1/events?limit=1000'))).events.map((e: { type: string }) => e.type);

export const events = async (team: TeamClient): Promise<Array<{ seq: number; type: string; data: any }>> =>
  (await ok(team.request('GET', '/api/v1/events?limit=1000'))).events;

/** A team's account with a thread started by an inbound DM from a fresh sandbox user. */
export async function conversation(team: TeamClient, account?: { id: string; platformId: string }) {
  const linked = account ?? (await linkAccount(team));
  const from = randomPlatformId();
  const first = await inbound(team, linked.id, from, `Hello from ${from}`);
  const thread = await ok(team.request('GET', `/api/v1/threads/${first.threadId}`));
  return { account: linked, from, first, thread, prospectId: thread.prospect.externalId as string };
}

/** The same, answered by us, so the thread is X Chat. */
export async function xChat(team: TeamClient, account?: { id: string; platformId: string }) {
  const c = await conversation(team, account);
  const reply = await ok(team.request('POST', `/api/v1/threads/${c.thread.id}/messages`, { content: 'Our reply' }));
  return { ...c, reply };
}

/** Every lead of a list, page after page. */
export async function allLeads(team: TeamClient, listId: string) {
  const leads: Array<{ prospect: { platformId: string }; data: Record<string, unknown> }> = [];
  let query = '?limit=100';
  for (;;) {
    const page = await ok(team.request('GET', `/api/v1/lists/${listId}/leads${query}`));
    leads.push(...page.leads);
    if (!page.nextCursor) return leads;
    query = `?limit=100&cursorId=${page.nextCursor.id}&cursorTimestamp=${encodeURIComponent(page.nextCursor.timestamp)}`;
  }
}
