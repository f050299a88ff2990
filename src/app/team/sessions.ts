import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { AppError } from '../../core/errors.js';
import type { RateWindow } from '../../core/rate-limit.js';
import type { Db } from '../../store/db.js';
import type { Actor } from '../context.js';
import { assertPasswordAcceptable, decoyHash, hashPassword, verifyPassword } from './passwords.js';
import { consumeRateLimit } from '../../store/rate-limit.js';

export const SESSION_IDLE_MS = 30 * 86_400_000;
/** last_seen_at and expires_at move at most once a minute, so requests are not a write each. */
const SLIDE_PRECISION_MS = 60_000;

/** Sign-in attempts, counted whether they succeed or not. */
export const SIGN_IN_WINDOWS = {
  perEmail: [{ seconds: 900, limit: 10 }] as RateWindow[],
  perAddress: [{ seconds: 900, limit: 50 }] as RateWindow[],
};

export interface WhoAmI {
  member: { id: string; userId: string; name: string | null; email: string; role: Actor['role'] };
  team: { id: string; name: string };
}

export interface SignedIn extends WhoAmI {
  /** the cookie's value: returned once, only its hash is stored */
  secret: string;
  expiresAt: Date;
}

/** 429 with the seconds to wait, which the route puts in Retry-After. */
export class SignInRateLimited extends AppError {
  constructor(readonly retryAfter: number) {
    super(429, 'RATE_LIMITED', `Too many sign-in attempts. Try again in ${retryAfter} seconds.`);
  }
}

export const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('hex');

const invalidCredentials = () => new AppError(401, 'INVALID_CREDENTIALS', 'The e-mail or password is incorrect');

export const normalizeEmail = (email: string) => email.trim().toLowerCase();

/** Starts a session for a member (after a sign-in or an accepted invite). */
export async function startSession(db: Db, member: { teamId: string; memberId: string }, now: Date): Promise<{ secret: string; expiresAt: Date }> {
  const secret = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + SESSION_IDLE_MS);
  await db
    .insertInto('sessions')
    .values({ id: hashSecret(secret), team_id: member.teamId, member_id: member.memberId, created_at: now, last_seen_at: now, expires_at: expiresAt })
    .execute();
  return { secret, expiresAt };
}

/**
 * Checks an e-mail and password and starts a session in the user's first team. The same answer whether the
 * e-mail or the password was wrong, and about the same time: an unknown e-mail is checked against a decoy hash.
 */
export async function signIn(db: Db, input: { email: string; password: string; address: string }, now: Date): Promise<SignedIn> {
  const email = normalizeEmail(input.email);
  for (const [subject, windows] of [
    [`signin:email:${email}`, SIGN_IN_WINDOWS.perEmail],
    [`signin:address:${input.address}`, SIGN_IN_WINDOWS.perAddress],
  ] as const) {
    const decision = await consumeRateLimit(db, subject, windows, now);
    if (!decision.allowed) throw new SignInRateLimited(decision.retryAfter);
  }
  const user = await db
    .selectFrom('users')
    .select(['id', 'password_hash'])
    .where(sql<string>`lower(email)`, '=', email)
    .executeTakeFirst();
  const matches = await verifyPassword(input.password, user?.password_hash ?? (await decoyHash()));
  if (!user?.password_hash || !matches) throw invalidCredentials();
  const member = await db
    .selectFrom('members')
    .select(['id', 'team_id'])
    .where('user_id', '=', user.id)
    .orderBy('created_at')
    .orderBy('id')
    .executeTakeFirst();
  if (!member) throw invalidCredentials();
  const session = await startSession(db, { teamId: member.team_id, memberId: member.id }, now);
  return { ...session, ...(await whoAmI(db, member.id)) };
}

/** Resolves a session cookie to its member, sliding its expiry; null when unknown or expired. */
export async function authenticateSession(db: Db, secret: string, now: Date): Promise<Actor | null> {
  const row = await db
    .selectFrom('sessions as s')
    .innerJoin('members as m', 'm.id', 's.member_id')
    .select(['s.id', 's.last_seen_at', 's.team_id', 's.member_id', 'm.user_id', 'm.role'])
    .where('s.id', '=', hashSecret(secret))
    .where('s.expires_at', '>', now)
    .executeTakeFirst();
  if (!row) return null;
  if (now.getTime() - row.last_seen_at.getTime() > SLIDE_PRECISION_MS) {
    await db
      .updateTable('sessions')
      .set({ last_seen_at: now, expires_at: new Date(now.getTime() + SESSION_IDLE_MS) })
      .where('id', '=', row.id)
      .execute();
  }
  return { teamId: row.team_id, memberId: row.member_id, userId: row.user_id, role: row.role };
}

export async function signOut(db: Db, secret: string): Promise<void> {
  await db.deleteFrom('sessions').where('id', '=', hashSecret(secret)).execute();
}

/**
 * Deletes the sessions past their expiry and the invite links that can no longer be used (expired, or used a day
 * ago: the day keeps a just-used link answering "used" rather than vanishing under a double click).
 */
export async function pruneSignIns(db: Db, now: Date): Promise<void> {
  await db.deleteFrom('sessions').where('expires_at', '<', now).execute();
  await db
    .deleteFrom('invites')
    .where((eb) => eb.or([eb('expires_at', '<', now), eb('used_at', '<', new Date(now.getTime() - 86_400_000))]))
    .execute();
}

/** Sets a user's password (12+ characters). */
export async function setPassword(db: Db, userId: string, password: string, now: Date): Promise<void> {
  assertPasswordAcceptable(password);
  await db.updateTable('users').set({ password_hash: await hashPassword(password), updated_at: now }).where('id', '=', userId).execute();
}

/** The member and team a request acts for, as `GET /auth/me` and sign-in answer. */
export async function whoAmI(db: Db, memberId: string): Promise<WhoAmI> {
  const row = await db
    .selectFrom('members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .innerJoin('teams as t', 't.id', 'm.team_id')
    .select(['m.id', 'm.user_id', 'm.role', 'u.name', 'u.email', 't.id as team_id', 't.name as team_name'])
    .where('m.id', '=', memberId)
    .executeTakeFirstOrThrow();
  return {
    member: { id: row.id, userId: row.user_id, name: row.name, email: row.email, role: row.role },
    team: { id: row.team_id, name: row.team_name },
  };
}
