import { describe, expect, it } from 'vitest';
import { serverWithMemoryLog } from './helpers/app.js';

describe('request logs', () => {
  it('redact the OAuth callback’s code and state, and keep the rest of the URL', async () => {
    const { server: app, log } = await serverWithMemoryLog();
    await app.inject({ method: 'GET', url: '/api/v1/account-links/x/callback?state=the-state-value&code=the-code-value&lang=en' });
    await app.close();
    const written = log();
    expect(written).toContain('/api/v1/account-links/x/callback?state=[redacted]&code=[redacted]&lang=en');
    expect(written).not.toContain('the-code-value');
    expect(written).not.toContain('the-state-value');
  });

  it('redact the secret of an invite or password link wherever a URL is logged, v1 and the page alike', async () => {
    const { server: app, log } = await serverWithMemoryLog();
    const secret = 'aSecretOfTheLinkThatMustNotBeLogged_0123456789';
    for (const [method, url] of [
      ['GET', `/app/accept/${secret}`],
      ['GET', `/api/v1/invites/accept/${secret}`],
      ['POST', `/api/v1/invites/accept/${secret}?lang=en`],
      // refused with the path in the message: 405 names it, and so does a 404
      ['PUT', `/api/v1/invites/accept/${secret}`],
      ['GET', `/api/v1/invites/accept/${secret}/more`],
      ['GET', `/api/v2/invites/accept/${secret}`],
    ] as const) {
      await app.inject({ method, url, ...(method === 'POST' ? { payload: { password: 'long enough password' } } : {}) });
    }
    await app.close();
    const written = log();
    expect(written).toContain('"url":"/app/accept/[redacted]"');
    expect(written).toContain('"url":"/api/v1/invites/accept/[redacted]?lang=en"');
    expect(written).toContain('PUT is not allowed on /api/v1/invites/accept/[redacted]');
    expect(written).not.toContain(secret);
  });
});
