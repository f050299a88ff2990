import fastifyCookie from '@fastify/cookie';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import {
  createJsonSchemaTransform,
  createJsonSchemaTransformObject,
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import qs from 'qs';
import { z } from 'zod';
import type { AppContext } from '../app/context.js';
import { newId } from '../core/ids.js';
import { isStoreReachable } from '../store/db.js';
import { requireTeamToken } from './auth.js';
import { capConnectionsPerAddress } from './connections.js';
import { refuseEncodedBodies } from './content-encoding.js';
import { clientErrors, frameworkErrors, installErrorHandling, logRefusals } from './errors.js';
import { parseJsonBodies } from './json-body.js';
import type { Metrics } from './metrics.js';
import { refuseNulCharacters } from './nul-characters.js';
import { publicAuthRoutes } from './routes/auth.js';
import { registerApiRoutes } from './routes/index.js';
import { xPublicRoutes } from './routes/x.js';
import { serveWebApp } from './web.js';
import { registerApiV2, V2_PREFIX } from './v2/index.js';
import { v2Registry } from './v2/schemas.js';

const v2Transform = createJsonSchemaTransform({ schemaRegistry: v2Registry });

export interface ServerOptions {
  /** this process's metrics, served at GET /metrics when the configuration has a metrics token */
  metrics?: Metrics;
}

/** fastify takes a hop count at run time, but its types only as this function: the nearest `hops` are proxies. */
const trustHops = (hops: number) => (_address: string, hop: number) => hop < hops;

/** Builds the HTTP server: conventions, documentation and every API route, bound to one AppContext. */
export async function buildServer(ctx: AppContext, options: ServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.logger as FastifyBaseLogger,
    bodyLimit: ctx.config.bodyLimitBytes,
    // Behind a TLS-terminating proxy: request.ip and request.protocol from its X-Forwarded-For and -Proto.
    trustProxy: typeof ctx.config.trustProxy === 'number' ? trustHops(ctx.config.trustProxy) : ctx.config.trustProxy,
    // A request must arrive whole within requestTimeoutMs (one byte every few seconds cannot hold a connection
    // for ever) and no connection may stay silent past idleTimeoutMs in the middle of a request. Node checks the
    // first at connectionsCheckingInterval, and only when the server is created with it (setting it later does not
    // arm the check).
    requestTimeout: ctx.config.requestTimeoutMs,
    connectionTimeout: ctx.config.idleTimeoutMs,
    http: { requestTimeout: ctx.config.requestTimeoutMs, connectionsCheckingInterval: Math.min(30_000, Math.ceil(ctx.config.requestTimeoutMs / 4)) },
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : newId();
    },
    // A path the router refuses (a malformed escape, an over-long id) still gets the error envelope.
    frameworkErrors,
    // So do requests Node's HTTP parser refuses before fastify sees them.
    clientErrorHandler: clientErrors,
    // Bracket notation for objects and all three array spellings (spec 2.4).
    routerOptions: {
      querystringParser: (query: string) => qs.parse(query, { depth: 5, arrayLimit: 2000, parameterLimit: 2000 }),
    },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  installErrorHandling(app);
  logRefusals(app);
  if (options.metrics && ctx.config.metricsToken) options.metrics.install(app, ctx.config.metricsToken);
  capConnectionsPerAddress(app.server, ctx.config.maxConnectionsPerAddress);
  refuseEncodedBodies(app);
  parseJsonBodies(app);
  refuseNulCharacters(app);

  await app.register(fastifyCookie);

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Inbox-compatible API',
        version: '1.0.0',
        description: 'A self-hosted server for the Inbox API v1: X DM CRM and outreach campaigns.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearerAuth: [] }],
    },
    // One document per API version: this one is v1's (API v2 is in /openapi/v2.json).
    transform: (input) => (input.url.startsWith(V2_PREFIX) ? { schema: { hide: true }, url: input.url } : jsonSchemaTransform(input)),
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(fastifySwagger, {
    decorator: 'swaggerV2',
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Inbox-compatible API v2',
        version: '2.0.0',
        description: 'API v2 of this server, after the vendor\'s Inbox API v2 (docs/api-v2.md maps it to v1).',
      },
      servers: [{ url: V2_PREFIX }],
      tags: [{ name: 'Webhooks', description: "Our extension, not part of the vendor's Inbox API v2: endpoints that receive the v2 events (the document's `webhooks`) signed in X-Inbox-Signature." }],
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearerAuth: [] }],
    },
    transform: (input) => (input.url.startsWith(V2_PREFIX) ? v2Transform(input) : { schema: { hide: true }, url: input.url }),
    transformObject: createJsonSchemaTransformObject({ schemaRegistry: v2Registry }),
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });

  const typed = app.withTypeProvider<ZodTypeProvider>();
  typed.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  typed.get('/openapi/v2.json', { schema: { hide: true } }, async () => (app as unknown as { swaggerV2(): unknown }).swaggerV2());
  typed.get(
    '/healthz',
    { schema: { hide: true, response: { 200: z.object({ status: z.literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );
  typed.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    const ready = await isStoreReachable(ctx.db);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'store unreachable' });
  });

  await app.register(
    async (api) => {
      requireTeamToken(api, ctx);
      registerApiRoutes(api.withTypeProvider<ZodTypeProvider>(), ctx);
    },
    { prefix: '/api/v1' },
  );
  await app.register((publicApi) => xPublicRoutes(publicApi, ctx), { prefix: '/api/v1' });
  await registerApiV2(app, ctx);
  await serveWebApp(app);
  await app.register((publicApi) => publicAuthRoutes(publicApi.withTypeProvider<ZodTypeProvider>(), ctx), { prefix: '/api/v1' });
  return app;
}
