import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table teams (
      id text primary key,
      name text not null,
      slug text not null unique,
      image text,
      currency text not null default 'USD',
      allow_support_access boolean not null default false,
      created_at timestamptz not null default now(),
      updated_at timestamptz
    );

    create table users (
      id text primary key,
      email text not null unique,
      name text,
      image text,
      created_at timestamptz not null default now(),
      updated_at timestamptz
    );

    create table members (
      id text primary key,
      team_id text not null references teams(id) on delete cascade,
      user_id text not null references users(id) on delete cascade,
      role text not null check (role in ('owner', 'admin', 'user')),
      created_at timestamptz not null default now(),
      updated_at timestamptz,
      unique (team_id, user_id)
    );

    create table api_tokens (
      id text primary key,
      team_id text not null references teams(id) on delete cascade,
      member_id text not null references members(id) on delete cascade,
      name text not null,
      token_hash text not null unique,
      token_hint text not null,
      created_at timestamptz not null default now(),
      last_used_at timestamptz,
      revoked_at timestamptz
    );
    create index api_tokens_team on api_tokens (team_id, created_at);

    create table tags (
      id text primary key,
      team_id text not null references teams(id) on delete cascade,
      name text not null,
      color text,
      created_at timestamptz not null default now(),
      updated_at timestamptz
    );
    create unique index tags_team_name on tags (team_id, lower(name));

    create table statuses (
      id text primary key,
      team_id text not null references teams(id) on delete cascade,
      name text not null,
      color text,
      created_at timestamptz not null default now(),
      updated_at timestamptz
    );
    create unique index statuses_team_name on statuses (team_id, lower(name));

    -- Sliding-window rate limiting: one counter per team, window length and bucket.
    create table rate_limit_buckets (
      team_id text not null,
      window_seconds integer not null,
      bucket bigint not null,
      hits integer not null,
      primary key (team_id, window_seconds, bucket)
    );
  `.execute(db);
}
