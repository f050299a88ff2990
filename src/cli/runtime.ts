import pino, { type Logger } from 'pino';
import type { AppContext } from '../app/context.js';
import { EventStreams } from '../app/events/stream.js';
import { scaledClock, systemClock } from '../core/clock.js';
import { loadConfig, type Config } from '../config.js';
import { AppError } from '../core/errors.js';
import { Metrics } from '../http/metrics.js';
import { observeSends } from '../platforms/observed.js';
import { createPlatformRegistry } from '../platforms/registry.js';
import { migrateToLatest, openStore, type Store } from '../store/db.js';
import { leadWaits } from '../engine/lead-waits.js';
import { endLeases } from '../store/send-intents.js';
import { sealWebhookSecrets } from '../app/events/webhooks.js';

/** Query parameters that carry a one-time secret (the OAuth callback's code and state). */
const SECRET_QUERY_PARAMETERS = /([?&](?:code|state)=)[^&#]*/g;
/** Path segments that are a secret: an invite or password link, as the page (`/app/accept/…`) and the API take it. */
const SECRET_PATH_SEGMENTS = /(\/(?:app|invites)\/accept\/)[^/?#\s"]+/g;

/** A URL, or a message that quotes one (a 404 or 405 names the path), with its secrets redacted. */
const redactSecrets = (text: string) =>
  text.replace(SECRET_QUERY_PARAMETERS, '$1[redacted]').replace(SECRET_PATH_SEGMENTS, '$1[redacted]');

interface LoggedRequest {
  method: string;
  url?: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}

/** Logs go to stderr, so stdout carries only what a command prints for scripts (tokens, ids). */
export function createLogger(config: Config, destination: pino.DestinationStream = pino.destination(2)): Logger {
  return pino(
    {
      level: config.logLevel,
      // fastify's request fields, the URL's secrets redacted.
      serializers: {
        req: (req: LoggedRequest) => ({
          method: req.method,
          url: req.url === undefined ? undefined : redactSecrets(req.url),
          host: req.host,
          remoteAddress: req.ip,
          remotePort: req.socket?.remotePort,
        }),
      },
      // Session cookies and passwords never reach the logs, whatever logs a request or a body.
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]', '*.token', '*.secret', '*.password', '*.password_hash'],
        censor: '[redacted]',
      },
      // A refusal's message may quote the path (`PUT is not allowed on /api/v1/invites/accept/…`).
      formatters: {
        log: (fields) => (typeof fields.message === 'string' ? { ...fields, message: redactSecrets(fields.message) } : fields),
      },
    },
    destination,
  );
}

export interface Runtime {
  ctx: AppContext;
  store: Store;
  /** present when the configuration has a metrics token (GET /metrics) */
  metrics?: Metrics;
  close(): Promise<void>;
}

/** Opens the configured store (PGlite data directory or PostgreSQL), migrates it and builds the context. */
export async function openRuntime(config: Config): Promise<Runtime> {
  const logger = createLogger(config);
  // The engine, the use cases and the sandbox platform read one clock: the system's, or a test run's faster one.
  const clock = config.testClock ? scaledClock(config.testClock) : systemClock;
  if (config.testClock) logger.warn({ testClock: config.testClock }, 'running on a test clock, faster than real time');
  const store = await openStore(
    config.databaseUrl ? { kind: 'postgres', url: config.databaseUrl } : { kind: 'pglite', dataDir: config.dataDir, sharedBuffers: config.pgliteSharedBuffers },
  );
  try {
    const applied = await migrateToLatest(store.db);
    if (applied.length > 0) logger.info({ migrations: applied }, 'applied migrations');
    if (!config.databaseUrl) {
      // This process holds the data directory's lock: sends a crash left pending are no one else's to finish.
      const ended = await endLeases(store.db, clock.now());
      if (ended > 0) logger.info({ sends: ended }, 'reconciling sends a previous process left unconfirmed');
    }
    if (config.secretKey) {
      const sealed = await sealWebhookSecrets(store.db, config.secretKey);
      if (sealed > 0) logger.info({ webhooks: sealed }, 'sealed webhook signing secrets stored in clear');
    }
  } catch (error) {
    await store.close();
    throw error;
  }
  const metrics = config.metricsToken ? new Metrics(store) : undefined;
  const platforms = createPlatformRegistry(store.db, clock, config);
  const ctx: AppContext = {
    db: store.db,
    clock,
    config,
    logger,
    platforms: metrics ? observeSends(platforms, metrics.countSend) : platforms,
    eventStreams: new EventStreams(store.notifications),
    leadWaits,
  };
  return { ctx, store, metrics, close: () => store.close() };
}

/** Runs a command against the store, always closing it (and so releasing the data directory lock). */
export async function withRuntime<T>(fn: (runtime: Runtime) => Promise<T>): Promise<T> {
  const runtime = await openRuntime(loadConfig());
  try {
    return await fn(runtime);
  } finally {
    await runtime.close();
  }
}

/** The team a command acts on when it names none: the first one created. */
export async function firstTeamId(db: AppContext['db']): Promise<string> {
  const team = await db.selectFrom('teams').select('id').orderBy('created_at').executeTakeFirst();
  if (!team) throw new AppError(404, 'TEAM_NOT_FOUND', 'There is no team yet: run `inbox serve` once or `inbox team create NAME`');
  return team.id;
}

/** Where people reach this server, for the links the CLI prints. */
export const serverUrl = (config: { host: string; port: number }) =>
  `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
