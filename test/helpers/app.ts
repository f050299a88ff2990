import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { AppContext } from '../../src/app/context.js';
import { EventStreams } from '../../src/app/events/stream.js';
import { createTeam } from '../../src/app/team/teams.js';
import { createToken } from '../../src/app/team/tokens.js';
import { systemClock, type Clock } from '../../src/core/clock.js';
import { createLogger } from '../../src/cli/runtime.js';
import { loadConfig, type Config } from '../../src/config.js';
import { buildServer } from '../../src/http/server.js';
import { createPlatformRegistry } from '../../src/platforms/registry.js';
import { sharedStore } from './store.js';
import { leadWaits } from '../../src/engine/lead-waits.js';

export interface TestContextOptions {
  clock?: Clock;
  env?: Record<string, string>;
}

/** An AppContext on the shared store, with a silent logger and generous rate limits unless told otherwise. */
export async function testContext(options: TestContextOptions = {}): Promise<AppContext> {
  const store = await sharedStore();
  const config: Config = loadConfig({
    INBOX_RATE_LIMIT_PER_MINUTE: '100000',
    INBOX_RATE_LIMIT_PER_HOUR: '1000000',
    INBOX_RATE_LIMIT_PER_DAY: '10000000',
    INBOX_AUTH_FAILURES_PER_MINUTE: '1000000',
    INBOX_WEBHOOK_ALLOW_PRIVATE: '1',
    ...options.env,
  });
  const clock = options.clock ?? systemClock;
  return { db: store.db, clock, config, logger: pino({ level: 'silent' }), platforms: createPlatformRegistry(store.db, clock, config), eventStreams: new EventStreams(store.notifications), leadWaits };
}

let sharedApp: Promise<FastifyInstance> | undefined;

/** The HTTP server most tests share (one per worker). */
export function testApp(): Promise<FastifyInstance> {
  sharedApp ??= testContext().then(async (ctx) => {
    const app = await buildServer(ctx);
    await app.ready();
    return app;
  });
  return sharedApp;
}

export interface TeamClient {
  teamId: string;
  ownerMemberId: string;
  token: string;
  /** an HTTP request through the real stack, authenticated as this team */
  request(method: InjectOptions['method'], url: string, body?: unknown): Promise<LightMyRequestResponse>;
}

let teamCounter = 0;

/** A fresh team with an owner token: each test works in its own team. */
export async function newTeam(app?: FastifyInstance, name?: string): Promise<TeamClient> {
  const server = app ?? (await testApp());
  const { db } = await sharedStore();
  const now = new Date();
  const { team, owner } = await createTeam(db, name ?? `Test team ${process.pid}-${++teamCounter}`, now);
  const { token } = await createToken(db, { teamId: team.id, memberId: owner.id, name: 'test' }, now);
  return {
    teamId: team.id,
    ownerMemberId: owner.id,
    token,
    request: (method, url, body) =>
      server.inject({
        method,
        url,
        headers: { authorization: `Bearer ${token}` },
        ...(body === undefined ? {} : { payload: body as InjectOptions['payload'] }),
      }),
  };
}

/** A server on the shared store whose log (at info, through the CLI's logger and its redaction) is kept in memory. */
export async function serverWithMemoryLog(): Promise<{ server: FastifyInstance; ctx: AppContext; log: () => string }> {
  let written = '';
  const sink = new Writable({ write: (chunk, _encoding, done) => ((written += String(chunk)), done()) });
  const ctx = await testContext({ env: { LOG_LEVEL: 'info' } });
  const logged = { ...ctx, logger: createLogger(ctx.config, sink) };
  return { server: await buildServer(logged), ctx: logged, log: () => written };
}
