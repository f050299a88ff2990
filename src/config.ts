import { isIP } from 'node:net';
import { z } from 'zod';
import { parseSecretKey, SecretBoxError } from './core/secret-box.js';

const flag = z
  .enum(['0', '1', 'true', 'false'])
  .transform((v) => v === '1' || v === 'true')
  .optional();

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const secretKey = z
  .string()
  .transform((text, zctx) => {
    try {
      return parseSecretKey(text);
    } catch (error) {
      zctx.addIssue({ code: 'custom', message: error instanceof SecretBoxError ? error.message : 'invalid key' });
      return z.NEVER;
    }
  })
  .optional();

const httpUrl = z.url({ protocol: /^https?$/ });

/** proxy-addr's names for address ranges, which fastify's trustProxy takes beside addresses and CIDRs. */
const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isProxyAddress(entry: string): boolean {
  if (PROXY_RANGE_NAMES.has(entry) || isIP(entry) !== 0) return true;
  const [address, bits, ...rest] = entry.split('/');
  const version = isIP(address ?? '');
  return rest.length === 0 && version !== 0 && /^\d{1,3}$/.test(bits ?? '') && Number(bits) <= (version === 4 ? 32 : 128);
}

/**
 * fastify's trustProxy: `true` (every hop), a hop count, or the proxies' addresses and CIDRs, comma-separated.
 * Off by default: X-Forwarded-* from a client that is not a trusted proxy would let it choose its own address.
 */
const trustProxy = z
  .string()
  .transform((text, zctx): boolean | number | string[] => {
    const value = text.trim();
    if (value === '' || value === 'false') return false;
    if (value === 'true') return true;
    if (/^\d+$/.test(value)) return Number(value);
    const entries = value.split(',').map((entry) => entry.trim());
    const bad = entries.filter((entry) => !isProxyAddress(entry));
    if (bad.length > 0) {
      zctx.addIssue({ code: 'custom', message: `must be true, false, a hop count or comma-separated addresses or CIDRs (not ${bad.map((entry) => JSON.stringify(entry)).join(', ')})` });
      return z.NEVER;
    }
    return entries;
  })
  .default(false);

const envSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  INBOX_DATA_DIR: z.string().min(1).default('./data'),
  INBOX_PGLITE_SHARED_BUFFERS: z
    .string()
    .regex(/^[1-9][0-9]*(kB|MB|GB)$/, 'must be a size such as 16MB')
    .default('16MB'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  INBOX_TRUST_PROXY: trustProxy,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  INBOX_BOOTSTRAP_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  INBOX_BOOTSTRAP_OWNER_EMAIL: z.email('must be an e-mail address').optional(),
  INBOX_BOOTSTRAP_OWNER_PASSWORD: z.string().min(12, 'must be at least 12 characters').max(1024).optional(),
  INBOX_RATE_LIMIT_PER_MINUTE: positiveInt(300),
  INBOX_RATE_LIMIT_PER_HOUR: positiveInt(10_000),
  INBOX_RATE_LIMIT_PER_DAY: positiveInt(100_000),
  INBOX_BODY_LIMIT_BYTES: positiveInt(1_048_576),
  INBOX_IMPORT_LIMIT_BYTES: positiveInt(512 * 1_048_576),
  INBOX_REQUEST_TIMEOUT_SECONDS: positiveInt(120),
  INBOX_IDLE_TIMEOUT_SECONDS: positiveInt(30),
  INBOX_MAX_CONNECTIONS_PER_ADDRESS: positiveInt(100),
  INBOX_AUTH_FAILURES_PER_MINUTE: positiveInt(30),
  INBOX_FORECAST_QUEUE: z.coerce.number().int().min(0).default(4),
  INBOX_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  INBOX_WEBHOOK_ALLOW_PRIVATE: flag,
  INBOX_SECRET_KEY: secretKey,
  INBOX_X_CLIENT_ID: z.string().min(1).optional(),
  INBOX_X_CLIENT_SECRET: z.string().min(1).optional(),
  INBOX_X_REDIRECT_URL: httpUrl.optional(),
  INBOX_X_API_URL: httpUrl.default('https://api.x.com'),
  INBOX_X_AUTHORIZE_URL: httpUrl.default('https://x.com/i/oauth2/authorize'),
  INBOX_X_CONSUMER_SECRET: z.string().min(1).optional(),
  INBOX_X_APP_BEARER_TOKEN: z.string().min(1).optional(),
  INBOX_X_SEND_LIMIT_15MIN: positiveInt(200),
  INBOX_X_SEND_LIMIT_24H: positiveInt(1_000),
  INBOX_X_READ_LIMIT_15MIN: positiveInt(300),
  INBOX_X_POLL_INTERVAL_SECONDS: positiveInt(60),
  INBOX_TEST_CLOCK_ORIGIN: z.iso.datetime({ offset: true }).optional(),
  INBOX_TEST_CLOCK_SPEED: z.coerce.number().min(1).max(10_000).optional(),
});

export interface Config {
  databaseUrl: string | undefined;
  dataDir: string;
  /** the embedded store's page cache (PostgreSQL's shared_buffers), resident once used */
  pgliteSharedBuffers: string;
  port: number;
  host: string;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  /**
   * Which proxies' X-Forwarded-For and -Proto to believe (fastify's trustProxy): the client address of the
   * per-address limits and whether the request came over HTTPS (the session cookie's Secure).
   */
  trustProxy: boolean | number | string[];
  bootstrapToken: string | undefined;
  /** the default owner's sign-in, set on first start instead of printing a one-time password link */
  bootstrapOwner: { email: string | undefined; password: string | undefined };
  rateLimits: { perMinute: number; perHour: number; perDay: number };
  bodyLimitBytes: number;
  /** the largest CSV upload POST /import-jobs accepts (streamed to the store, never held in memory) */
  importLimitBytes: number;
  /** the longest a request (headers and body) may take to arrive */
  requestTimeoutMs: number;
  /** the longest a connection may stay silent, between requests or in the middle of one */
  idleTimeoutMs: number;
  /** open connections from one client address at a time */
  maxConnectionsPerAddress: number;
  /** requests with a bad token or session one client address may make a minute before it is refused outright */
  authFailuresPerMinute: number;
  /** forecasts of other campaigns that may wait while one runs (a process runs one at a time) */
  forecastQueue: number;
  /** GET /metrics answers only with this bearer token, and is absent without one */
  metricsToken?: string;
  webhookAllowPrivate: boolean;
  /** encrypts secrets at rest (X tokens); without it X accounts cannot be linked */
  secretKey: Buffer | undefined;
  x: XConfig;
  /**
   * For tests and development only: the server's clock runs `speed` times real time from `origin` (core/clock.ts
   * scaledClock), so a campaign's delays and pacing pass in seconds. Refused beside an X client: real accounts
   * are never sent to on it.
   */
  testClock: { origin: Date; speed: number } | undefined;
}

export interface XConfig {
  /** the OAuth 2.0 client: set only when client id, secret and redirect URL all are */
  client: { id: string; secret: string; redirectUrl: string } | undefined;
  apiUrl: string;
  authorizeUrl: string;
  /** verifies Account Activity webhooks; without it the webhook routes answer 503 */
  consumerSecret: string | undefined;
  /** an app-only token for profile lookups; without it lookups borrow a linked account's token */
  appBearerToken: string | undefined;
  /** per-account caps kept below X's own, counted by this server across its processes */
  limits: { sendPer15Min: number; sendPer24h: number; readPer15Min: number };
  pollIntervalMs: number;
}

export class ConfigError extends Error {}

/** Reads the configuration from environment variables; throws ConfigError naming each bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const e = parsed.data;
  if ((e.INBOX_TEST_CLOCK_ORIGIN === undefined) !== (e.INBOX_TEST_CLOCK_SPEED === undefined)) {
    throw new ConfigError('Invalid configuration:\n  INBOX_TEST_CLOCK_ORIGIN and INBOX_TEST_CLOCK_SPEED go together');
  }
  if (e.INBOX_TEST_CLOCK_SPEED !== undefined && e.INBOX_X_CLIENT_ID) {
    throw new ConfigError('Invalid configuration:\n  INBOX_TEST_CLOCK_SPEED is for tests and development: it cannot be used with an X client (INBOX_X_CLIENT_ID)');
  }
  return {
    databaseUrl: e.DATABASE_URL,
    dataDir: e.INBOX_DATA_DIR,
    pgliteSharedBuffers: e.INBOX_PGLITE_SHARED_BUFFERS,
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    trustProxy: e.INBOX_TRUST_PROXY,
    bootstrapToken: e.INBOX_BOOTSTRAP_TOKEN,
    bootstrapOwner: { email: e.INBOX_BOOTSTRAP_OWNER_EMAIL, password: e.INBOX_BOOTSTRAP_OWNER_PASSWORD },
    rateLimits: {
      perMinute: e.INBOX_RATE_LIMIT_PER_MINUTE,
      perHour: e.INBOX_RATE_LIMIT_PER_HOUR,
      perDay: e.INBOX_RATE_LIMIT_PER_DAY,
    },
    bodyLimitBytes: e.INBOX_BODY_LIMIT_BYTES,
    importLimitBytes: e.INBOX_IMPORT_LIMIT_BYTES,
    requestTimeoutMs: e.INBOX_REQUEST_TIMEOUT_SECONDS * 1000,
    idleTimeoutMs: e.INBOX_IDLE_TIMEOUT_SECONDS * 1000,
    maxConnectionsPerAddress: e.INBOX_MAX_CONNECTIONS_PER_ADDRESS,
    authFailuresPerMinute: e.INBOX_AUTH_FAILURES_PER_MINUTE,
    forecastQueue: e.INBOX_FORECAST_QUEUE,
    metricsToken: e.INBOX_METRICS_TOKEN,
    webhookAllowPrivate: e.INBOX_WEBHOOK_ALLOW_PRIVATE ?? false,
    secretKey: e.INBOX_SECRET_KEY,
    x: {
      client:
        e.INBOX_X_CLIENT_ID && e.INBOX_X_CLIENT_SECRET && e.INBOX_X_REDIRECT_URL
          ? { id: e.INBOX_X_CLIENT_ID, secret: e.INBOX_X_CLIENT_SECRET, redirectUrl: e.INBOX_X_REDIRECT_URL }
          : undefined,
      apiUrl: e.INBOX_X_API_URL.replace(/\/+$/, ''),
      authorizeUrl: e.INBOX_X_AUTHORIZE_URL,
      consumerSecret: e.INBOX_X_CONSUMER_SECRET,
      appBearerToken: e.INBOX_X_APP_BEARER_TOKEN,
      limits: { sendPer15Min: e.INBOX_X_SEND_LIMIT_15MIN, sendPer24h: e.INBOX_X_SEND_LIMIT_24H, readPer15Min: e.INBOX_X_READ_LIMIT_15MIN },
      pollIntervalMs: e.INBOX_X_POLL_INTERVAL_SECONDS * 1000,
    },
    testClock: e.INBOX_TEST_CLOCK_SPEED === undefined ? undefined : { origin: new Date(e.INBOX_TEST_CLOCK_ORIGIN!), speed: e.INBOX_TEST_CLOCK_SPEED },
  };
}
