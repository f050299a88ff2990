import { expect } from 'vitest';
import type { TeamClient } from './app.js';

/** A platform id no other test uses (sandbox users are global; allocated ids start at 1.9e18). */
export const randomPlatformId = () => String(1_000_000_000_000 + Math.floor(Math.random() * 9e14));

/** A sandbox username no other test uses (X usernames are at most 15 characters). */
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
