import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { AppError, forbidden, notFound } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type { Db } from '../../store/db.js';
import type { Actor } from '../context.js';
import { rowOr404 } from '../rows.js';

export interface TokenInfo {
  id: string;
  name: string;
  hint: string;
  memberId: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export interface CreatedToken extends TokenInfo {
  /** the secret itself: returned once, never stored */
  token: string;
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

function generateToken(): string {
  return `inbox_${randomBytes(24).toString('base64url')}`;
}

export async function createToken(
  db: Db,
  input: { teamId: string; memberId?: string; name: string; plain?: string },
  now: Date,
): Promise<CreatedToken> {
  const name = input.name.trim();
  if (name.length === 0 || name.length > 255) {
    throw new AppError(400, 'VALIDATION_ERROR', 'Token name must be 1-255 characters');
  }
  const memberId =
    input.memberId ??
    (
      await db
        .selectFrom('members')
        .select('id')
        .where('team_id', '=', input.teamId)
        .where('role', '=', 'owner')
        .orderBy('created_at')
        .executeTakeFirst()
    )?.id;
  if (!memberId) throw notFound('TEAM_NOT_FOUND', 'Team', input.teamId);
  const token = input.plain ?? generateToken();
  const row = await db
    .insertInto('api_tokens')
    .values({
      id: newId(),
      team_id: input.teamId,
      member_id: memberId,
      name,
      token_hash: hashToken(token),
      token_hint: token.slice(-4),
      created_at: now,
    })
    .onConflict((oc) => oc.column('token_hash').doNothing())
    .returningAll()
    .executeTakeFirst();
  if (!row) throw new AppError(409, 'CONFLICT', 'This token is already registered');
  return { ...toInfo(row), token };
}

function toInfo(row: {
  id: string;
  name: string;
  token_hint: string;
  member_id: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}): TokenInfo {
  return {
    id: row.id,
    name: row.name,
    hint: row.token_hint,
    memberId: row.member_id,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}

export async function listTokens(db: Db, teamId: string): Promise<TokenInfo[]> {
  const rows = await db
    .selectFrom('api_tokens')
    .selectAll()
    .where('team_id', '=', teamId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(toInfo);
}

export async function revokeToken(db: Db, teamId: string, tokenId: string, now: Date): Promise<TokenInfo> {
  const row = await rowOr404(db
    .updateTable('api_tokens')
    .set({ revoked_at: sql`coalesce(revoked_at, ${now})` })
    .where('team_id', '=', teamId)
    .where('id', '=', tokenId)
    .returningAll()
    , 'TOKEN_NOT_FOUND', 'Token', tokenId);
  return toInfo(row);
}

/** Token management is for owners and admins. */
export function assertCanManageTokens(actor: Actor): void {
  if (actor.role === 'user') throw forbidden('Only owners and admins can manage API tokens');
}

const LAST_USED_PRECISION_MS = 60_000;

/** Resolves a presented token to the team and member it acts for, or null when unknown or revoked. */
export async function authenticate(db: Db, token: string, now: Date): Promise<Actor | null> {
  const row = await db
    .selectFrom('api_tokens as t')
    .innerJoin('members as m', 'm.id', 't.member_id')
    .select(['t.id', 't.team_id', 't.member_id', 't.last_used_at', 'm.user_id', 'm.role'])
    .where('t.token_hash', '=', hashToken(token))
    .where('t.revoked_at', 'is', null)
    .executeTakeFirst();
  if (!row) return null;
  // Recording use is best-effort and coarse, to keep requests free of a write each.
  if (!row.last_used_at || now.getTime() - row.last_used_at.getTime() > LAST_USED_PRECISION_MS) {
    await db.updateTable('api_tokens').set({ last_used_at: now }).where('id', '=', row.id).execute();
  }
  return { teamId: row.team_id, memberId: row.member_id, userId: row.user_id, role: row.role };
}
