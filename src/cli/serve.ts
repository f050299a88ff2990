import { createJobRunner } from '../app/workers/background-jobs.js';
import { Maintenance } from '../app/workers/maintenance.js';
import { bootstrapStore } from '../app/team/teams.js';
import { WebhookDispatcher } from '../app/events/webhook-delivery.js';
import { XPoller } from '../app/inbox/x-inbound.js';
import { loadConfig } from '../config.js';
import { sendingEngine } from '../runtimes/engine.js';
import { buildServer } from '../http/server.js';
import { openRuntime, serverUrl, type Runtime } from './runtime.js';

/** Stops the workers and closes the store on SIGTERM or SIGINT, then exits. */
function stopOnSignal(runtime: Runtime, workers: Array<{ stop(): Promise<void> }>, before: () => Promise<void> = async () => {}): void {
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    runtime.ctx.logger.info({ signal }, 'shutting down');
    await before();
    await Promise.all(workers.map((worker) => worker.stop()));
    await runtime.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/** `inbox serve`: the API, the web app and the background workers (the sending engine unless `--no-engine`). */
export async function serve(opts: { engine: boolean }): Promise<void> {
  const config = loadConfig();
  const runtime = await openRuntime(config);
  const { ctx } = runtime;
  const bootstrap = await bootstrapStore(
    ctx.db,
    { token: config.bootstrapToken, ownerEmail: config.bootstrapOwner.email, ownerPassword: config.bootstrapOwner.password },
    ctx.clock.now(),
  );
  if (bootstrap) {
    ctx.logger.info({ teamId: bootstrap.team.id }, 'created the default team');
    if (bootstrap.token) {
      process.stdout.write(
        `Created the default team "${bootstrap.team.name}". Its API token (shown once, keep it safe):\n${bootstrap.token.token}\n`,
      );
    }
    if (bootstrap.passwordLink) {
      process.stdout.write(`Set the owner's password (one-time link, valid 7 days):\n${serverUrl(config)}${bootstrap.passwordLink}\n`);
    }
  }
  const app = await buildServer(ctx, { metrics: runtime.metrics });
  const background = [new WebhookDispatcher(ctx), new Maintenance(ctx, { vacuum: runtime.store.engine === 'pglite' }), createJobRunner(ctx), new XPoller(ctx), ...(opts.engine ? [sendingEngine(ctx, undefined, { observeBatch: runtime.metrics?.observeBatch })] : [])];
  stopOnSignal(runtime, background, () => app.close());
  await app.listen({ port: config.port, host: config.host });
  for (const worker of background) worker.start();
  process.stderr.write(`Inbox API listening on ${serverUrl(config)} (docs at /docs)\n`);
}

/** `inbox worker`: only the sending engine (any number of workers may share a PostgreSQL store). */
export async function worker(): Promise<void> {
  const runtime = await openRuntime(loadConfig());
  const engine = sendingEngine(runtime.ctx);
  stopOnSignal(runtime, [engine]);
  engine.start();
  process.stderr.write('Inbox engine running\n');
}
