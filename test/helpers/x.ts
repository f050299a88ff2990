import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../src/app/context.js';
import type { AccountLink } from '../../src/app/accounts/account-links.js';
import { buildServer } from '../../src/http/server.js';
import { FakeX, type FakeXOptions, type FakeXUser } from '../fixtures/fake-x/server.js';
import { newTeam, testContext, type TeamClient } from './app.js';
import { TestClock } from './clock.js';
import { ok } from './sandbox.js';

export const X_SECRET_KEY = '8f2a6c1e9b3d4f5a7c0e2b4d6f8a1c3e5b7d9f0a2c4e6b8d0f1a3c5e7b9d2f4a';
export const X_CONSUMER_SECRET = 'fake-consumer-secret';
const APP_TOKEN = 'fake-app-only-bearer';

/** The fake X's OAuth client and app-only token, as the Inbox side is configured with them. */
export const FAKE_X_CLIENT = { clientId: 'inbox-client', clientSecret: 'inbox-client-secret', appBearerToken: APP_TOKEN };

/** The environment that points an Inbox process (in this one, or a child) at a fake X server. */
export function xEnv(fakeUrl: string, appToken = true): Record<string, string> {
  return {
    INBOX_SECRET_KEY: X_SECRET_KEY,
    INBOX_X_CLIENT_ID: FAKE_X_CLIENT.clientId,
    INBOX_X_CLIENT_SECRET: FAKE_X_CLIENT.clientSecret,
    INBOX_X_REDIRECT_URL: 'https://inbox.example/api/v1/account-links/x/callback',
    INBOX_X_API_URL: fakeUrl,
    INBOX_X_CONSUMER_SECRET: X_CONSUMER_SECRET,
    ...(appToken ? { INBOX_X_APP_BEARER_TOKEN: APP_TOKEN } : {}),
  };
}

/** A fake X server and an Inbox server configured to use it, sharing one test clock. */
export interface XWorld {
  fake: FakeX;
  ctx: AppContext;
  app: FastifyInstance;
  clock: TestClock;
  team(): Promise<TeamClient>;
  close(): Promise<void>;
}

export async function xWorld(
  options: { fake?: Partial<FakeXOptions>; env?: Record<string, string>; ctx?: Partial<AppContext>; appToken?: boolean } = {},
): Promise<XWorld> {
  const clock = new TestClock();
  const fake = await new FakeX({ ...FAKE_X_CLIENT, now: () => clock.now(), ...options.fake }).start();
  const ctx = {
    ...(await testContext({ clock, env: { ...xEnv(fake.url, options.appToken ?? true), ...options.env } })),
    ...options.ctx,
  };
  const app = await buildServer(ctx);
  await app.ready();
  return {
    fake,
    ctx,
    app,
    clock,
    team: () => newTeam(app),
    close: async () => {
      await app.close();
      await fake.stop();
    },
  };
}

/** The whole OAuth dance: authorize, the user consents on (fake) X, X sends the browser to the callback. */
export async function linkX(world: XWorld, team: TeamClient, user?: FakeXUser): Promise<{ link: AccountLink; user: FakeXUser }> {
  const who = user ?? world.fake.addUser({ username: `acct${Math.random().toString(36).slice(2, 9)}`, name: 'Our Account' });
  const { url } = await ok<{ url: string }>(team.request('POST', '/api/v1/account-links/x/authorize', {}));
  const { code, state } = world.fake.consent(url, who.id);
  const link = await ok<AccountLink>(world.app.inject({ method: 'GET', url: `/api/v1/account-links/x/callback?${new URLSearchParams({ code, state })}` }));
  return { link, user: who };
}
