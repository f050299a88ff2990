import { sql } from 'kysely';
import type { Config } from '../config.js';
import { bucketOf, decide, type RateDecision, type RateWindow } from '../core/rate-limit.js';
import type { Db } from './db.js';

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
 *
 * One statement on the usual path: it adds the hit to every window's current bucket first (an upsert
 * returning each new count, with the previous bucket's count read alongside), and `decide` then judges the
 * counts as they were just before this hit; only a rejected request costs a second statement, which takes
 * its hit back. Counting first is what makes this safe under concurrency: the upsert holds each current
 * bucket's row lock until it commits, so racing requests (in this process or another) get consecutive
 * counts and no more than the limit is let through, where a read-then-write (or one statement deciding in
 * SQL on what it read) lets every racer see the same count. The price: until a rejected request's hit is
 * taken back, a racing request near the limit sees it and may be refused too. The maths stays in `decide`.
 */
export async function consumeRateLimit(db: Db, subject: string, windows: RateWindow[], now: Date): Promise<RateDecision> {
  const nowSeconds = now.getTime() / 1000;
  const keys = windows.map((w) => ({ seconds: w.seconds, bucket: bucketOf(nowSeconds, w.seconds) }));
  // Every request upserts its rows in the windows' order, so racing requests lock them in one order and
  // cannot deadlock. The previous buckets are never written by this statement, so reading them in its
  // RETURNING (a primary key lookup each) sees what a separate read would.
  const rows = await db
    .insertInto('rate_limit_buckets')
    .values(keys.map((k) => ({ team_id: subject, window_seconds: k.seconds, bucket: k.bucket, hits: 1 })))
    .onConflict((oc) =>
      oc.columns(['team_id', 'window_seconds', 'bucket']).doUpdateSet({ hits: sql`rate_limit_buckets.hits + 1` }),
    )
    .returning((eb) => [
      'window_seconds',
      'bucket',
      'hits',
      eb
        .selectFrom('rate_limit_buckets as p')
        .select('p.hits')
        .whereRef('p.team_id', '=', 'rate_limit_buckets.team_id')
        .whereRef('p.window_seconds', '=', 'rate_limit_buckets.window_seconds')
        .where('p.bucket', '=', sql<number>`rate_limit_buckets.bucket - 1`)
        .as('previous'),
    ])
    .execute();
  const decision = decide(
    windows.map((window, i) => {
      const row = rows.find((r) => r.window_seconds === window.seconds && r.bucket === keys[i]!.bucket)!;
      // the count before this request's own hit
      return { window, current: row.hits - 1, previous: row.previous ?? 0 };
    }),
    nowSeconds,
  );
  if (!decision.allowed) {
    await db
      .updateTable('rate_limit_buckets')
      .set({ hits: sql`hits - 1` })
      .where('team_id', '=', subject)
      .where((eb) => eb.or(keys.map((k) => eb.and([eb('window_seconds', '=', k.seconds), eb('bucket', '=', k.bucket)]))))
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
