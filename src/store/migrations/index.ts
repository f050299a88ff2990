import type { Migration, MigrationProvider } from 'kysely';
import * as teams from './0001_teams.js';
import * as crm from './0002_crm.js';
import * as webhooks from './0003_webhooks.js';
import * as campaigns from './0004_campaigns.js';
import * as lists from './0005_lists.js';
import * as engine from './0006_engine.js';
import * as xPlatform from './0007_x_platform.js';
import * as sendBatches from './0008_send_batches.js';
import * as eventCompression from './0009_event_compression.js';
import * as eventJson from './0010_event_json.js';
import * as intentsAsSendLog from './0011_intents_as_send_log.js';
import * as eventProspects from './0012_event_prospects.js';
import * as intentLease from './0013_intent_lease.js';
import * as teamKeys from './0014_team_keys.js';
import * as eventGroups from './0015_event_groups.js';
import * as sessions from './0016_sessions.js';
import * as threadReads from './0017_thread_reads.js';
import * as streamLeases from './0018_stream_leases.js';
import * as webhookHealth from './0019_webhook_health.js';
import * as variationPicks from './0020_variation_picks.js';
import * as prospectTable from './0022_prospect_table.js';
import * as profiles from './0023_profiles.js';
import * as sendKeys from './0024_send_keys.js';
import * as messageAttachments from './0026_message_attachments.js';
import * as typingSignals from './0027_typing_signals.js';
import * as webhookPayloadVersion from './0028_webhook_payload_version.js';
import * as leadOrder from './0030_lead_order.js';
import * as followUpsFirst from './0031_follow_ups_first.js';
import * as leadCounts from './0032_lead_counts.js';
import * as webhookFanOut from './0033_webhook_fan_out.js';
import * as sendKeyMedia from './0034_send_key_media.js';

/** Migrations are compiled into the program (no directory scanning), in this order. */
export const migrationProvider: MigrationProvider = {
  async getMigrations(): Promise<Record<string, Migration>> {
    return {
      '0001_teams': teams,
      '0002_crm': crm,
      '0003_webhooks': webhooks,
      '0004_campaigns': campaigns,
      '0005_lists': lists,
      '0006_engine': engine,
      '0007_x_platform': xPlatform,
      '0008_send_batches': sendBatches,
      '0009_event_compression': eventCompression,
      '0010_event_json': eventJson,
      '0011_intents_as_send_log': intentsAsSendLog,
      '0012_event_prospects': eventProspects,
      '0013_intent_lease': intentLease,
      '0014_team_keys': teamKeys,
      '0015_event_groups': eventGroups,
      '0016_sessions': sessions,
      '0017_thread_reads': threadReads,
      '0018_stream_leases': streamLeases,
      '0019_webhook_health': webhookHealth,
      '0020_variation_picks': variationPicks,
      '0022_prospect_table': prospectTable,
      '0023_profiles': profiles,
      '0024_send_keys': sendKeys,
      '0026_message_attachments': messageAttachments,
      '0027_typing_signals': typingSignals,
      '0028_webhook_payload_version': webhookPayloadVersion,
      '0030_lead_order': leadOrder,
      '0031_follow_ups_first': followUpsFirst,
      '0032_lead_counts': leadCounts,
      '0033_webhook_fan_out': webhookFanOut,
      '0034_send_key_media': sendKeyMedia,
    };
  },
};
