import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/cli/runtime.js';
import { buildServer } from '../src/http/server.js';
import { testContext } from './helpers/app.js';

describe('request logs', () => {
  it('redact the OAuth callback’s code and state, and keep the rest of the URL', async () => {
    let written = '';
    const sink = new Writable({ write: (chunk, _encoding, done) => ((written += String(chunk)), done()) });
    const ctx = await testContext({ env: { LOG_LEVEL: 'info' } });
    const app = await buildServer({ ...ctx, logger: createLogger(ctx.config, sink) });
    await app.inject({ method: 'GET', url: '/api/v1/account-links/x/callback?state=the-state-value&code=the-code-value&lang=en' });
    await app.close();
    expect(written).toContain('/api/v1/account-links/x/callback?state=[redacted]&code=[redacted]&lang=en');
    expect(written).not.toContain('the-code-value');
    expect(written).not.toContain('the-state-value');
  });
});
