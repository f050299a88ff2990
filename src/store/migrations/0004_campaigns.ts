import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- User lists. The system lists (Contacted, Mutual) are rows too, so they have ids, but their
    -- members are derived from threads and never stored.
    create table lists (
      id text primary key,
      team_id text not null references teams(id) on delete cascade,
      name text not null,
      description text,
      system_type text check (system_type in ('contacted', 'mutual')),
      created_at timestamptz not null default now(),
      updated_at timestamptz
    );
    create index lists_team on lists (team_id, created_at);
    create unique index lists_team_system on lists (team_id, system_type) where system_type is not null;

    create table list_columns (
      id text primary key,
      list_id text not null references lists(id) on delete cascade,
      name text not null,
      type text not null check (type in ('text', 'number', 'url', 'date')),
      description text,
      created_at timestamptz not null default now(),
      updated_at timestamptz
    );
    create index list_columns_list on list_columns (list_id, created_at);

    create table list_leads (
      list_id text not null references lists(id) on delete cascade,
      prospect_id text not null references prospects(id) on delete cascade,
      data jsonb not null default '{}',
      created_at timestamptz not null default now(),
      primary key (list_id, prospect_id)
    );
    create index list_leads_prospect on list_leads (prospect_id);
    create index list_leads_page on list_leads (list_id, created_at, prospect_id);

    create table campaigns (
      id text primary key,
      team_id text not null references teams(id) on delete cascade,
      name text not null,
      description text,
      status text not null default 'draft' check (status in ('draft', 'active', 'paused', 'completed')),
      enabled boolean not null default false,
      messages_per_hour integer not null default 8,
      timezone text not null default 'UTC',
      schedule jsonb not null,
      exclude_contacted boolean not null default false,
      exclude_mutuals boolean not null default false,
      sequence_version integer not null default 0,
      is_syncing boolean not null default false,
      is_rebalancing boolean not null default false,
      scope_assessed_count integer not null default 0,
      pause_reason text,
      created_at timestamptz not null default now(),
      updated_at timestamptz,
      paused_at timestamptz,
      completed_at timestamptz,
      started_at timestamptz
    );
    create index campaigns_team on campaigns (team_id, created_at desc, id desc);
    create index campaigns_active on campaigns (status) where status = 'active';

    create table campaign_accounts (
      campaign_id text not null references campaigns(id) on delete cascade,
      account_link_id text not null references account_links(id) on delete cascade,
      position integer not null,
      primary key (campaign_id, account_link_id)
    );
    create index campaign_accounts_account on campaign_accounts (account_link_id);

    create table campaign_list_rules (
      campaign_id text not null references campaigns(id) on delete cascade,
      list_id text not null references lists(id) on delete cascade,
      kind text not null check (kind in ('synced', 'excluded')),
      column_mapping jsonb not null default '{}',
      primary key (campaign_id, list_id)
    );
    create index campaign_list_rules_list on campaign_list_rules (list_id);

    create table campaign_columns (
      id text primary key,
      campaign_id text not null references campaigns(id) on delete cascade,
      name text not null,
      type text not null check (type in ('text', 'number', 'url', 'date')),
      description text,
      created_at timestamptz not null default now(),
      updated_at timestamptz
    );
    create index campaign_columns_campaign on campaign_columns (campaign_id, created_at);

    -- Every version of a campaign's sequence; steps carry their ids and ranks.
    create table sequence_versions (
      campaign_id text not null references campaigns(id) on delete cascade,
      version integer not null,
      steps jsonb not null,
      created_at timestamptz not null default now(),
      primary key (campaign_id, version)
    );

    create table automations (
      id text primary key,
      campaign_id text not null references campaigns(id) on delete cascade,
      position integer not null,
      trigger text not null check (trigger in ('replied', 'contacted', 'completed')),
      action text not null check (action in ('setStatus', 'addTag', 'assign')),
      action_data jsonb not null,
      enabled boolean not null default true
    );
    create index automations_campaign on automations (campaign_id, position);

    -- One row per lead and campaign, with its explicit state: the unit of work of the engine.
    create table campaign_leads (
      id text primary key,
      campaign_id text not null references campaigns(id) on delete cascade,
      team_id text not null,
      prospect_id text not null references prospects(id) on delete cascade,
      state text not null default 'pending'
        check (state in ('pending', 'active', 'replied', 'completed', 'cancelled', 'failed', 'excluded')),
      direct boolean not null default false,
      account_link_id text references account_links(id) on delete set null,
      data jsonb not null default '{}',
      sequence_version integer,
      next_rank integer not null default 0,
      next_step_at timestamptz,
      contacted_at timestamptz,
      last_contact_at timestamptz,
      replied_at timestamptz,
      finished_at timestamptz,
      failure_reason text,
      created_at timestamptz not null default now(),
      updated_at timestamptz,
      unique (campaign_id, prospect_id)
    );
    create index campaign_leads_page on campaign_leads (campaign_id, created_at, id);
    create index campaign_leads_state on campaign_leads (campaign_id, state);
    create index campaign_leads_prospect on campaign_leads (prospect_id);

    -- Which synced lists contributed a lead (a lead leaves only when no source remains).
    create table campaign_lead_sources (
      campaign_id text not null references campaigns(id) on delete cascade,
      prospect_id text not null references prospects(id) on delete cascade,
      list_id text not null references lists(id) on delete cascade,
      primary key (campaign_id, prospect_id, list_id)
    );
    create index campaign_lead_sources_list on campaign_lead_sources (list_id, campaign_id);

    -- Background work as rows (list syncs, imports, rebalancing), claimed with FOR UPDATE SKIP LOCKED.
    create table jobs (
      id text primary key,
      team_id text not null references teams(id) on delete cascade,
      kind text not null,
      subject_id text not null,
      status text not null default 'queued' check (status in ('queued', 'running', 'completed', 'failed', 'canceled')),
      payload jsonb not null default '{}',
      run_after timestamptz not null default now(),
      locked_until timestamptz,
      attempts integer not null default 0,
      last_error text,
      created_at timestamptz not null default now(),
      started_at timestamptz,
      completed_at timestamptz
    );
    create index jobs_due on jobs (run_after) where status in ('queued', 'running');
    create index jobs_subject on jobs (subject_id, kind);
  `.execute(db);
}
