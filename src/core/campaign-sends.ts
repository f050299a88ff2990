import type { AccountLinkRow, ProspectRow } from '../store/schema.js';
import type { CampaignRow } from '../store/schema-campaigns.js';

/**
 * What an engine batch did, as the engine hands it to the inbox (engine/ports.ts `recordSends`, filled by
 * app/campaigns/outcomes.ts): the sends that went out and the ones the recipient refused.
 */

/**
 * What the engine reads of a prospect: whom to send to, and the profile its messages' variables come from. A
 * store may hand the engine more (the database its whole rows, which the inbox records the sends with); a
 * forecast's copy reads only these.
 */
export const ENGINE_PROSPECT_COLUMNS = ['id', 'platform_id', 'display_name', 'username', 'bio', 'location'] as const;
export type EngineProspect = Pick<ProspectRow, (typeof ENGINE_PROSPECT_COLUMNS)[number]>;

/** One send of a batch that went out, with the prospect as the engine's store gave it (`P`). */
export interface CampaignSend<P extends EngineProspect = ProspectRow> {
  campaign: CampaignRow;
  account: AccountLinkRow;
  prospect: P;
  step: { id: string; rank: number };
  at: Date;
  /** the message that went out (with the platform's id for it); null for a like */
  message: { platformId: string | null; content: string } | null;
  /** the engine's account of it: a lead's first message contacts it, later ones follow up */
  event: 'target.contacted' | 'target.followUpSent' | 'target.liked';
  /** the lead's first contact: the campaign's `contacted` automations run after its event */
  firstContact: boolean;
  /** the send finished the lead's sequence: the `completed` automations run after its event */
  completes: boolean;
}

/** A send of a batch the recipient refused (suspended, closed DMs): its lead failed with the platform's reason. */
export interface CampaignFailure<P extends EngineProspect = ProspectRow> {
  campaign: CampaignRow;
  account: AccountLinkRow;
  prospect: P;
  step: { id: string; rank: number };
  at: Date;
  reason: string;
}
