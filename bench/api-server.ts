// The server under benchmark: the real API, plus a bare route behind the same authentication and rate
// limiting, so the benchmark can tell our endpoints' cost apart from the HTTP and auth floor.
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { WebhookDispatcher } from '../src/app/events/webhook-delivery.js';
import { loadConfig } from '../src/config.js';
import { openRuntime } from '../src/cli/runtime.js';
import { requireTeamToken } from '../src/http/auth.js';
import { buildServer } from '../src/http/server.js';

const config = loadConfig();
const runtime = await openRuntime(config);
const app = await buildServer(runtime.ctx);
await app.register(
  async (bare) => {
    requireTeamToken(bare, runtime.ctx);
    bare.withTypeProvider<ZodTypeProvider>().get('/noop', async () => ({ ok: true }));
    // This process's CPU time so far (the embedded store's work included): the benchmark's CPU per request.
    bare.withTypeProvider<ZodTypeProvider>().get('/cpu', async () => {
      const { user, system } = process.cpuUsage();
      return { ms: (user + system) / 1000 };
    });
  },
  { prefix: '/bench' },
);
// As `inbox serve` does, when the benchmark measures the API beside webhook delivery.
const dispatcher = process.env.BENCH_WEBHOOK_DELIVERY === '1' ? new WebhookDispatcher(runtime.ctx) : null;
await app.listen({ port: config.port, host: '127.0.0.1' });
dispatcher?.start();
process.stdout.write('ready\n');
process.on('SIGTERM', async () => {
  await dispatcher?.stop();
  await app.close();
  await runtime.close();
  process.exit(0);
});
