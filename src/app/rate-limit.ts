import { sql } from 'kysely';
import type { Config } from '../config.js';
import { bucketOf, decide, type RateDecision, type RateWindow } from '../core/rate-limit.js';
import type { Db } from '../store/db.js';

/** The per-team windows enforced together (spec 2.7). */
export function rateLimitWindows(config: Config): RateWindow[] {
  return [
    { seconds: 60, limit: config.rateLimits.perMinute },
    { seconds: 3600, limit: config.rateLimits.perHour },
    { seconds: 86_400, limit: config.rateLimits.perDay },
  ];
}

/**
 * Counts one request against a subject's sliding windows: a team's API calls, or any other key (an X
 * account's sends, for instance). The counters live in the store, so the limits hold across every process
 * sharing it. A rejected request is not counted.
 */
export async function consumeRateLimit(db: Db, subject: string, windows: RateWindow[], now: Date): Promise<RateDecision> {
  const nowSeconds = now.getTime() / 1000;
  const keys = windows.map((w) => ({ seconds: w.seconds, bucket: bucketOf(nowSeconds, w.seconds) }));
  const rows = await db
    .selectFrom('rate_limit_buckets')
    .select(['window_seconds', 'bucket', 'hits'])
    .where('team_id', '=', subject)
    .where((eb) =>
      eb.or(
        keys.map((k) =>
          eb.and([eb('window_seconds', '=', k.seconds), eb('bucket', 'in', [k.bucket, k.bucket - 1])]),
        ),
      ),
    )
    .execute();
  const hits = (seconds: number, bucket: number) =>
    rows.find((r) => r.window_seconds === seconds && r.bucket === bucket)?.hits ?? 0;
  const decision = decide(
    windows.map((window, i) => ({
      window,
      current: hits(window.seconds, keys[i]!.bucket),
      previous: hits(window.seconds, keys[i]!.bucket - 1),
    })),
    nowSeconds,
  );
  if (decision.allowed) {
    await db
      .insertInto('rate_limit_buckets')
      .values(keys.map((k) => ({ team_id: subject, window_seconds: k.seconds, bucket: k.bucket, hits: 1 })))
      .onConflict((oc) =>
        oc.columns(['team_id', 'window_seconds', 'bucket']).doUpdateSet({ hits: sql`rate_limit_buckets.hits + 1` }),
      )
      .execute();
  }
  return decision;
}

/** Drops counters that no longer overlap any window. */
export async function pruneRateLimitBuckets(db: Db, windows: RateWindow[], now: Date): Promise<void> {
  const nowSeconds = now.getTime() / 1000;
  for (const w of windows) {
    await db
      .deleteFrom('rate_limit_buckets')
      .where('window_seconds', '=', w.seconds)
      .where('bucket', '<', bucketOf(nowSeconds, w.seconds) - 1)
      .execute();
  }
}
