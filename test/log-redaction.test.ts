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
});
