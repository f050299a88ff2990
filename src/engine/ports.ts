import type { Logger } from 'pino';
import type { CampaignFailure, CampaignSend, EngineProspect } from '../core/campaign-sends.js';
import type { LifecycleAction } from '../core/campaign-lifecycle.js';
import type { Clock } from '../core/clock.js';
import type { AccountState } from '../core/send-plan.js';
import type { StoredStep } from '../core/sequence.js';
import type { PlatformRegistry } from '../platforms/platform.js';
import type { LeadChange } from '../store/campaign-leads.js';
import type { Db } from '../store/db.js';
import type { AccountLinkRow } from '../store/schema.js';
import type { CampaignLeadRow, CampaignRow } from '../store/schema-campaigns.js';
import type { CampaignIntentRow, SendIntentRow } from '../store/schema-engine.js';

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

/** A (campaign, account) pair: an active campaign's row with one of its senders. */
export type PairRow = CampaignRow & { account_link_id: string };

/**
 * The engine's store: every read and write of a pass, a batch and its record, one method a statement. Two
 * implementations: the database (engine/database-store.ts: the tables, with the use cases' EnginePorts for what
 * the work makes visible) and memory (engine/memory-store.ts: maps of a copied state, for a forecast). The engine's
 * decisions (what to plan, send, move, pause or complete) are all made above this interface, once for both.
 * Rows it answers are the engine's to read, never to change: a change goes back through a write. `P` is what it
 * answers of a prospect (the database its whole row), which the engine hands back unchanged in recordSends.
 */
export interface EngineStore<P extends EngineProspect = EngineProspect> {
  /** Runs `work` in one transaction (with its row locks); the database rolls it back when `work` throws. */
  transaction<T>(work: (tx: EngineStore<P>) => Promise<T>): Promise<T>;

  // Planning (engine/plan.ts)
  /** The active campaigns, by id: the ones whose leads get senders. */
  campaignsToPlan(): Promise<Array<Pick<CampaignRow, 'id' | 'sequence_version' | 'is_rebalancing'>>>;
  /** The campaign's accounts that can take leads (active), in the campaign's order. */
  activeAccounts(campaignId: string): Promise<string[]>;
  /** The distinct senders of a campaign's open (pending or active) leads, in id order. */
  sendersOfOpenLeads(campaignId: string): Promise<string[]>;
  /**
   * Locked, the campaign's leads that need a sender: pending ones with none, and open ones of the `departed`
   * senders; first come (created_at, prospect_id), at most `limit`.
   */
  leadsNeedingSender(campaignId: string, departed: readonly string[], limit: number): Promise<CampaignLeadRow[]>;
  setRebalancing(campaignId: string, rebalancing: boolean): Promise<void>;
  /** How many of the campaign's leads (in any state) each of `accountIds` has. */
  leadLoads(campaignId: string, accountIds: readonly string[]): Promise<Map<string, number>>;
  /** Active and paused campaigns whose sequence changed since the engine last moved their leads, by id. */
  editedCampaigns(): Promise<CampaignRow[]>;
  /** Locked, the campaign's active leads on another sequence version than `version` (or none), by prospect id, at most `limit`. */
  leadsOnOtherVersions(campaignId: string, version: number, limit: number): Promise<CampaignLeadRow[]>;
  setAppliedSequenceVersion(campaignId: string, version: number): Promise<void>;
  /**
   * The active campaigns and those paused for one of `enginePauses`, by id, with whether an account of theirs can
   * send at `now` (active and not held) and whether one is active at all.
   */
  campaignAvailability(now: Date, enginePauses: readonly string[]): Promise<Array<{ id: string; status: CampaignRow['status']; can_send: boolean; has_active: boolean }>>;
  /** Active campaigns with no list sync running and no lead pending or active, by id. */
  finishedCampaigns(): Promise<string[]>;
  hasOpenLeads(campaignId: string): Promise<boolean>;
  /** When the campaign's last lead finished, of those finished by `reached`. */
  lastFinish(campaignId: string, reached: Date): Promise<Date | null>;
  /** Locks the campaign and moves it through its lifecycle if the state machine allows it (with its events): whether it moved. */
  moveCampaign(campaignId: string, action: LifecycleAction, at: Date, pauseReason: string | null): Promise<boolean>;

  // A batch's reservation (engine/dispatch.ts)
  /**
   * Locked (skipping any another worker holds), in id order, the active accounts not held past `until` with due
   * work in (from .. until]: an unsettled intent, or an untaken open lead due by `until` in an active campaign
   * whose pace gate has opened by then. At most `limit` (null: all).
   */
  lockAccounts(from: Date, until: Date, limit: number | null): Promise<AccountLinkRow[]>;
  /** The active campaigns of these accounts whose pace gate has opened by `until`, by campaign id, one row a pair. */
  activePairs(accountIds: readonly string[], until: Date): Promise<PairRow[]>;
  /** The unsettled campaign intents of these accounts (pending, lease run out by `from`), oldest first. */
  findUnsettled(accountIds: readonly string[], from: Date): Promise<CampaignIntentRow[]>;
  /**
   * The heads of the pairs' queues: of each kind (follow-ups, first touches) the untaken open leads due by `until`,
   * soonest first (next_step_at, prospect_id), up to `perQueue` + 1 (the one more tells that more wait).
   */
  loadQueues(pairs: readonly PairRow[], perQueue: number, from: Date, until: Date): Promise<CampaignLeadRow[]>;
  leadsByIds(ids: readonly string[]): Promise<CampaignLeadRow[]>;
  campaignsByIds(ids: readonly string[]): Promise<CampaignRow[]>;
  /** The steps of each (campaign, version) asked for, keyed `campaignId:version`. */
  stepsByVersion(keys: ReadonlyArray<{ campaignId: string; version: number }>): Promise<Map<string, StoredStep[]>>;
  /** The accounts' campaign sends since `since`, oldest first (the send log: store/send-intents.ts, invariant 4). */
  sendLogsOf(accountIds: readonly string[], since: Date): Promise<Map<string, AccountState['sends']>>;
  prospectsByIds(ids: readonly string[]): Promise<P[]>;
  /** Reserves sends: their intents, pending and leased, each also its slot in its account's send log. */
  reserve(intents: readonly CampaignIntentRow[]): Promise<void>;
  /** Leases unsettled intents again until `until`, for the batch that reconciles them. */
  renew(intents: readonly SendIntentRow[], until: Date): Promise<void>;
  /** Writes leads' state columns (the lead applier's changes, store/campaign-leads.ts). */
  writeLeadChanges(changes: readonly LeadChange[]): Promise<void>;
  /** Sets the pairs' pace gates: no send of the campaign from the account before `at`. */
  setPaceGates(gates: ReadonlyArray<{ campaignId: string; accountId: string; at: Date }>): Promise<void>;
  /** Of these leads, those still pending or active in an active campaign. */
  stillWanted(leadIds: readonly string[]): Promise<Set<string>>;

  // A batch's record (engine/record.ts)
  /** These leads, locked. */
  lockLeads(ids: readonly string[]): Promise<CampaignLeadRow[]>;
  markSent(sent: ReadonlyArray<{ intent: Pick<SendIntentRow, 'id' | 'created_at'>; platformMessageId: string | null }>): Promise<void>;
  markFailed(intent: SendIntentRow): Promise<void>;
  release(intent: Pick<SendIntentRow, 'id'>): Promise<void>;
  /** Of these leads, those that have had a message sent. */
  messagedLeads(leadIds: readonly string[]): Promise<Set<string>>;
  markAccountOffline(accountId: string, at: Date): Promise<void>;
  holdAccount(accountId: string, until: Date): Promise<void>;
  /** The pair's pace no longer matches what went out: no gate until the next plan works it out from the send log. */
  clearPaceGate(campaignId: string, accountId: string): Promise<void>;
  /** What the batch's sends make visible (EnginePorts.recordSends), with the batch's own writes in `writeProgress`; false: record again. */
  recordSends(sends: readonly CampaignSend<P>[], failures: readonly CampaignFailure<P>[], from: Date, writeProgress: () => Promise<unknown>): Promise<boolean>;
  /** The campaign's `completed` automations for a lead that completed outside a send (EnginePorts.runAutomations). */
  runAutomations(campaign: Pick<CampaignRow, 'id' | 'team_id'>, prospectId: string, trigger: 'completed', now: Date): Promise<void>;

  // Virtual time (engine/dispatcher.ts)
  /** When the next hold on an account of an active or paused campaign runs out after `now`. */
  nextHoldExpiry(now: Date): Promise<Date | null>;
  /** The next instant after `now` at which the engine may have something to do, or null when nothing waits. */
  nextInstant(now: Date): Promise<Date | null>;
}

/** What the engine reaches: its store, the clock, a logger and the platforms. */
export interface EngineContext<P extends EngineProspect = EngineProspect> {
  store: EngineStore<P>;
  clock: Clock;
  logger: Logger;
  platforms: PlatformRegistry;
}
