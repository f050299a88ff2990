import type { ColumnType, Selectable } from 'kysely';

/** Tables of the sending engine (migrations 0006, 0011, 0013, 0020). */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export type SendKind = 'message' | 'like';
export type IntentStatus = 'pending' | 'sent' | 'failed';

export interface SendIntentsTable {
  id: string;
  lead_id: string;
  step_id: string;
  sequence_version: number;
  account_link_id: string;
  /** the lead's campaign (migration 0011): with account_link_id and created_at, the account's send log */
  campaign_id: string;
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

export interface EngineTables {
  send_intents: SendIntentsTable;
}

export type SendIntentRow = Selectable<SendIntentsTable>;

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
