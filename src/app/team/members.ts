import { AppError, forbidden } from '../../core/errors.js';
import { iso, isoOrNull } from '../../core/time.js';
import type { Db } from '../../store/db.js';
import type { Actor } from '../context.js';
import { rowOr404 } from '../rows.js';
import { assertCanManage } from './roles.js';

export interface Member {
  id: string;
  userId: string;
  name: string | null;
  email: string;
  image: string | null;
  role: 'owner' | 'admin' | 'user';
  createdAt: string;
  updatedAt: string | null;
}

function membersOf(db: Db, teamId: string) {
  return db
    .selectFrom('members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['m.id', 'm.user_id', 'm.role', 'm.created_at', 'm.updated_at', 'u.name', 'u.email', 'u.image'])
    .where('m.team_id', '=', teamId);
}

type MemberJoinRow = Awaited<ReturnType<ReturnType<typeof membersOf>['executeTakeFirstOrThrow']>>;

const present = (r: MemberJoinRow): Member => ({
  id: r.id,
  userId: r.user_id,
  name: r.name,
  email: r.email,
  image: r.image,
  role: r.role,
  createdAt: iso(r.created_at),
  updatedAt: isoOrNull(r.updated_at),
});

export async function listMembers(db: Db, teamId: string): Promise<Member[]> {
  const rows = await membersOf(db, teamId).orderBy('m.created_at').orderBy('m.id').execute();
  return rows.map(present);
}

export async function getMember(db: Db, teamId: string, memberId: string): Promise<Member> {
  const row = await rowOr404(membersOf(db, teamId).where('m.id', '=', memberId), 'MEMBER_NOT_FOUND', 'Member', memberId);
  return present(row);
}

/** Checks that a member id belongs to the team (for assignees); 404 MEMBER_NOT_FOUND otherwise. */
export async function assertMember(db: Db, teamId: string, memberId: string): Promise<void> {
  await rowOr404(db
    .selectFrom('members')
    .select('id')
    .where('team_id', '=', teamId)
    .where('id', '=', memberId)
    , 'MEMBER_NOT_FOUND', 'Member', memberId);
}

const lastOwner = () => new AppError(409, 'LAST_OWNER', 'A team keeps at least one owner: make another member an owner first');

/**
 * Checks that the actor may change or remove the member, in a transaction that holds the team's row: changes to
 * one team's members take turns, so two owners demoting each other at once cannot leave the team without one.
 * The actor's role is read again under the lock (a change that just committed may have taken theirs away).
 * Only owners make, change or remove an owner.
 */
async function guardedChange(db: Db, actor: Actor, memberId: string, change: (trx: Db, member: { role: Member['role'] }) => Promise<void>, newRole?: Member['role']): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.selectFrom('teams').select('id').where('id', '=', actor.teamId).forUpdate().executeTakeFirstOrThrow();
    const current = await trx.selectFrom('members').select('role').where('id', '=', actor.memberId).executeTakeFirst();
    if (!current) throw forbidden('You are no longer a member of this team');
    const role = current.role;
    assertCanManage({ ...actor, role }, 'members and invites');
    const member = await rowOr404(
      trx.selectFrom('members').select('role').where('team_id', '=', actor.teamId).where('id', '=', memberId),
      'MEMBER_NOT_FOUND',
      'Member',
      memberId,
    );
    if (role !== 'owner' && (member.role === 'owner' || newRole === 'owner')) throw forbidden('Only owners can make, change or remove an owner');
    if (member.role === 'owner' && newRole !== 'owner') {
      const owners = await trx.selectFrom('members').select((eb) => eb.fn.countAll<string>().as('n')).where('team_id', '=', actor.teamId).where('role', '=', 'owner').executeTakeFirstOrThrow();
      if (Number(owners.n) <= 1) throw lastOwner();
    }
    await change(trx, member);
  });
}

/** Gives a member another role (owners and admins; see guardedChange). A session or token acts with the new role from its next request. */
export async function changeMemberRole(db: Db, actor: Actor, memberId: string, role: Member['role'], now: Date): Promise<Member> {
  await guardedChange(
    db,
    actor,
    memberId,
    async (trx, member) => {
      if (member.role !== role) await trx.updateTable('members').set({ role, updated_at: now }).where('id', '=', memberId).execute();
    },
    role,
  );
  return getMember(db, actor.teamId, memberId);
}

/**
 * Removes a member from the team. Their sessions and API tokens go with the membership (the store cascades),
 * so every key they held stops working at once; threads assigned to them become unassigned. Their user, and
 * their memberships of other teams, stay.
 */
export async function removeMember(db: Db, actor: Actor, memberId: string): Promise<void> {
  await guardedChange(db, actor, memberId, async (trx) => {
    await trx.deleteFrom('members').where('id', '=', memberId).execute();
  });
}
