import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** dist/web at the package root, from src/http (tsx) and from dist/http (built) alike. */
const WEB_ROOT = fileURLToPath(new URL('../../dist/web/', import.meta.url));

/**
 * Serves the browser app at /app: hashed assets cached for a year, index.html never cached and answered for
 * every other /app path (the page routes itself); `/` redirects there.
 */
export async function serveWebApp(app: FastifyInstance): Promise<void> {
  app.get('/', { schema: { hide: true } }, (_request, reply) => reply.redirect('/app', 302));
  if (!fs.existsSync(`${WEB_ROOT}index.html`)) {
    app.log.warn('the web app is not built (run npm run build:web): /app is unavailable');
    return;
  }
  await app.register(fastifyStatic, {
    root: WEB_ROOT,
    prefix: '/app/',
    wildcard: false,
    index: false,
    // setHeaders decides: hashed assets forever, index.html (also reachable by its own name) never.
    cacheControl: false,
    setHeaders: (response, path) => {
      response.setHeader('cache-control', path.endsWith('index.html') ? 'no-cache' : 'public, max-age=31536000, immutable');
    },
  });
  const page = (_request: FastifyRequest, reply: FastifyReply) => reply.header('cache-control', 'no-cache').sendFile('index.html');
  app.get('/app', { schema: { hide: true } }, page);
  app.get('/app/*', { schema: { hide: true } }, page);
}
