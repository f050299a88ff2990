import { describe, expect, it } from 'vitest';
import type { Clock } from '../src/core/clock.js';
import { decide } from '../src/core/rate-limit.js';
import { buildServer } from '../src/http/server.js';
import { newTeam, testContext } from './helpers/app.js';
import { createToken } from '../src/app/team/tokens.js';
import { consumeRateLimit } from '../src/store/rate-limit.js';
import { newId } from '../src/core/ids.js';
import { sharedStore } from './helpers/store.js';

class ManualClock implements Clock {
  constructor(private ms: number) {}
  now() {
    return new Date(this.ms);
  }
  advance(seconds: number) {
    this.ms += seconds * 1000;
  }
}

describe('rate limit maths', () => {
  const minute = { seconds: 60, limit: 10 };

  it('allows until the limit and reports what remains', () => {
    expect(decide([{ window: minute, current: 0, previous: 0 }], 600)).toMatchObject({ allowed: true, limit: 10, remaining: 9 });
    expect(decide([{ window: minute, current: 9, previous: 0 }], 600)).toMatchObject({ allowed: true, remaining: 0 });
    expect(decide([{ window: minute, current: 10, previous: 0 }], 600)).toMatchObject({ allowed: false, remaining: 0 });
  });

  it('slides: the previous bucket weighs less as the window moves on', () => {
    // 30 s into the bucket, half of the previous bucket's 10 hits still count.
    expect(decide([{ window: minute, current: 4, previous: 10 }], 630)).toMatchObject({ allowed: true, remaining: 0 });
    expect(decide([{ window: minute, current: 5, previous: 10 }], 630).allowed).toBe(false);
    expect(decide([{ window: minute, current: 5, previous: 10 }], 650).allowed).toBe(true);
  });

  it('computes a retry time after which the request fits', () => {
    const blocked = decide([{ window: minute, current: 5, previous: 10 }], 630);
    const later = decide([{ window: minute, current: 5, previous: 10 }], 630 + blocked.retryAfter);
    expect(later.allowed).toBe(true);
    const full = decide([{ window: minute, current: 10, previous: 0 }], 610);
    expect(full.retryAfter).toBeGreaterThan(50);
    expect(decide([{ window: minute, current: 0, previous: 10 }], 660 + (full.retryAfter - 50)).allowed).toBe(true);
  });

  it('reports the most constrained window', () => {
    const hour = { seconds: 3600, limit: 100 };
    const decision = decide(
      [
        { window: minute, current: 1, previous: 0 },
        { window: hour, current: 99, previous: 0 },
      ],
      600,
    );
    expect(decision).toMatchObject({ allowed: true, limit: 100, remaining: 0 });
  });
});

describe('rate limits over HTTP', () => {
  it('limits a team across all its tokens, with headers on every response and 429 + Retry-After', async () => {
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:05Z'));
    const ctx = await testContext({ clock, env: { INBOX_RATE_LIMIT_PER_MINUTE: '3', INBOX_RATE_LIMIT_PER_HOUR: '5' } });
    const app = await buildServer(ctx);
    const team = await newTeam(app);
    const { db } = await sharedStore();
    const second = await createToken(db, { teamId: team.teamId, name: 'second' }, clock.now());
    const other = await newTeam(app);
    const asSecond = () => app.inject({ method: 'GET', url: '/api/v1/team', headers: { authorization: `Bearer ${second.token}` } });

    const first = await team.request('GET', '/api/v1/team');
    expect(first.headers['x-ratelimit-limit']).toBe('3');
    expect(first.headers['x-ratelimit-remaining']).toBe('2');
    expect(Number(first.headers['x-ratelimit-reset'])).toBe(Date.parse('2026-01-01T00:01:00Z') / 1000);
    await asSecond();
    expect((await team.request('GET', '/api/v1/tags')).statusCode).toBe(200);

    const limited = await asSecond();
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error).toMatchObject({ code: 'RATE_LIMITED', status: 429 });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers['x-ratelimit-remaining']).toBe('0');

    // Another team is not affected.
    expect((await other.request('GET', '/api/v1/team')).statusCode).toBe(200);

    // After the retry delay, the minute window has room; then the hour window (5) is the limit.
    clock.advance(Number(limited.headers['retry-after']));
    const again = await team.request('GET', '/api/v1/team');
    expect(again.statusCode).toBe(200);
    clock.advance(120);
    const ok = await team.request('GET', '/api/v1/team');
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['x-ratelimit-limit']).toBe('5');
    const hourly = await team.request('GET', '/api/v1/team');
    expect(hourly.statusCode).toBe(429);
    expect(Number(hourly.headers['retry-after'])).toBeGreaterThan(60);
    await app.close();
  });
});

describe('rate limits under concurrency', () => {
  it('lets exactly the limit through when many requests race, and counts none of the rejected', async () => {
    const { db } = await sharedStore();
    const subject = `race:${newId()}`;
    const windows = [
      { seconds: 60, limit: 10 },
      { seconds: 3600, limit: 1000 },
    ];
    // 40 s into a minute whose previous minute had 8 hits: a third of them (2.67) still count, so 7 fit.
    const now = new Date(Date.parse('2026-01-01T00:10:40Z'));
    const minute = Math.floor(now.getTime() / 60_000);
    await db.insertInto('rate_limit_buckets').values({ team_id: subject, window_seconds: 60, bucket: minute - 1, hits: 8 }).execute();

    const decisions = await Promise.all(Array.from({ length: 60 }, () => consumeRateLimit(db, subject, windows, now)));
    const allowed = decisions.filter((d) => d.allowed).length;
    expect(allowed).toBe(7);
    expect(decisions.filter((d) => !d.allowed).every((d) => d.retryAfter > 0 && d.remaining === 0)).toBe(true);

    const counters = await db
      .selectFrom('rate_limit_buckets')
      .select(['window_seconds', 'bucket', 'hits'])
      .where('team_id', '=', subject)
      .orderBy('window_seconds')
      .orderBy('bucket')
      .execute();
    expect(counters).toEqual([
      { window_seconds: 60, bucket: minute - 1, hits: 8 },
      { window_seconds: 60, bucket: minute, hits: 7 },
      { window_seconds: 3600, bucket: Math.floor(now.getTime() / 3_600_000), hits: 7 },
    ]);
    // The next request is still refused; once the next minute starts, its 7 hits leave room again.
    expect((await consumeRateLimit(db, subject, windows, now)).allowed).toBe(false);
    expect((await consumeRateLimit(db, subject, windows, new Date(now.getTime() + 20_000))).allowed).toBe(true);
  });

  it('never lets more than the limit through over HTTP with many parallel requests', async () => {
    const clock = new ManualClock(Date.parse('2026-01-02T00:00:05Z'));
    const ctx = await testContext({ clock, env: { INBOX_RATE_LIMIT_PER_MINUTE: '5' } });
    const app = await buildServer(ctx);
    const team = await newTeam(app);
    const responses = await Promise.all(Array.from({ length: 30 }, () => team.request('GET', '/api/v1/team')));
    expect(responses.filter((r) => r.statusCode === 200)).toHaveLength(5);
    expect(responses.filter((r) => r.statusCode === 429)).toHaveLength(25);
    const remaining = responses.filter((r) => r.statusCode === 200).map((r) => Number(r.headers['x-ratelimit-remaining']));
    expect(remaining.sort()).toEqual([0, 1, 2, 3, 4]);
    await app.close();
  });
});
