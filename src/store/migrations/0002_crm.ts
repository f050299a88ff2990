import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- The simulated X used by the sandbox platform. Global, like X itself: not owned by a team.
    create table sandbox_profiles (
      platform_id text primary key,
      username text,
      display_name text,
      bio text,
      location text,
      follower_count integer,
      is_protected boolean,
      account_status text check (account_status in ('active', 'suspended', 'deactivated')),
      dms_open boolean,
      updated_at timestamptz not null default now()
    );
    create unique index sandbox_profiles_username on sandbox_profiles (lower(username));

    -- Every DM that crossed the simulated X, both directions, with X-like decimal event ids.
    create table sandbox_dm_events (
      id text primary key,
      sender_id text not null,
      recipient_id text not null,
      text text not null,
      created_at timestamptz not null default now()
    );
    create index sandbox_dm_events_pair on sandbox_dm_events (sender_id, recipient_id, created_at);

    create table sandbox_likes (
      user_id text not null,
      post_id text not null,
      created_at timestamptz not null default now(),
      primary key (user_id, post_id)
    );

    create sequence sandbox_ids start 1900000000000000000;

    create table account_links (
      id text primary key,
      team_id text not null references teams(id) on delete cascade,
      platform text not null check (platform in ('twitter', 'sandbox')),
      platform_id text not null,
      name text not null,
      username text not null,
      image text not null,
      status text not null default 'active' check (status in ('active', 'offline', 'paused')),
      synced_at timestamptz,
      hourly_limit integer not null default 25,
      daily_limit integer not null default 400,
      created_at timestamptz not null default now(),
      updated_at timestamptz,
      unique (team_id, platform, platform_id)
    );

    create table prospects (
      id text primary key,
      team_id text not null references teams(id) on delete cascade,
      platform text not null check (platform in ('twitter', 'sandbox')),
      platform_id text not null,
      username text not null,
      display_name text not null,
      image text,
      bio text,
      location text,
      website_url text,
      verified text not null default 'none',
      profile_type text not null default 'personal',
      is_protected boolean not null default false,
      follower_count integer not null default 0,
      following_count integer not null default 0,
      post_count integer not null default 0,
      listed_count integer,
      account_status text not null default 'active',
      dms_open boolean not null default true,
      platform_created_at timestamptz,
      last_enriched_at timestamptz,
      status_id text references statuses(id) on delete set null,
      valuation numeric,
      notes text,
      assignee_id text references members(id) on delete set null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (team_id, platform, platform_id)
    );
    create index prospects_team_username on prospects (team_id, lower(username));
    create index prospects_status on prospects (status_id) where status_id is not null;

    create table prospect_tags (
      prospect_id text not null references prospects(id) on delete cascade,
      tag_id text not null references tags(id) on delete cascade,
      created_at timestamptz not null default now(),
      primary key (prospect_id, tag_id)
    );
    create index prospect_tags_tag on prospect_tags (tag_id, prospect_id);

    create table threads (
      id text primary key,
      team_id text not null references teams(id) on delete cascade,
      account_link_id text not null references account_links(id) on delete cascade,
      prospect_id text not null references prospects(id) on delete cascade,
      platform text not null,
      platform_id text not null,
      done boolean not null default false,
      assignee_id text references members(id) on delete set null,
      status text not null default 'active' check (status in ('active', 'idle')),
      variant text not null default 'unencrypted' check (variant in ('unencrypted', 'xChat')),
      is_request boolean not null default false,
      is_syncing boolean not null default false,
      typing_indicators_enabled boolean,
      has_outbound boolean not null default false,
      has_inbound boolean not null default false,
      last_message_id text,
      last_message_at timestamptz,
      last_message_outbound boolean,
      sort_at timestamptz not null,
      created_at timestamptz not null default now(),
      deleted_at timestamptz,
      unique (account_link_id, prospect_id)
    );
    -- Inbox pages walk this index in sort order; views and filters are checked on the way.
    create index threads_team_sort on threads (team_id, sort_at desc, id desc) where deleted_at is null;
    create index threads_prospect on threads (prospect_id);

    create table messages (
      id text primary key,
      team_id text not null references teams(id) on delete cascade,
      thread_id text not null references threads(id) on delete cascade,
      platform text not null,
      platform_id text,
      outbound boolean not null,
      author_id text not null,
      user_id text,
      campaign_id text,
      campaign_step_id text,
      content text not null,
      origin text check (origin in ('internal', 'external', 'api')),
      reply_to_message_id text,
      is_encrypted boolean,
      reactions jsonb not null default '[]',
      created_at timestamptz not null default now(),
      updated_at timestamptz,
      is_edited boolean not null default false,
      deleted_at timestamptz,
      deletion_type text check (deletion_type in ('self', 'all')),
      deletion_origin text,
      platform_deleted_at timestamptz
    );
    create index messages_thread_time on messages (thread_id, created_at desc, id desc);
    create unique index messages_thread_platform_id on messages (thread_id, platform_id) where platform_id is not null;
    create index messages_campaign on messages (campaign_id, thread_id) where campaign_id is not null;

    -- Earlier texts of edited messages (the current text lives on the message).
    create table message_versions (
      id text primary key,
      message_id text not null references messages(id) on delete cascade,
      content text not null,
      edit_origin text,
      created_at timestamptz not null default now()
    );
    create index message_versions_message on message_versions (message_id, created_at);

    create table event_counters (
      team_id text primary key references teams(id) on delete cascade,
      last_seq bigint not null
    );

    create table events (
      id text primary key,
      team_id text not null references teams(id) on delete cascade,
      seq bigint not null,
      type text not null,
      created_at timestamptz not null,
      data jsonb not null,
      unique (team_id, seq)
    );
    create index events_created on events (created_at);

    create table webhooks (
      id text primary key,
      team_id text not null references teams(id) on delete cascade,
      url text not null,
      description text,
      event_types jsonb not null,
      enabled boolean not null default true,
      secret text not null,
      created_at timestamptz not null default now(),
      updated_at timestamptz
    );
    create index webhooks_team on webhooks (team_id);

    -- The outbox: one row per (webhook, event), delivered in seq order per webhook.
    create table webhook_deliveries (
      id text primary key,
      webhook_id text not null references webhooks(id) on delete cascade,
      team_id text not null,
      event_id text not null references events(id) on delete cascade,
      event_seq bigint not null,
      status text not null default 'pending' check (status in ('pending', 'delivered', 'failed')),
      attempts integer not null default 0,
      next_attempt_at timestamptz not null,
      last_attempt_at timestamptz,
      last_status_code integer,
      last_error text,
      created_at timestamptz not null default now(),
      completed_at timestamptz,
      unique (webhook_id, event_seq)
    );
    create index webhook_deliveries_pending on webhook_deliveries (webhook_id, event_seq) where status = 'pending';
    create index webhook_deliveries_due on webhook_deliveries (next_attempt_at) where status = 'pending';
  `.execute(db);
}
