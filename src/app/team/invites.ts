import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { AppError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { iso } from '../../core/time.js';
import type { Db } from '../../store/db.js';
import type { InviteKind, InvitesTable } from '../../store/schema.js';
import type { Selectable } from 'kysely';
import type { Actor } from '../context.js';
import { assertPasswordAcceptable, hashPassword, verifyPassword } from './passwords.js';
import { assertCanManage } from './roles.js';
import { hashSecret, normalizeEmail, startSession, whoAmI, type SignedIn } from './sessions.js';
import { rowOr404 } from '../rows.js';

export const INVITE_TTL_MS = 7 * 86_400_000;

export interface Invite {
  id: string;
  email: string;
  role: 'admin' | 'user';
  expiresAt: string;
  createdAt: string;
}

export interface CreatedInvite extends Invite {
  /** `/app/accept/<secret>`: shown once, only the secret's hash is stored */
  url: string;
}

export const acceptPath = (secret: string) => `/app/accept/${secret}`;

const present = (row: Selectable<InvitesTable>): Invite => ({
  id: row.id,
  email: row.email,
  role: row.role === 'admin' ? 'admin' : 'user',
  expiresAt: iso(row.expires_at),
  createdAt: iso(row.created_at),
});

const inviteNotFound = () => new AppError(404, 'INVITE_NOT_FOUND', 'This link is unknown, expired or already used');

async function insertInvite(
  db: Db,
  input: { teamId: string; email: string; role: Invite['role'] | 'owner'; kind: InviteKind; createdBy: string | null },
  now: Date,
): Promise<{ row: Selectable<InvitesTable>; secret: string }> {
  const secret = randomBytes(32).toString('base64url');
  const row = await db
    .insertInto('invites')
    .values({
      id: newId(),
      team_id: input.teamId,
      email: normalizeEmail(input.email),
      role: input.role,
      kind: input.kind,
      secret_hash: hashSecret(secret),
      created_by: input.createdBy,
      created_at: now,
      expires_at: new Date(now.getTime() + INVITE_TTL_MS),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { row, secret };
}

/** An owner or admin invites an e-mail address into the team as an admin or a user. */
export async function createInvite(db: Db, actor: Actor, input: { email: string; role?: Invite['role'] }, now: Date): Promise<CreatedInvite> {
  assertCanManage(actor, 'members and invites');
  const email = normalizeEmail(input.email);
  const existing = await db
    .selectFrom('members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select('m.id')
    .where('m.team_id', '=', actor.teamId)
    .where(sql<string>`lower(u.email)`, '=', email)
    .executeTakeFirst();
  if (existing) throw new AppError(409, 'CONFLICT', `${email} is already a member of this team`);
  const { row, secret } = await insertInvite(db, { teamId: actor.teamId, email, role: input.role ?? 'user', kind: 'invite', createdBy: actor.memberId }, now);
  return { ...present(row), url: acceptPath(secret) };
}

/** A one-time link for an existing member to set their password (the owner's, on first start). */
export async function createPasswordLink(db: Db, memberId: string, now: Date): Promise<string> {
  const member = await db
    .selectFrom('members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['m.team_id', 'm.role', 'u.email'])
    .where('m.id', '=', memberId)
    .executeTakeFirstOrThrow();
  const { secret } = await insertInvite(db, { teamId: member.team_id, email: member.email, role: member.role, kind: 'password', createdBy: null }, now);
  return acceptPath(secret);
}

/** Invitations not yet accepted, revoked or expired. */
export async function listInvites(db: Db, actor: Actor, now: Date): Promise<Invite[]> {
  assertCanManage(actor, 'members and invites');
  const rows = await db
    .selectFrom('invites')
    .selectAll()
    .where('team_id', '=', actor.teamId)
    .where('kind', '=', 'invite')
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(present);
}

export async function revokeInvite(db: Db, actor: Actor, inviteId: string): Promise<void> {
  assertCanManage(actor, 'members and invites');
  await rowOr404(db.deleteFrom('invites').where('team_id', '=', actor.teamId).where('id', '=', inviteId).returning('id'), 'INVITE_NOT_FOUND', 'Invite', inviteId);
}

/** What the accept page shows before the person chooses a password. */
export async function lookupInvite(db: Db, secret: string, now: Date): Promise<{ email: string; teamName: string; kind: InviteKind }> {
  const row = await db
    .selectFrom('invites as i')
    .innerJoin('teams as t', 't.id', 'i.team_id')
    .select(['i.email', 'i.kind', 't.name'])
    .where('i.secret_hash', '=', hashSecret(secret))
    .where('i.used_at', 'is', null)
    .where('i.expires_at', '>', now)
    .executeTakeFirst();
  if (!row) throw inviteNotFound();
  return { email: row.email, teamName: row.name, kind: row.kind };
}

/**
 * Uses a link once and signs the person in. An invite makes the e-mail's user (created when new) a member; a
 * password link sets the member's password. A user who has a password already must give it: an invite must not
 * let whoever holds it replace the password of someone else's account.
 */
export async function acceptInvite(db: Db, secret: string, input: { password: string; name?: string }, now: Date): Promise<SignedIn> {
  assertPasswordAcceptable(input.password);
  // An unknown link costs no hashing: this route is public.
  await lookupInvite(db, secret, now);
  const passwordHash = await hashPassword(input.password);
  const memberId = await db.transaction().execute(async (trx) => {
    const invite = await trx
      .updateTable('invites')
      .set({ used_at: now })
      .where('secret_hash', '=', hashSecret(secret))
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .returningAll()
      .executeTakeFirst();
    if (!invite) throw inviteNotFound();
    const name = input.name?.trim() || null;
    let user = await trx
      .selectFrom('users')
      .select(['id', 'password_hash'])
      .where(sql<string>`lower(email)`, '=', invite.email)
      .executeTakeFirst();
    if (invite.kind === 'password') {
      if (!user) throw inviteNotFound();
      await trx
        .updateTable('users')
        .set({ password_hash: passwordHash, updated_at: now, ...(name ? { name } : {}) })
        .where('id', '=', user.id)
        .execute();
    } else if (!user) {
      user = await trx
        .insertInto('users')
        .values({ id: newId(), email: invite.email, name, image: null, password_hash: passwordHash, created_at: now })
        .returning(['id', 'password_hash'])
        .executeTakeFirstOrThrow();
    } else if (user.password_hash === null) {
      await trx.updateTable('users').set({ password_hash: passwordHash, updated_at: now }).where('id', '=', user.id).execute();
    } else if (!(await verifyPassword(input.password, user.password_hash))) {
      throw new AppError(401, 'INVALID_CREDENTIALS', 'This e-mail has an account already: enter its password to join the team');
    }
    const userId = user.id;
    const member =
      (await trx
        .insertInto('members')
        .values({ id: newId(), team_id: invite.team_id, user_id: userId, role: invite.role, created_at: now })
        .onConflict((oc) => oc.columns(['team_id', 'user_id']).doNothing())
        .returning('id')
        .executeTakeFirst()) ??
      (await trx.selectFrom('members').select('id').where('team_id', '=', invite.team_id).where('user_id', '=', userId).executeTakeFirstOrThrow());
    return member.id;
  });
  const me = await whoAmI(db, memberId);
  const session = await startSession(db, { teamId: me.team.id, memberId }, now);
  return { ...session, ...me };
}
