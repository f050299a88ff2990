#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config.js';
import { AppError } from '../core/errors.js';
import { DataDirLockedError } from '../store/lock.js';
import type { ImportOptions } from './import.js';

// Each command loads only the modules it uses when it runs: `inbox token list` does not load the HTTP server,
// and a bad option is reported before anything heavy is loaded.
const serveCommand = () => import('./serve.js');
const adminCommand = () => import('./admin.js');

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
    .action(async (opts: { engine: boolean }) => (await serveCommand()).serve(opts));

  program
    .command('worker')
    .description('run only the sending engine (any number of workers may share a PostgreSQL store)')
    .action(async () => (await serveCommand()).worker());

  program
    .command('simulate <scenario>')
    .description('run a scenario in virtual time and print its events as JSON lines (see docs/simulation.md)')
    .action(async (file: string) => (await import('./simulate.js')).simulateFile(file));

  program
    .command('import <file>')
    .description('import a CSV file into a list (the checks and job of POST /import-jobs), with a progress bar')
    .requiredOption('--list <id>', 'the list to import into')
    .option('--id-column <name>', 'the CSV column holding X user ids')
    .option('--username-column <name>', 'the CSV column holding usernames (instead of --id-column)')
    .option('--map <csvColumn=columnId>', 'copy a CSV column into a list column (repeatable)', (pair: string, all: string[]) => [...all, pair], [])
    .option('--team <id>', 'the team (default: the first team)')
    .action(async (file: string, opts: ImportOptions & { team?: string }) => (await adminCommand()).importFile(file, opts));

  program
    .command('migrate')
    .description('apply database migrations')
    .action(async () => (await adminCommand()).migrate());

  const token = program.command('token').description('manage API tokens');
  token
    .command('create')
    .description('create an API token and print it alone on stdout')
    .requiredOption('--name <name>', 'a name to recognise the token by')
    .option('--team <id>', 'the team (default: the first team)')
    .action(async (opts: { name: string; team?: string }) => (await adminCommand()).createTokenCommand(opts));
  token
    .command('list')
    .description('list API tokens')
    .option('--team <id>', 'the team (default: the first team)')
    .action(async (opts: { team?: string }) => (await adminCommand()).listTokensCommand(opts));
  token
    .command('revoke <id>')
    .description('revoke an API token')
    .option('--team <id>', 'the team (default: the first team)')
    .action(async (id: string, opts: { team?: string }) => (await adminCommand()).revokeTokenCommand(id, opts));

  program
    .command('member')
    .description('manage team members')
    .command('invite <email>')
    .description('invite someone into a team and print the invite link')
    .option('--role <role>', 'admin or user', 'user')
    .option('--team <id>', 'the team (default: the first team)')
    .action(async (email: string, opts: { role: string; team?: string }) => (await adminCommand()).inviteMember(email, opts));

  program
    .command('team')
    .description('manage teams')
    .command('create <name>')
    .description('create a team (with an owner) and print its id')
    .action(async (name: string) => (await adminCommand()).createTeamCommand(name));
  return program;
}

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode);
    // Loaded only here: the store module brings the database drivers with it.
    const { StoreUnavailableError } = await import('../store/db.js');
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
