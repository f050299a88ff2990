import type { ColumnType, Selectable } from 'kysely';
import type { MediaAttachment } from '../core/attachments.js';

/** Tables of the send-intent protocol (store/send-intents.ts): migrations 0006, 0011, 0013, 0020, 0024, 0034. */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export type SendKind = 'message' | 'like';
export type IntentStatus = 'pending' | 'sent' | 'failed';

export interface SendIntentsTable {
  id: string;
  /** a campaign's send is a lead's step; an API send (migration 0024) has no lead, step, version or campaign */
  lead_id: string | null;
  step_id: string | null;
  sequence_version: number | null;
  account_link_id: string;
  /** the lead's campaign (migration 0011): with account_link_id and created_at, the account's send log */
  campaign_id: string | null;
  kind: SendKind;
  content: string | null;
  status: ColumnType<IntentStatus, IntentStatus | undefined, IntentStatus>;
  platform_message_id: string | null;
  created_at: Timestamp;
  completed_at: NullableTimestamp;
  /** while pending: until when the worker that reserved it has it (migration 0013); its lead is taken meanwhile */
  claimed_until: Timestamp;
  /** for a message: the option index each variation segment took, in segment order (migration 0020) */
  variation_picks: ColumnType<number[] | null, string | null | undefined, string | null>;
}

/**
 * An API send's idempotency key, scoped per team (migration 0024): what the send was first asked with, its intent
 * (released, the intent takes the key with it), and what recording its message takes when a retry reconciles it.
 */
export interface SendKeysTable {
  team_id: string;
  key: string;
  /** the hash of the request body (canonical JSON) the key was first given with */
  request_hash: string;
  intent_id: string;
  /** the id the message is recorded with (or the one already recorded under its platform id) */
  message_id: string;
  user_id: string | null;
  recipient_platform_id: string;
  /** whom the message is recorded with, as JSON its use case (app/sends.ts) writes and reads */
  recipient: ColumnType<unknown, string, string>;
  reply_to_message_id: string | null;
  /** the media the message is recorded with (migration 0034) */
  attachments: ColumnType<MediaAttachment[], string | undefined, string>;
  /** the request that made the platform call ended without its answer: the send is unconfirmed, not in progress */
  outcome_unknown: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: Timestamp;
}

export interface EngineTables {
  send_intents: SendIntentsTable;
  send_keys: SendKeysTable;
}

export type SendIntentRow = Selectable<SendIntentsTable>;
/** A campaign's send intent, the engine's: a lead's step. */
export type CampaignIntentRow = SendIntentRow & { lead_id: string; step_id: string; sequence_version: number; campaign_id: string };
export type SendKeyRow = Selectable<SendKeysTable>;

// Columns migration 0006 adds to earlier tables, declared here beside the migration that adds them.
declare module './schema-campaigns.js' {
  interface CampaignAccountsTable {
    next_send_at: NullableTimestamp;
  }
  interface CampaignsTable {
    applied_sequence_version: ColumnType<number, number | undefined, number>;
  }
}
declare module './schema.js' {
  interface AccountLinksTable {
    held_until: NullableTimestamp;
  }
}
