import { iso, isoOrNull } from '../../core/time.js';
import type { Db } from '../../store/db.js';
import { rowOr404 } from '../rows.js';

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
