import type { Logger } from 'pino';
import type { CampaignFailure, CampaignSend } from '../core/campaign-sends.js';
import type { LifecycleAction } from '../core/campaign-lifecycle.js';
import type { Clock } from '../core/clock.js';
import type { PlatformRegistry } from '../platforms/platform.js';
import type { Db } from '../store/db.js';
import type { CampaignRow } from '../store/schema-campaigns.js';

/**
 * What the engine needs from outside itself. The engine plans, reserves, sends and moves leads; what its work
 * makes visible (messages, threads, events, automations) and the campaign lifecycle are use cases of src/app,
 * which knows nothing of the engine. The composition root (runtimes/engine.ts) wires the use cases in, and the
 * type checker holds them to these signatures there.
 */
export interface EnginePorts {
  /**
   * Records a batch's sends in the inbox (messages, threads) and announces each in send order: its thread.* and
   * message.* events, its target.* event, then the automations it triggers; the batch's refused sends
   * (`failures`, in time order) are announced as target.failed at their place among them. Calls `writeProgress`
   * (the batch's own writes) once it has read what it needs, so that those run while it builds the messages.
   * Resolves false when another transaction stored one of the sends' threads meanwhile: the engine then rolls the
   * batch's transaction back and records it again.
   */
  recordSends(trx: Db, sends: readonly CampaignSend[], failures: readonly CampaignFailure[], from: Date, writeProgress: () => Promise<unknown>): Promise<boolean>;
  /** Runs the campaign's enabled automations for `trigger` on one prospect (a lead completed outside a send). */
  runAutomations(trx: Db, campaign: Pick<CampaignRow, 'id' | 'team_id'>, prospectId: string, trigger: 'completed', now: Date): Promise<void>;
  /** The campaign lifecycle's applier: moves the (locked) campaign if its state machine allows it, with its events. */
  applyLifecycle(trx: Db, campaign: CampaignRow, action: LifecycleAction, at: Date, pauseReason: string | null): Promise<{ ok: boolean }>;
}

/** What the engine reaches: the store, the clock, a logger, the platforms and its ports. */
export interface EngineContext {
  db: Db;
  clock: Clock;
  logger: Logger;
  platforms: PlatformRegistry;
  ports: EnginePorts;
}
