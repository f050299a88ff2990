import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // Members sign in to the web app. Sessions and invite links are stored by the sha256 of their secret only, as
  // tokens are: a copy of the database lets nobody in.
  await sql`
    alter table users add column password_hash text;

    create table sessions (
      id text primary key,
      team_id text not null references teams(id) on delete cascade,
      member_id text not null references members(id) on delete cascade,
      created_at timestamptz not null,
      last_seen_at timestamptz not null,
      expires_at timestamptz not null
    );
    create index sessions_expires on sessions (expires_at);

    create table invites (
      id text primary key,
      team_id text not null references teams(id) on delete cascade,
      email text not null,
      role text not null check (role in ('owner', 'admin', 'user')),
      kind text not null check (kind in ('invite', 'password')),
      secret_hash text not null unique,
      created_by text references members(id) on delete set null,
      created_at timestamptz not null,
      expires_at timestamptz not null,
      used_at timestamptz
    );
    create index invites_team on invites (team_id, created_at);
  `.execute(db);
}
