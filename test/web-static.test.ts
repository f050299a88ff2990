import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { testApp } from './helpers/app.js';

describe('the web app is served at /app', () => {
  it('answers index.html uncached for /app and any page path under it, and hashed assets cached for a year', async () => {
    const app = await testApp();
    for (const url of ['/app', '/app/', '/app/index.html', '/app/sign-in', '/app/accept/some-secret', '/app/settings']) {
      const page = await app.inject({ method: 'GET', url });
      expect(page.statusCode, url).toBe(200);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.headers['cache-control']).toBe('no-cache');
      expect(page.body).toContain('<div id="root">');
    }
    const script = /src="(\/app\/assets\/main-[^"]+\.js)"/.exec((await app.inject({ method: 'GET', url: '/app' })).body)![1]!;
    const asset = await app.inject({ method: 'GET', url: script });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.body.length).toBe(fs.statSync(new URL(`../dist/web${script.slice('/app'.length)}`, import.meta.url)).size);
  });

  it('redirects / to /app and leaves unknown API paths to the API error envelope', async () => {
    const app = await testApp();
    const root = await app.inject({ method: 'GET', url: '/' });
    expect(root.statusCode).toBe(302);
    expect(root.headers.location).toBe('/app');
    const missing = await app.inject({ method: 'GET', url: '/api/v1/no-such-route' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.status).toBe(404);
  });
});
