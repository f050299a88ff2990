/**
 * The campaign state machine (spec 6.1):
 *
 *   draft --enable--> active --disable--> paused --enable--> active
 *   active --complete--> completed (terminal)
 *
 * Enabling a draft starts it (campaign.started); enabling a paused campaign resumes it (campaign.started and
 * campaign.resumed, as the event catalog says). Disabling pauses an active campaign (campaign.paused), whether
 * a user or the system asks. Completing happens when every lead has finished. A campaign may be deleted in any
 * state but active, so nothing is deleted while it may be sending.
 */

import type { CampaignRow } from '../store/schema-campaigns.js';

export type CampaignStatus = 'draft' | 'active' | 'paused' | 'completed';
export type LifecycleAction = 'enable' | 'disable' | 'complete';
export type LifecycleEvent = 'campaign.started' | 'campaign.resumed' | 'campaign.paused' | 'campaign.completed';

export type Transition =
  | { allowed: true; to: CampaignStatus; events: LifecycleEvent[] }
  | { allowed: false; reason: string };

const refuse = (reason: string): Transition => ({ allowed: false, reason });

export function transition(from: CampaignStatus, action: LifecycleAction): Transition {
  if (from === 'completed') return refuse(`the campaign is completed and cannot be changed (${action})`);
  switch (action) {
    case 'enable':
      if (from === 'draft') return { allowed: true, to: 'active', events: ['campaign.started'] };
      if (from === 'paused') return { allowed: true, to: 'active', events: ['campaign.started', 'campaign.resumed'] };
      return refuse('the campaign is already active');
    case 'disable':
      if (from === 'active') return { allowed: true, to: 'paused', events: ['campaign.paused'] };
      return refuse(`only an active campaign can be paused; this one is ${from}`);
    case 'complete':
      if (from === 'active') return { allowed: true, to: 'completed', events: ['campaign.completed'] };
      return refuse(`only an active campaign can complete; this one is ${from}`);
  }
}

/** The columns a transition sets besides the status, at `at`; a pause records why (a person, or the engine's reason). */
export function lifecycleColumns(
  action: LifecycleAction,
  at: Date,
  pauseReason: string | null,
): Partial<Pick<CampaignRow, 'enabled' | 'started_at' | 'paused_at' | 'completed_at' | 'pause_reason'>> {
  switch (action) {
    case 'enable':
      return { enabled: true, started_at: at, pause_reason: null };
    case 'disable':
      return { enabled: false, paused_at: at, pause_reason: pauseReason };
    case 'complete':
      return { enabled: false, completed_at: at };
  }
}

/** Why a campaign in this state may not be deleted, or null when it may. */
export const deleteRefusal = (status: CampaignStatus): string | null =>
  status === 'active' ? 'an active campaign cannot be deleted: disable it first' : null;
