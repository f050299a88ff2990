import type { ColumnType, Selectable } from 'kysely';

/** Tables of the X platform (migration 0007). Secrets are stored sealed (core/secret-box), never in clear. */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export interface XCredentialsTable {
  account_link_id: string;
  access_token_sealed: string;
  refresh_token_sealed: string | null;
  expires_at: Timestamp;
  scopes: string;
  /** a refresh in progress: the refresher's token and when its claim lapses (a crashed refresher) */
  refresh_lease_id: string | null;
  refresh_lease_until: NullableTimestamp;
  updated_at: Timestamp;
}

export interface XOauthStatesTable {
  /** sha256 of the state, so a leaked table cannot complete anyone's authorization */
  state_hash: string;
  code_verifier_sealed: string;
  team_id: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: NullableTimestamp;
}

export interface XPollCursorsTable {
  account_link_id: string;
  /** the newest DM event id ingested (X ids grow with time) */
  newest_event_id: string | null;
  /** when the account is next due for a poll; a claim moves it forward, which also leases the account */
  next_poll_at: Timestamp;
}

export interface XRateLimitsTable {
  account_link_id: string;
  /** the endpoint family (dm_send, dm_read, ...) or 'day' for the user's 24-hour allowance */
  bucket: string;
  remaining: number;
  reset_at: Timestamp;
}

export interface XTables {
  x_credentials: XCredentialsTable;
  x_oauth_states: XOauthStatesTable;
  x_poll_cursors: XPollCursorsTable;
  x_rate_limits: XRateLimitsTable;
}

export type XCredentialsRow = Selectable<XCredentialsTable>;
