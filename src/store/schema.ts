import type { ColumnType, Generated, Insertable, Kysely, Selectable, Updateable } from 'kysely';
import type { MessageAttachment } from '../core/attachments.js';
import type { StoredGroup } from '../core/event-groups.js';
import type { CampaignTables } from './schema-campaigns.js';
import type { EngineTables } from './schema-engine.js';
import type { ListTables } from './schema-lists.js';
import type { XTables } from './schema-x.js';

/** Columns the database fills in on insert. */
type Defaulted<T> = ColumnType<T, T | undefined, T>;
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
/** jsonb (and json, as events.data is): written as a JSON string, read back parsed. */
type Json<T> = ColumnType<T, string, string>;

export type Platform = 'twitter' | 'sandbox';
export type MemberRole = 'owner' | 'admin' | 'user';
export type AccountLinkStatus = 'active' | 'offline' | 'paused';
export type MessageOrigin = 'internal' | 'external' | 'api';

export interface TeamsTable {
  id: string;
  name: string;
  slug: string;
  image: string | null;
  currency: Defaulted<string>;
  allow_support_access: Defaulted<boolean>;
  created_at: Timestamp;
  updated_at: NullableTimestamp;
}

export interface UsersTable {
  id: string;
  email: string;
  name: string | null;
  image: string | null;
  /** `scrypt$N$r$p$salt$hash` (src/app/team/passwords.ts); null until the user sets a password */
  password_hash: Defaulted<string | null>;
  created_at: Timestamp;
  updated_at: NullableTimestamp;
}

export interface MembersTable {
  id: string;
  team_id: string;
  user_id: string;
  role: MemberRole;
  created_at: Timestamp;
  updated_at: NullableTimestamp;
}

export interface ApiTokensTable {
  id: string;
  team_id: string;
  member_id: string;
  name: string;
  token_hash: string;
  token_hint: string;
  created_at: Timestamp;
  last_used_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
}

export interface SessionsTable {
  /** sha256 of the cookie's secret */
  id: string;
  team_id: string;
  member_id: string;
  created_at: Timestamp;
  last_seen_at: Timestamp;
  expires_at: Timestamp;
}

/** One open event stream, counted against its team's cap until released or expired. */
export interface EventStreamLeasesTable {
  id: string;
  team_id: string;
  expires_at: Timestamp;
}

export type InviteKind = 'invite' | 'password';

export interface InvitesTable {
  id: string;
  team_id: string;
  email: string;
  role: MemberRole;
  kind: InviteKind;
  secret_hash: string;
  created_by: string | null;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: NullableTimestamp;
}

export interface LabelsTable {
  id: string;
  team_id: string;
  name: string;
  color: string | null;
  created_at: Timestamp;
  updated_at: NullableTimestamp;
}

export interface RateLimitBucketsTable {
  team_id: string;
  window_seconds: number;
  bucket: number;
  hits: number;
}

export interface SandboxProfilesTable {
  platform_id: string;
  username: string | null;
  display_name: string | null;
  bio: string | null;
  location: string | null;
  follower_count: number | null;
  is_protected: boolean | null;
  account_status: 'active' | 'suspended' | 'deactivated' | null;
  dms_open: boolean | null;
  updated_at: Timestamp;
}

export interface SandboxDmEventsTable {
  id: string;
  sender_id: string;
  recipient_id: string;
  text: string;
  created_at: Timestamp;
}

export interface SandboxLikesTable {
  user_id: string;
  post_id: string;
  created_at: Timestamp;
}

export interface AccountLinksTable {
  id: string;
  team_id: string;
  platform: Platform;
  platform_id: string;
  name: string;
  username: string;
  image: string;
  status: Defaulted<AccountLinkStatus>;
  synced_at: NullableTimestamp;
  hourly_limit: Defaulted<number>;
  daily_limit: Defaulted<number>;
  created_at: Timestamp;
  updated_at: NullableTimestamp;
}

export interface ProspectsTable {
  id: string;
  team_id: string;
  platform: Platform;
  platform_id: string;
  username: string;
  display_name: string;
  image: string | null;
  bio: string | null;
  location: string | null;
  website_url: string | null;
  verified: Defaulted<'none' | 'verified' | 'business' | 'government'>;
  profile_type: Defaulted<'personal' | 'business' | 'government'>;
  is_protected: Defaulted<boolean>;
  follower_count: Defaulted<number>;
  following_count: Defaulted<number>;
  post_count: Defaulted<number>;
  listed_count: number | null;
  account_status: Defaulted<string>;
  dms_open: Defaulted<boolean>;
  platform_created_at: NullableTimestamp;
  last_enriched_at: NullableTimestamp;
  status_id: string | null;
  valuation: number | null;
  notes: string | null;
  assignee_id: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/**
 * One person's account on one platform, grouped under a contact (a prospect row, which holds the CRM fields).
 * Migration 0023: every prospect has the profile of its own platform identity, added by a trigger on insert.
 */
export interface ProfilesTable {
  id: string;
  team_id: string;
  contact_id: string;
  platform: Platform;
  platform_id: string;
  created_at: Timestamp;
}

export interface ProspectTagsTable {
  prospect_id: string;
  tag_id: string;
  created_at: Timestamp;
}

export interface ThreadsTable {
  id: string;
  team_id: string;
  account_link_id: string;
  prospect_id: string;
  platform: Platform;
  platform_id: string;
  done: Defaulted<boolean>;
  assignee_id: string | null;
  status: Defaulted<'active' | 'idle'>;
  variant: Defaulted<'unencrypted' | 'xChat'>;
  is_request: Defaulted<boolean>;
  is_syncing: Defaulted<boolean>;
  typing_indicators_enabled: boolean | null;
  has_outbound: Defaulted<boolean>;
  has_inbound: Defaulted<boolean>;
  /** a message from the prospect arrived after a member last read the thread */
  unread: Defaulted<boolean>;
  last_message_id: string | null;
  last_message_at: NullableTimestamp;
  last_message_outbound: boolean | null;
  /** last message time, or creation time while there is none (the API's computedSortTimestamp) */
  sort_at: Timestamp;
  created_at: Timestamp;
  deleted_at: NullableTimestamp;
}

export interface Reaction {
  emoji: string;
  senderPlatformId: string;
  createdAt: string;
}

export interface MessagesTable {
  id: string;
  team_id: string;
  thread_id: string;
  platform: Platform;
  platform_id: string | null;
  outbound: boolean;
  author_id: string;
  user_id: string | null;
  campaign_id: string | null;
  campaign_step_id: string | null;
  content: string;
  origin: MessageOrigin | null;
  reply_to_message_id: string | null;
  is_encrypted: boolean | null;
  reactions: ColumnType<Reaction[], string | undefined, string>;
  /** how many times the reactions changed */
  reactions_version: Defaulted<number>;
  /** media and at most one link card, an attachment's index its position (migration 0026) */
  attachments: ColumnType<MessageAttachment[], string | undefined, string>;
  created_at: Timestamp;
  updated_at: NullableTimestamp;
  is_edited: Defaulted<boolean>;
  deleted_at: NullableTimestamp;
  deletion_type: 'self' | 'all' | null;
  deletion_origin: MessageOrigin | null;
  platform_deleted_at: NullableTimestamp;
}

/** When a typing indicator last went out in a thread (migration 0027). */
export interface ThreadTypingTable {
  thread_id: string;
  sent_at: Timestamp;
}

export interface MessageVersionsTable {
  id: string;
  message_id: string;
  content: string;
  edit_origin: MessageOrigin | null;
  created_at: Timestamp;
}

export interface EventCountersTable {
  team_id: string;
  last_seq: number;
}

/** Events that one change emitted together, as src/core/event-groups.ts stores them (migration 0015). */
export interface EventGroupsTable {
  id: string;
  team_id: string;
  first_seq: number;
  last_seq: number;
  /** the newest of its events' times: the group is pruned with the last of them */
  created_at: Timestamp;
  data: Json<StoredGroup>;
}

export interface WebhooksTable {
  id: string;
  team_id: string;
  url: string;
  description: string | null;
  event_types: Json<string[]>;
  enabled: Defaulted<boolean>;
  /** sealed with INBOX_SECRET_KEY (core/secret-box, "v1.…"), or in clear ("whsec_…") on a server without one */
  secret: string;
  created_at: Timestamp;
  updated_at: NullableTimestamp;
  /** the first failed attempt since the last delivered one; null while the endpoint delivers */
  failing_since: NullableTimestamp;
  /** set when the dispatcher switched the webhook off after failing for days, with why */
  disabled_at: NullableTimestamp;
  disabled_reason: string | null;
  /** the payloads it takes: '1' v1's envelope (Standard Webhooks signing), '2' v2's (X-Inbox-Signature) */
  payload_version: Defaulted<'1' | '2'>;
  /** the team's seq up to which the dispatcher has queued its deliveries (migration 0033; app/events/webhook-fan-out.ts) */
  fanned_out_seq: Defaulted<number>;
}

export interface WebhookDeliveriesTable {
  id: string;
  webhook_id: string;
  team_id: string;
  group_id: string;
  event_id: string;
  event_seq: number;
  /** the type as delivered: v1's, or v2's for an endpoint of payload version '2' */
  event_type: string;
  status: Defaulted<'pending' | 'delivered' | 'failed'>;
  attempts: Defaulted<number>;
  next_attempt_at: Timestamp;
  first_attempt_at: NullableTimestamp;
  last_attempt_at: NullableTimestamp;
  last_status_code: number | null;
  last_error: string | null;
  created_at: Timestamp;
  completed_at: NullableTimestamp;
}

/**
 * The store as every query sees it. Declared with the tables (types only), so that the modules db.ts itself
 * loads (the migrations, the bulk writer, the notifications) can name it without importing db.ts back.
 */
export type Db = Kysely<Database>;

export interface Database extends CampaignTables, ListTables, EngineTables, XTables {
  teams: TeamsTable;
  users: UsersTable;
  members: MembersTable;
  api_tokens: ApiTokensTable;
  sessions: SessionsTable;
  invites: InvitesTable;
  event_stream_leases: EventStreamLeasesTable;
  tags: LabelsTable;
  statuses: LabelsTable;
  rate_limit_buckets: RateLimitBucketsTable;
  sandbox_profiles: SandboxProfilesTable;
  sandbox_dm_events: SandboxDmEventsTable;
  sandbox_likes: SandboxLikesTable;
  account_links: AccountLinksTable;
  prospects: ProspectsTable;
  prospect_tags: ProspectTagsTable;
  profiles: ProfilesTable;
  threads: ThreadsTable;
  messages: MessagesTable;
  message_versions: MessageVersionsTable;
  thread_typing: ThreadTypingTable;
  event_counters: EventCountersTable;
  event_groups: EventGroupsTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
}

export type TeamRow = Selectable<TeamsTable>;
export type MemberRow = Selectable<MembersTable>;
export type UserRow = Selectable<UsersTable>;
export type LabelRow = Selectable<LabelsTable>;
export type AccountLinkRow = Selectable<AccountLinksTable>;
export type ProspectRow = Selectable<ProspectsTable>;
export type ProfileRow = Selectable<ProfilesTable>;
export type ThreadRow = Selectable<ThreadsTable>;
export type MessageRow = Selectable<MessagesTable>;
export type NewMessage = Insertable<MessagesTable>;
export type ThreadUpdate = Updateable<ThreadsTable>;
export type WebhookRow = Selectable<WebhooksTable>;
