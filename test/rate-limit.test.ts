import { describe, expect, it } from 'vitest';
import type { Clock } from '../src/core/clock.js';
import { decide } from '../src/core/rate-limit.js';
import { buildServer } from '../src/http/server.js';
import { newTeam, testContext } from './helpers/app.js';
import { createToken } from '../src/app/tokens.js';
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
