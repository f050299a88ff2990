#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { createJobRunner } from '../app/workers/background-jobs.js';
import { Maintenance } from '../app/workers/maintenance.js';
import { createInvite } from '../app/team/invites.js';
import { bootstrapStore, createTeam, teamOwner } from '../app/team/teams.js';
import { createToken, listTokens, revokeToken } from '../app/team/tokens.js';
import { WebhookDispatcher } from '../app/events/webhook-delivery.js';
import { XPoller } from '../app/inbox/x-inbound.js';
import { ConfigError, loadConfig } from '../config.js';
import { AppError } from '../core/errors.js';
import { sendingEngine } from '../runtimes/engine.js';
import { parseScenario, simulate } from '../runtimes/simulation.js';
import { buildServer } from '../http/server.js';
import { readFile } from 'node:fs/promises';
import { DataDirLockedError } from '../store/lock.js';
import { migrateToLatest, StoreUnavailableError } from '../store/db.js';
import { importCommand, type ImportOptions } from './import.js';
import { openRuntime, type Runtime } from './runtime.js';

/** Runs a command against the store, always closing it (and so releasing the data directory lock). */
async function withRuntime<T>(fn: (runtime: Runtime) => Promise<T>): Promise<T> {
  const runtime = await openRuntime(loadConfig());
  try {
    return await fn(runtime);
  } finally {
    await runtime.close();
  }
}

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

async function serve(opts: { engine: boolean }): Promise<void> {
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
  process.stderr.write(`Inbox API listening on http://${config.host}:${config.port} (docs at /docs)\n`);
}

function buildProgram(): Command {
  const program = new Command()
    .name('inbox')
    .description('Self-hostable DM outreach and CRM server compatible with the Inbox API v1')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('serve')
    .description('run the API server and the sending engine')
    .option('--no-engine', 'run only the API (and webhook delivery); send from `inbox worker` processes')
    .action(serve);

  program
    .command('worker')
    .description('run only the sending engine (any number of workers may share a PostgreSQL store)')
    .action(async () => {
      const runtime = await openRuntime(loadConfig());
      const engine = sendingEngine(runtime.ctx);
      stopOnSignal(runtime, [engine]);
      engine.start();
      process.stderr.write('Inbox engine running\n');
    });

  program
    .command('simulate <scenario>')
    .description('run a scenario in virtual time and print its events as JSON lines (see docs/simulation.md)')
    .action(async (file: string) => {
      const text = await readFile(file, 'utf8').catch((error: Error) => {
        throw new AppError(400, 'SCENARIO_UNREADABLE', `Cannot read ${file}: ${error.message}`);
      });
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (error) {
        throw new AppError(400, 'VALIDATION_ERROR', `${file} is not JSON: ${(error as Error).message}`);
      }
      const scenario = parseScenario(json);
      await simulate(scenario, (line) => process.stdout.write(`${line}\n`));
    });

  program
    .command('import <file>')
    .description('import a CSV file into a list (the checks and job of POST /import-jobs), with a progress bar')
    .requiredOption('--list <id>', 'the list to import into')
    .option('--id-column <name>', 'the CSV column holding X user ids')
    .option('--username-column <name>', 'the CSV column holding usernames (instead of --id-column)')
    .option('--map <csvColumn=columnId>', 'copy a CSV column into a list column (repeatable)', (pair: string, all: string[]) => [...all, pair], [])
    .option('--team <id>', 'the team (default: the first team)')
    .action((file: string, opts: ImportOptions & { team?: string }) =>
      withRuntime(async ({ ctx }) => importCommand(ctx, opts.team ?? (await firstTeamId(ctx.db)), file, opts)),
    );

  program
    .command('migrate')
    .description('apply database migrations')
    .action(() =>
      withRuntime(async ({ ctx }) => {
        // openRuntime already migrated; report the state.
        const applied = await migrateToLatest(ctx.db);
        process.stdout.write(applied.length ? `applied ${applied.join(', ')}\n` : 'database is up to date\n');
      }),
    );

  const token = program.command('token').description('manage API tokens');
  token
    .command('create')
    .description('create an API token and print it alone on stdout')
    .requiredOption('--name <name>', 'a name to recognise the token by')
    .option('--team <id>', 'the team (default: the first team)')
    .action((opts: { name: string; team?: string }) =>
      withRuntime(async ({ ctx }) => {
        const teamId = opts.team ?? (await firstTeamId(ctx.db));
        const created = await createToken(ctx.db, { teamId, name: opts.name }, ctx.clock.now());
        process.stdout.write(`${created.token}\n`);
      }),
    );
  token
    .command('list')
    .description('list API tokens')
    .option('--team <id>', 'the team (default: the first team)')
    .action((opts: { team?: string }) =>
      withRuntime(async ({ ctx }) => {
        const teamId = opts.team ?? (await firstTeamId(ctx.db));
        for (const t of await listTokens(ctx.db, teamId)) {
          const state = t.revokedAt ? `revoked ${t.revokedAt.toISOString()}` : 'active';
          process.stdout.write(`${t.id}\t${t.name}\t…${t.hint}\t${state}\n`);
        }
      }),
    );
  token
    .command('revoke <id>')
    .description('revoke an API token')
    .option('--team <id>', 'the team (default: the first team)')
    .action((id: string, opts: { team?: string }) =>
      withRuntime(async ({ ctx }) => {
        const teamId = opts.team ?? (await firstTeamId(ctx.db));
        await revokeToken(ctx.db, teamId, id, ctx.clock.now());
        process.stdout.write(`revoked ${id}\n`);
      }),
    );

  program
    .command('member')
    .description('manage team members')
    .command('invite <email>')
    .description('invite someone into a team and print the invite link')
    .option('--role <role>', 'admin or user', 'user')
    .option('--team <id>', 'the team (default: the first team)')
    .action((email: string, opts: { role: string; team?: string }) =>
      withRuntime(async ({ ctx }) => {
        if (opts.role !== 'admin' && opts.role !== 'user') throw new AppError(400, 'VALIDATION_ERROR', '--role must be admin or user');
        const teamId = opts.team ?? (await firstTeamId(ctx.db));
        const owner = await teamOwner(ctx.db, teamId);
        const actor = { teamId, memberId: owner.id, userId: owner.user_id, role: owner.role };
        const invite = await createInvite(ctx.db, actor, { email, role: opts.role }, ctx.clock.now());
        process.stdout.write(`${serverUrl(ctx.config)}${invite.url}\n`);
      }),
    );

  program
    .command('team')
    .description('manage teams')
    .command('create <name>')
    .description('create a team (with an owner) and print its id')
    .action((name: string) =>
      withRuntime(async ({ ctx }) => {
        const { team } = await createTeam(ctx.db, name, ctx.clock.now());
        process.stdout.write(`${team.id}\n`);
      }),
    );
  return program;
}

/** Where people reach this server, for the links the CLI prints. */
const serverUrl = (config: { host: string; port: number }) =>
  `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;

async function firstTeamId(db: Runtime['ctx']['db']): Promise<string> {
  const team = await db.selectFrom('teams').select('id').orderBy('created_at').executeTakeFirst();
  if (!team) throw new AppError(404, 'TEAM_NOT_FOUND', 'There is no team yet: run `inbox serve` once or `inbox team create NAME`');
  return team.id;
}

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode);
    const known =
      error instanceof ConfigError ||
      error instanceof DataDirLockedError ||
      error instanceof StoreUnavailableError ||
      error instanceof AppError;
    process.stderr.write(`inbox: ${known ? error.message : String((error as Error).stack ?? error)}\n`);
    process.exit(1);
  }
}

await main();
