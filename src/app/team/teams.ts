import { AppError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { iso, isoOrNull } from '../../core/time.js';
import type { Db } from '../../store/db.js';
import type { MemberRow, TeamRow } from '../../store/schema.js';
import { createPasswordLink } from './invites.js';
import { normalizeEmail, setPassword } from './sessions.js';
import { createToken, type CreatedToken } from './tokens.js';
import { rowOr404 } from '../rows.js';

export interface TeamWithOwner {
  team: TeamRow;
  owner: MemberRow;
}

function slugify(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48);
  return slug || 'team';
}

/** Creates a team together with its owner (a new user) so that tokens always act as a member. */
export async function createTeam(db: Db, name: string, now: Date): Promise<TeamWithOwner> {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 255) {
    throw new AppError(400, 'VALIDATION_ERROR', 'Team name must be 1-255 characters');
  }
  return db.transaction().execute(async (trx) => {
    const base = slugify(trimmed);
    const taken = await trx
      .selectFrom('teams')
      .select('slug')
      .where((eb) => eb.or([eb('slug', '=', base), eb('slug', 'like', `${base}-%`)]))
      .execute();
    const takenSlugs = new Set(taken.map((t) => t.slug));
    let slug = base;
    for (let n = 2; takenSlugs.has(slug); n++) slug = `${base}-${n}`;

    const team = await trx
      .insertInto('teams')
      .values({ id: newId(), name: trimmed, slug, image: null, created_at: now })
      .returningAll()
      .executeTakeFirstOrThrow();
    const user = await trx
      .insertInto('users')
      .values({ id: newId(), email: `owner@${slug}.localhost`, name: 'Owner', image: null, created_at: now })
      .returningAll()
      .executeTakeFirstOrThrow();
    const owner = await trx
      .insertInto('members')
      .values({ id: newId(), team_id: team.id, user_id: user.id, role: 'owner', created_at: now })
      .returningAll()
      .executeTakeFirstOrThrow();
    return { team, owner };
  });
}

export async function getTeam(db: Db, teamId: string): Promise<TeamRow> {
  return rowOr404(db.selectFrom('teams').selectAll().where('id', '=', teamId), 'TEAM_NOT_FOUND', 'Team', teamId);
}

export async function teamOwner(db: Db, teamId: string): Promise<MemberRow> {
  return rowOr404(db
    .selectFrom('members')
    .selectAll()
    .where('team_id', '=', teamId)
    .where('role', '=', 'owner')
    .orderBy('created_at')
    , 'TEAM_NOT_FOUND', 'Team', teamId);
}

export interface Bootstrap {
  team: TeamRow;
  /** the new token, when one was generated (shown once) */
  token?: CreatedToken;
  /** `/app/accept/<secret>`: the one-time link for the owner to set a password, unless one was given */
  passwordLink?: string;
}

export interface BootstrapOptions {
  token?: string;
  ownerEmail?: string;
  ownerPassword?: string;
}

/**
 * On first start with an empty store, creates the default team and its owner, and registers the
 * bootstrap token (or generates one); sets the owner's e-mail and password when given, else makes a
 * one-time link to set the password. Does nothing when a team exists already.
 */
export async function bootstrapStore(db: Db, options: BootstrapOptions, now: Date): Promise<Bootstrap | null> {
  const existing = await db.selectFrom('teams').select('id').limit(1).executeTakeFirst();
  if (existing) return null;
  const { team, owner } = await createTeam(db, 'Default team', now);
  const token = await createToken(db, { teamId: team.id, memberId: owner.id, name: 'bootstrap', plain: options.token }, now);
  if (options.ownerEmail) {
    await db.updateTable('users').set({ email: normalizeEmail(options.ownerEmail) }).where('id', '=', owner.user_id).execute();
  }
  if (options.ownerPassword) await setPassword(db, owner.user_id, options.ownerPassword, now);
  const passwordLink = options.ownerPassword ? undefined : await createPasswordLink(db, owner.id, now);
  return { team, token: options.token ? undefined : token, passwordLink };
}

export interface Team {
  id: string;
  name: string;
  slug: string;
  image: string | null;
  createdAt: string;
  updatedAt: string | null;
  currency: string;
  allowSupportAccess: boolean;
}

export const presentTeam = (t: TeamRow): Team => ({
  id: t.id,
  name: t.name,
  slug: t.slug,
  image: t.image,
  createdAt: iso(t.created_at),
  updatedAt: isoOrNull(t.updated_at),
  currency: t.currency,
  allowSupportAccess: t.allow_support_access,
});
