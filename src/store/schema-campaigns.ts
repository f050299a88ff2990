import type { ColumnType, Selectable } from 'kysely';

/** Tables of lists, campaigns and background jobs (migration 0004). */
type Defaulted<T> = ColumnType<T, T | undefined, T>;
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
/** jsonb: written as a JSON string, read back parsed. */
type Json<T> = ColumnType<T, string | undefined, string>;

export type ColumnDataType = 'text' | 'number' | 'url' | 'date';
export type CampaignStatus = 'draft' | 'active' | 'paused' | 'completed';
export type LeadState = 'pending' | 'active' | 'replied' | 'completed' | 'cancelled' | 'failed' | 'excluded';
export type Schedule = Partial<Record<'0' | '1' | '2' | '3' | '4' | '5' | '6', { start: number; end: number }>>;
export type JobStatus = 'queued' | 'running' | 'completed' | 'failed' | 'canceled';

export interface ListsTable {
  id: string;
  team_id: string;
  name: string;
  description: string | null;
  system_type: 'contacted' | 'mutual' | null;
  created_at: Timestamp;
  updated_at: NullableTimestamp;
}

export interface ColumnsTable {
  id: string;
  name: string;
  type: ColumnDataType;
  description: string | null;
  created_at: Timestamp;
  updated_at: NullableTimestamp;
}

export interface ListColumnsTable extends ColumnsTable {
  list_id: string;
}

export interface CampaignColumnsTable extends ColumnsTable {
  campaign_id: string;
}

export interface ListLeadsTable {
  list_id: string;
  prospect_id: string;
  data: Json<Record<string, unknown>>;
  created_at: Timestamp;
  /** Drawn at insert: the order leads entered, within one created_at (migration 0030). */
  position: Defaulted<number>;
}

export interface CampaignsTable {
  id: string;
  team_id: string;
  name: string;
  description: string | null;
  status: Defaulted<CampaignStatus>;
  enabled: Defaulted<boolean>;
  messages_per_hour: Defaulted<number>;
  timezone: Defaulted<string>;
  schedule: Json<Schedule>;
  exclude_contacted: Defaulted<boolean>;
  exclude_mutuals: Defaulted<boolean>;
  sequence_version: Defaulted<number>;
  is_syncing: Defaulted<boolean>;
  is_rebalancing: Defaulted<boolean>;
  scope_assessed_count: Defaulted<number>;
  pause_reason: string | null;
  created_at: Timestamp;
  updated_at: NullableTimestamp;
  paused_at: NullableTimestamp;
  completed_at: NullableTimestamp;
  started_at: NullableTimestamp;
}

export interface CampaignAccountsTable {
  campaign_id: string;
  account_link_id: string;
  position: number;
}

export interface CampaignListRulesTable {
  campaign_id: string;
  list_id: string;
  kind: 'synced' | 'excluded';
  column_mapping: Json<Record<string, string>>;
}

export interface SequenceVersionsTable {
  campaign_id: string;
  version: number;
  steps: Json<unknown[]>;
  created_at: Timestamp;
}

export interface AutomationsTable {
  id: string;
  campaign_id: string;
  position: number;
  trigger: 'replied' | 'contacted' | 'completed';
  action: 'setStatus' | 'addTag' | 'assign';
  action_data: Json<Record<string, string>>;
  enabled: Defaulted<boolean>;
}

export interface CampaignLeadsTable {
  id: string;
  campaign_id: string;
  team_id: string;
  prospect_id: string;
  state: Defaulted<LeadState>;
  direct: Defaulted<boolean>;
  account_link_id: string | null;
  data: Json<Record<string, unknown>>;
  sequence_version: number | null;
  next_rank: Defaulted<number>;
  next_step_at: NullableTimestamp;
  contacted_at: NullableTimestamp;
  last_contact_at: NullableTimestamp;
  replied_at: NullableTimestamp;
  finished_at: NullableTimestamp;
  failure_reason: string | null;
  created_at: Timestamp;
  updated_at: NullableTimestamp;
  /** Drawn at insert: the order leads entered, within one created_at (migration 0030). */
  position: Defaulted<number>;
}

/** A campaign's lead counts, kept by triggers on campaign_leads (migration 0032; read them with store/lead-counts.ts). */
export interface CampaignLeadCountsTable {
  campaign_id: string;
  state_pending: number;
  state_active: number;
  state_replied: number;
  state_completed: number;
  state_cancelled: number;
  state_failed: number;
  state_excluded: number;
  /** leads with contacted_at set */
  contacted: number;
  /** leads with replied_at set */
  replied: number;
}

export interface CampaignLeadSourcesTable {
  campaign_id: string;
  prospect_id: string;
  list_id: string;
}

export interface JobsTable {
  id: string;
  team_id: string;
  kind: string;
  subject_id: string;
  status: Defaulted<JobStatus>;
  payload: Json<Record<string, unknown>>;
  run_after: Timestamp;
  locked_until: NullableTimestamp;
  attempts: Defaulted<number>;
  last_error: string | null;
  created_at: Timestamp;
  started_at: NullableTimestamp;
  completed_at: NullableTimestamp;
}

export interface CampaignTables {
  lists: ListsTable;
  list_columns: ListColumnsTable;
  list_leads: ListLeadsTable;
  campaigns: CampaignsTable;
  campaign_accounts: CampaignAccountsTable;
  campaign_list_rules: CampaignListRulesTable;
  campaign_columns: CampaignColumnsTable;
  sequence_versions: SequenceVersionsTable;
  automations: AutomationsTable;
  campaign_leads: CampaignLeadsTable;
  campaign_lead_sources: CampaignLeadSourcesTable;
  campaign_lead_counts: CampaignLeadCountsTable;
  /** this transaction's changes to campaign_lead_counts, applied at its commit */
  campaign_lead_count_changes: CampaignLeadCountsTable & { xact: ColumnType<string, never, never> };
  jobs: JobsTable;
}

export type ListRow = Selectable<ListsTable>;
export type CampaignRow = Selectable<CampaignsTable>;
export type CampaignLeadRow = Selectable<CampaignLeadsTable>;
export type JobRow = Selectable<JobsTable>;
