import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- OAuth 2.0 user tokens of a linked X account, sealed with INBOX_SECRET_KEY. One refresh at a time: a
    -- refresher leases the row (refresh tokens rotate, so two refreshes would sign the account out).
    create table x_credentials (
      account_link_id text primary key references account_links(id) on delete cascade,
      access_token_sealed text not null,
      refresh_token_sealed text,
      expires_at timestamptz not null,
      scopes text not null,
      refresh_lease_id text,
      refresh_lease_until timestamptz,
      updated_at timestamptz not null
    );

    -- Authorizations in flight: short-lived and single use; the state names the team, since the
    -- browser's return to the callback carries no API token.
    create table x_oauth_states (
      state_hash text primary key,
      code_verifier_sealed text not null,
      team_id text not null references teams(id) on delete cascade,
      created_at timestamptz not null,
      expires_at timestamptz not null,
      used_at timestamptz
    );
    create index x_oauth_states_expiry on x_oauth_states (expires_at);

    -- DM polling: per account, where the event stream was read up to and when to read it next.
    create table x_poll_cursors (
      account_link_id text primary key references account_links(id) on delete cascade,
      newest_event_id text,
      next_poll_at timestamptz not null
    );

    -- X's rate limit headers as last seen, per account and endpoint family: an exhausted window holds
    -- calls until its reset instead of spending requests on certain 429s.
    create table x_rate_limits (
      account_link_id text not null references account_links(id) on delete cascade,
      bucket text not null,
      remaining integer not null,
      reset_at timestamptz not null,
      primary key (account_link_id, bucket)
    );
  `.execute(db);
}
