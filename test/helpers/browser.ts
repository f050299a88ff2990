import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { setPassword } from '../../src/app/team/sessions.js';
import { buildServer } from '../../src/http/server.js';
import { newTeam, testContext, type TeamClient } from './app.js';
import { sharedStore } from './store.js';

export const PASSWORD = 'correct horse battery';

/** Debian's Chromium, headless, with nothing that reaches out to the network by itself. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface WebRig {
  app: FastifyInstance;
  /** the listening server's origin, e.g. http://127.0.0.1:41234 */
  origin: string;
  browser: Browser;
  close(): Promise<void>;
}

/** A real listening server on the shared test store and one browser: one of each per test file. */
export async function startWebRig(): Promise<WebRig> {
  const app = await buildServer(await testContext());
  const origin = await app.listen({ host: '127.0.0.1', port: 0 });
  // A plain launch starts Chromium on a fresh temporary profile of its own.
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  return {
    app,
    origin,
    browser,
    close: async () => {
      await browser.close();
      await app.close();
    },
  };
}

export interface TestPage {
  page: Page;
  context: BrowserContext;
  /** uncaught page errors and console errors, which every test expects to stay empty */
  errors: string[];
}

/** A page in a fresh browser context (its own cookies and storage), recording its errors. */
export async function openPage(rig: WebRig): Promise<TestPage> {
  const context = await rig.browser.newContext({ baseURL: rig.origin, viewport: { width: 1440, height: 860 } });
  const page = await context.newPage();
  // Fail a step with its own message well before the test's timeout.
  page.setDefaultTimeout(20_000);
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    // A refused request is expected where a test provokes one (a wrong password); the page shows it itself.
    if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) errors.push(`console: ${message.text()}`);
  });
  return { page, context, errors };
}

export interface WebTeam extends TeamClient {
  email: string;
}

/** A fresh team whose owner has a password, so the browser can sign in. */
export async function newWebTeam(rig: WebRig, name?: string): Promise<WebTeam> {
  const team = await newTeam(rig.app, name);
  const [owner] = (await team.request('GET', '/api/v1/members')).json() as Array<{ id: string; userId: string; email: string }>;
  await setPassword((await sharedStore()).db, owner!.userId, PASSWORD, new Date());
  return { ...team, email: owner!.email };
}

/** The inbox's thread list; each row is a link to its thread, named by the prospect and the last message. */
export const threadList = (page: Page) => page.getByRole('list', { name: 'Threads' });
export const threadLink = (page: Page, name: string | RegExp) => threadList(page).getByRole('link', { name });
/** The row the keyboard has selected: it carries aria-current. */
export const selectedThread = (page: Page) => threadList(page).locator('li[aria-current="true"]');

export async function signIn(page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.goto('/app/sign-in');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/**
 * The hooks every browser test file needs: one rig for the file, and a fresh page per test whose page errors fail
 * the test once it ends. Call at the top of the file.
 */
export function browserSuite() {
  let rig: WebRig | undefined;
  let current: TestPage | undefined;
  beforeAll(async () => {
    rig = await startWebRig();
  });
  afterAll(async () => {
    await rig?.close();
  });
  afterEach(async () => {
    const errors = current?.errors ?? [];
    await current?.context.close();
    current = undefined;
    expect(errors).toEqual([]);
  });
  return {
    rig: () => rig!,
    page: async (): Promise<Page> => {
      current = await openPage(rig!);
      return current.page;
    },
  };
}

let nextPlatformId = 7_000_000;

/** A linked sandbox account, our opener and a DM back from a new prospect, through the API as any client would. */
export async function inboundDm(team: WebTeam, content: string, options: { accountLinkId?: string; from?: string; name?: string } = {}) {
  let accountLinkId = options.accountLinkId;
  if (!accountLinkId) {
    const link = await team.request('POST', '/api/v1/account-links/sandbox', { username: `acct${nextPlatformId}` });
    expect(link.statusCode).toBe(200);
    accountLinkId = link.json().id as string;
  }
  const from = options.from ?? String(nextPlatformId++);
  if (options.name) expect((await team.request('PUT', `/api/v1/sandbox/profiles/${from}`, { displayName: options.name })).statusCode).toBe(200);
  // We write first, so the prospect's answer lands in the default inbox rather than in Requests.
  const opener = await team.request('POST', '/api/v1/threads/messages', { accountLinkId, externalPlatformId: from, content: 'Hello from us' });
  expect(opener.statusCode).toBe(200);
  const inbound = await team.request('POST', '/api/v1/sandbox/inbound', { accountLinkId, fromPlatformId: from, content });
  expect(inbound.statusCode).toBeLessThan(300);
  return { accountLinkId, from };
}
