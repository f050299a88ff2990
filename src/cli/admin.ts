import { createInvite } from '../app/team/invites.js';
import { createTeam, teamOwner } from '../app/team/teams.js';
import { createToken, listTokens, revokeToken } from '../app/team/tokens.js';
import { AppError } from '../core/errors.js';
import { migrateToLatest } from '../store/db.js';
import { importCommand, type ImportOptions } from './import.js';
import { firstTeamId, serverUrl, withRuntime } from './runtime.js';

/** The commands that change the store and exit: migrations, tokens, members, teams, CSV imports. */

export const migrate = () =>
  withRuntime(async ({ ctx }) => {
    // openRuntime already migrated; report the state.
    const applied = await migrateToLatest(ctx.db);
    process.stdout.write(applied.length ? `applied ${applied.join(', ')}\n` : 'database is up to date\n');
  });

export const importFile = (file: string, opts: ImportOptions & { team?: string }) =>
  withRuntime(async ({ ctx }) => importCommand(ctx, opts.team ?? (await firstTeamId(ctx.db)), file, opts));

export const createTokenCommand = (opts: { name: string; team?: string }) =>
  withRuntime(async ({ ctx }) => {
    const teamId = opts.team ?? (await firstTeamId(ctx.db));
    const created = await createToken(ctx.db, { teamId, name: opts.name }, ctx.clock.now());
    process.stdout.write(`${created.token}\n`);
  });

export const listTokensCommand = (opts: { team?: string }) =>
  withRuntime(async ({ ctx }) => {
    const teamId = opts.team ?? (await firstTeamId(ctx.db));
    for (const t of await listTokens(ctx.db, teamId)) {
      const state = t.revokedAt ? `revoked ${t.revokedAt.toISOString()}` : 'active';
      process.stdout.write(`${t.id}\t${t.name}\t…${t.hint}\t${state}\n`);
    }
  });

export const revokeTokenCommand = (id: string, opts: { team?: string }) =>
  withRuntime(async ({ ctx }) => {
    const teamId = opts.team ?? (await firstTeamId(ctx.db));
    await revokeToken(ctx.db, teamId, id, ctx.clock.now());
    process.stdout.write(`revoked ${id}\n`);
  });

export const inviteMember = (email: string, opts: { role: string; team?: string }) =>
  withRuntime(async ({ ctx }) => {
    if (opts.role !== 'admin' && opts.role !== 'user') throw new AppError(400, 'VALIDATION_ERROR', '--role must be admin or user');
    const teamId = opts.team ?? (await firstTeamId(ctx.db));
    const owner = await teamOwner(ctx.db, teamId);
    const actor = { teamId, memberId: owner.id, userId: owner.user_id, role: owner.role };
    const invite = await createInvite(ctx.db, actor, { email, role: opts.role }, ctx.clock.now());
    process.stdout.write(`${serverUrl(ctx.config)}${invite.url}\n`);
  });

export const createTeamCommand = (name: string) =>
  withRuntime(async ({ ctx }) => {
    const { team } = await createTeam(ctx.db, name, ctx.clock.now());
    process.stdout.write(`${team.id}\n`);
  });
