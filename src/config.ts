import { z } from 'zod';

const flag = z
  .enum(['0', '1', 'true', 'false'])
  .transform((v) => v === '1' || v === 'true')
  .optional();

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const envSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  INBOX_DATA_DIR: z.string().min(1).default('./data'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  INBOX_BOOTSTRAP_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  INBOX_RATE_LIMIT_PER_MINUTE: positiveInt(300),
  INBOX_RATE_LIMIT_PER_HOUR: positiveInt(10_000),
  INBOX_RATE_LIMIT_PER_DAY: positiveInt(100_000),
  INBOX_BODY_LIMIT_BYTES: positiveInt(1_048_576),
  INBOX_IMPORT_LIMIT_BYTES: positiveInt(512 * 1_048_576),
  INBOX_WEBHOOK_ALLOW_PRIVATE: flag,
});

export interface Config {
  databaseUrl: string | undefined;
  dataDir: string;
  port: number;
  host: string;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  bootstrapToken: string | undefined;
  rateLimits: { perMinute: number; perHour: number; perDay: number };
  bodyLimitBytes: number;
  /** the largest CSV upload POST /import-jobs accepts (streamed to the store, never held in memory) */
  importLimitBytes: number;
  webhookAllowPrivate: boolean;
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
  return {
    databaseUrl: e.DATABASE_URL,
    dataDir: e.INBOX_DATA_DIR,
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    bootstrapToken: e.INBOX_BOOTSTRAP_TOKEN,
    rateLimits: {
      perMinute: e.INBOX_RATE_LIMIT_PER_MINUTE,
      perHour: e.INBOX_RATE_LIMIT_PER_HOUR,
      perDay: e.INBOX_RATE_LIMIT_PER_DAY,
    },
    bodyLimitBytes: e.INBOX_BODY_LIMIT_BYTES,
    importLimitBytes: e.INBOX_IMPORT_LIMIT_BYTES,
    webhookAllowPrivate: e.INBOX_WEBHOOK_ALLOW_PRIVATE ?? false,
  };
}
