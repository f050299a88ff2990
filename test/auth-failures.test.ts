import { describe, expect, it } from 'vitest';
import { buildServer } from '../src/http/server.js';
import { newTeam, testContext } from './helpers/app.js';
import { freshAddress } from './helpers/session.js';

describe('failed authentication', () => {
  it('is limited per address: past the limit the address is refused without its token being looked up, others are not', async () => {
    const app = await buildServer(await testContext({ env: { INBOX_AUTH_FAILURES_PER_MINUTE: '5' } }));
    const team = await newTeam(app);
    const guesser = freshAddress();
    const call = (token: string, remoteAddress: string) =>
      app.inject({ method: 'GET', url: '/api/v1/team', headers: { authorization: `Bearer ${token}` }, remoteAddress });

    for (let i = 0; i < 5; i++) expect((await call(`inbox_guess${i}`, guesser)).statusCode).toBe(401);
    const refused = await call('inbox_guess5', guesser);
    expect(refused.statusCode).toBe(429);
    expect(refused.json().error).toMatchObject({ code: 'RATE_LIMITED', status: 429 });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // While refused, even the right token is not looked up from that address: a lucky guess tells nothing.
    expect((await call(team.token, guesser)).statusCode).toBe(429);
    // Other addresses are not affected, and a valid token never counts as a failure.
    const other = freshAddress();
    for (let i = 0; i < 10; i++) expect((await call(team.token, other)).statusCode).toBe(200);
    expect((await call('inbox_wrong', other)).statusCode).toBe(401);
    await app.close();
  });
});
