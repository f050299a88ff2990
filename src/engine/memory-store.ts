import type { Selectable } from 'kysely';
import { lifecycleColumns, transition, type LifecycleAction } from '../core/campaign-lifecycle.js';
import { isRunning } from '../core/lead-lifecycle.js';
import type { AccountState } from '../core/send-plan.js';
import type { StoredStep } from '../core/sequence.js';
import type { LeadChange } from '../store/campaign-leads.js';
import type { EngineProspect } from '../core/campaign-sends.js';
import type { AccountLinkRow } from '../store/schema.js';
import type { CampaignAccountsTable, CampaignLeadRow, CampaignRow } from '../store/schema-campaigns.js';
import type { CampaignIntentRow, SendIntentRow } from '../store/schema-engine.js';
import type { EngineStore, PairRow } from './ports.js';

/**
 * The engine's store in memory: the rows a forecast copies (EngineState), in maps indexed the way
 * the engine's statements read them, so the same engine code runs on it as on the database and makes the same
 * decisions, in a fraction of the time. Each method answers what its statement answers on the database
 * (database-store.ts), in the same order where the order is defined; ids compare as the database's "C" collation
 * does (code unit order, which every collation shares for the [0-9a-z] ids of the store).
 *
 * One engine on it, in one process: a transaction runs its work at once (there is no other writer to lock out),
 * and nothing is rolled back when the work throws, so a store whose run failed is thrown away. It keeps no inbox:
 * what sends make visible (messages, threads, events) and the automations they trigger (a prospect's status,
 * tags and assignee, which the engine never reads) have nowhere to go, as in a forecast, which records only the
 * leads' progress and the send log.
 *
 * It takes the state's rows as its own, and a write changes a lead or an intent in place, rows it answered before
 * included: unlike the database's, its answers are live, not snapshots. The engine reads what it needs of a row
 * before it writes the row's change (the test comparing both stores holds it to that); replacing each changed row
 * with a copy instead made the garbage collector a fifth of a 100,000-lead forecast.
 */

type CampaignAccountRow = Selectable<CampaignAccountsTable>;

/** The rows of the engine's tables a memory store starts from: what the engine reads of one run's campaigns. */
export interface EngineState {
  campaigns: CampaignRow[];
  sequenceVersions: Array<{ campaign_id: string; version: number; steps: unknown }>;
  campaignAccounts: CampaignAccountRow[];
  accounts: AccountLinkRow[];
  leads: CampaignLeadRow[];
  /** what the engine reads of the leads' prospects */
  prospects: EngineProspect[];
  /** the campaign intents the accounts' send logs need (a day's) and any still pending */
  intents: CampaignIntentRow[];
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const ms = (at: Date | null) => (at === null ? null : at.getTime());
/** The order of a queue: soonest due first, then by prospect (unique in a campaign, so the order is total). */
const byDue = (a: CampaignLeadRow, b: CampaignLeadRow) => a.next_step_at!.getTime() - b.next_step_at!.getTime() || byText(a.prospect_id, b.prospect_id);
/** First come, first served: by entry, then by prospect. */
const byEntry = (a: CampaignLeadRow, b: CampaignLeadRow) => a.created_at.getTime() - b.created_at.getTime() || byText(a.prospect_id, b.prospect_id);

/**
 * The `k` smallest of `items` (an array of the caller's, reordered) in order: a selection, then a sort of the `k`,
 * so a batch that takes a thousand leads of a queue of a hundred thousand does not sort them all.
 */
export function smallest<T>(items: T[], k: number, compare: (a: T, b: T) => number): T[] {
  if (items.length > k) {
    const target = k - 1;
    let lo = 0;
    let hi = items.length - 1;
    while (lo < hi) {
      const pivot = items[(lo + hi) >>> 1]!;
      let i = lo;
      let j = hi;
      while (i <= j) {
        while (compare(items[i]!, pivot) < 0) i++;
        while (compare(items[j]!, pivot) > 0) j--;
        if (i <= j) {
          const swap = items[i]!;
          items[i++] = items[j]!;
          items[j--] = swap;
        }
      }
      if (target <= j) hi = j;
      else if (target >= i) lo = i;
      else break;
    }
    items.length = Math.max(0, k);
  }
  return items.sort(compare);
}

/**
 * One slot of an account's send log, as the planner reads it: each batch reads the whole log from a day back, a
 * forecast's future sends included, so the slots are made once, not once a batch.
 */
interface Slot {
  intentId: string;
  campaignId: string;
  at: Date;
  /** `at` in epoch ms */
  time: number;
}

export class MemoryEngineStore implements EngineStore {
  readonly #campaigns = new Map<string, CampaignRow>();
  /** by `campaignId:version` */
  readonly #steps = new Map<string, StoredStep[]>();
  /** each campaign's senders, in the campaign's order */
  readonly #sendersOf = new Map<string, CampaignAccountRow[]>();
  /** each account's campaigns */
  readonly #campaignsOf = new Map<string, CampaignAccountRow[]>();
  readonly #accounts = new Map<string, AccountLinkRow>();
  readonly #accountIds: string[];
  readonly #leads = new Map<string, CampaignLeadRow>();
  /** each campaign's leads, every state */
  readonly #leadsOf = new Map<string, Set<string>>();
  /** each campaign's open leads by sender (null: none yet), by id */
  readonly #open = new Map<string, Map<string | null, Map<string, CampaignLeadRow>>>();
  /** each campaign's leads, every state, counted by sender */
  readonly #loads = new Map<string, Map<string, number>>();
  readonly #prospects = new Map<string, EngineProspect>();
  readonly #intents = new Map<string, CampaignIntentRow>();
  /** each account's send log, by time (slots of equal time in the order they were reserved) */
  readonly #logs = new Map<string, Slot[]>();
  /** the pending intents, and how many each lead has (a lead with one is taken) */
  readonly #pending = new Map<string, CampaignIntentRow>();
  readonly #pendingOfLead = new Map<string, number>();
  /** leads a message was sent to */
  readonly #messaged = new Set<string>();

  constructor(state: Readonly<EngineState>) {
    for (const c of state.campaigns) {
      this.#campaigns.set(c.id, c);
      this.#leadsOf.set(c.id, new Set());
      this.#open.set(c.id, new Map());
      this.#loads.set(c.id, new Map());
      this.#sendersOf.set(c.id, []);
    }
    for (const v of state.sequenceVersions) this.#steps.set(`${v.campaign_id}:${v.version}`, v.steps as StoredStep[]);
    for (const a of state.accounts) {
      this.#accounts.set(a.id, a);
      this.#campaignsOf.set(a.id, []);
      this.#logs.set(a.id, []);
    }
    this.#accountIds = [...this.#accounts.keys()].sort(byText);
    for (const ca of state.campaignAccounts) {
      const pair = { ...ca };
      this.#sendersOf.get(ca.campaign_id)?.push(pair);
      this.#campaignsOf.get(ca.account_link_id)?.push(pair);
    }
    for (const senders of this.#sendersOf.values()) senders.sort((a, b) => a.position - b.position);
    for (const p of state.prospects) this.#prospects.set(p.id, p);
    for (const lead of state.leads) {
      this.#leads.set(lead.id, lead);
      this.#leadsOf.get(lead.campaign_id)!.add(lead.id);
      this.#index(lead, +1);
    }
    for (const intent of state.intents) this.#add(intent);
  }

  /** Every campaign intent the store holds, as the send_intents rows would be. */
  intents(): CampaignIntentRow[] {
    return [...this.#intents.values()];
  }

  campaign(id: string): CampaignRow | undefined {
    return this.#campaigns.get(id);
  }

  lead(id: string): CampaignLeadRow | undefined {
    return this.#leads.get(id);
  }

  transaction<T>(work: (tx: EngineStore) => Promise<T>): Promise<T> {
    return work(this);
  }

  // Planning

  async campaignsToPlan() {
    return this.#campaignRows((c) => c.status === 'active').map(({ id, sequence_version, is_rebalancing }) => ({ id, sequence_version, is_rebalancing }));
  }

  async activeAccounts(campaignId: string) {
    return this.#senders(campaignId).flatMap((ca) => (this.#accounts.get(ca.account_link_id)?.status === 'active' ? [ca.account_link_id] : []));
  }

  async sendersOfOpenLeads(campaignId: string) {
    const open = this.#open.get(campaignId) ?? new Map<string | null, Map<string, CampaignLeadRow>>();
    return [...open].flatMap(([account, leads]) => (account !== null && leads.size > 0 ? [account] : [])).sort(byText);
  }

  async leadsNeedingSender(campaignId: string, departed: readonly string[], limit: number) {
    const open = this.#open.get(campaignId);
    if (!open) return [];
    const candidates = [...openOf(open.get(null)).filter((l) => l.state === 'pending'), ...departed.flatMap((account) => openOf(open.get(account)))];
    return smallest(candidates, limit, byEntry);
  }

  async setRebalancing(campaignId: string, rebalancing: boolean) {
    this.#updateCampaign(campaignId, { is_rebalancing: rebalancing });
  }

  async leadLoads(campaignId: string, accountIds: readonly string[]) {
    const loads = this.#loads.get(campaignId);
    return new Map(accountIds.flatMap((id) => (loads?.get(id) ? [[id, loads.get(id)!] as const] : [])));
  }

  async editedCampaigns() {
    return this.#campaignRows((c) => (c.status === 'active' || c.status === 'paused') && c.applied_sequence_version !== c.sequence_version);
  }

  async leadsOnOtherVersions(campaignId: string, version: number, limit: number) {
    const open = [...(this.#open.get(campaignId)?.values() ?? [])].flatMap(openOf);
    const onOthers = open.filter((l) => l.state === 'active' && l.sequence_version !== version);
    return smallest(onOthers, limit, (a, b) => byText(a.prospect_id, b.prospect_id));
  }

  async setAppliedSequenceVersion(campaignId: string, version: number) {
    this.#updateCampaign(campaignId, { applied_sequence_version: version });
  }

  async campaignAvailability(now: Date, enginePauses: readonly string[]) {
    const reviewed = this.#campaignRows((c) => c.status === 'active' || (c.status === 'paused' && c.pause_reason !== null && enginePauses.includes(c.pause_reason)));
    return reviewed.map((c) => {
      const active = this.#senders(c.id).flatMap((ca) => {
        const account = this.#accounts.get(ca.account_link_id);
        return account?.status === 'active' ? [account] : [];
      });
      const canSend = active.some((a) => a.held_until === null || a.held_until <= now);
      return { id: c.id, status: c.status, can_send: canSend, has_active: active.length > 0 };
    });
  }

  async finishedCampaigns() {
    return this.#campaignRows((c) => c.status === 'active' && !c.is_syncing && !this.#hasOpen(c.id)).map((c) => c.id);
  }

  async hasOpenLeads(campaignId: string) {
    return this.#hasOpen(campaignId);
  }

  async lastFinish(campaignId: string, reached: Date) {
    let last: number | null = null;
    for (const lead of this.#rows(this.#leadsOf.get(campaignId))) {
      const at = ms(lead.finished_at);
      if (at !== null && at <= reached.getTime() && (last === null || at > last)) last = at;
    }
    return last === null ? null : new Date(last);
  }

  async moveCampaign(campaignId: string, action: LifecycleAction, at: Date, pauseReason: string | null) {
    const row = this.#campaigns.get(campaignId);
    if (!row) throw new Error(`no campaign ${campaignId}`);
    const step = transition(row.status, action);
    if (!step.allowed) return false;
    this.#updateCampaign(campaignId, { ...lifecycleColumns(action, at, pauseReason), status: step.to, updated_at: at });
    return true;
  }

  // A batch's reservation

  async lockAccounts(from: Date, until: Date, limit: number | null) {
    const due: AccountLinkRow[] = [];
    const unsettledAccounts = new Set(this.#unsettled(from).map((i) => i.account_link_id));
    for (const id of this.#accountIds) {
      if (limit !== null && due.length >= limit) break;
      const account = this.#accounts.get(id)!;
      if (account.status !== 'active' || (account.held_until !== null && account.held_until > until)) continue;
      const hasDueLead = () =>
        this.#campaignsOf.get(id)!.some((ca) => {
          if (this.#campaigns.get(ca.campaign_id)?.status !== 'active' || (ca.next_send_at !== null && ca.next_send_at > until)) return false;
          for (const lead of this.#open.get(ca.campaign_id)?.get(id)?.values() ?? []) {
            if (lead.next_step_at !== null && lead.next_step_at.getTime() <= until.getTime() && !this.#taken(lead.id)) return true;
          }
          return false;
        });
      if (unsettledAccounts.has(id) || hasDueLead()) due.push(account);
    }
    return due;
  }

  async activePairs(accountIds: readonly string[], until: Date) {
    const pairs: PairRow[] = [];
    for (const accountId of accountIds) {
      for (const ca of this.#campaignsOf.get(accountId) ?? []) {
        const campaign = this.#campaigns.get(ca.campaign_id);
        if (campaign?.status === 'active' && (ca.next_send_at === null || ca.next_send_at <= until)) pairs.push({ ...campaign, account_link_id: accountId });
      }
    }
    return pairs.sort((a, b) => byText(a.id, b.id));
  }

  async findUnsettled(accountIds: readonly string[], from: Date) {
    const accounts = new Set(accountIds);
    return this.#unsettled(from)
      .filter((i) => accounts.has(i.account_link_id))
      .sort((a, b) => a.created_at.getTime() - b.created_at.getTime() || byText(a.id, b.id));
  }

  async loadQueues(pairs: readonly PairRow[], perQueue: number, _from: Date, until: Date) {
    const heads: CampaignLeadRow[] = [];
    for (const pair of pairs) {
      const followUps: CampaignLeadRow[] = [];
      const firstTouches: CampaignLeadRow[] = [];
      const last = until.getTime();
      for (const lead of this.#open.get(pair.id)?.get(pair.account_link_id)?.values() ?? []) {
        if (lead.next_step_at === null || lead.next_step_at.getTime() > last || this.#taken(lead.id)) continue;
        (lead.next_rank > 0 ? followUps : firstTouches).push(lead);
      }
      for (const lead of smallest(followUps, perQueue + 1, byDue)) heads.push(lead);
      for (const lead of smallest(firstTouches, perQueue + 1, byDue)) heads.push(lead);
    }
    return heads;
  }

  async leadsByIds(ids: readonly string[]) {
    return this.#rows(ids);
  }

  async campaignsByIds(ids: readonly string[]) {
    return found(new Set(ids), this.#campaigns);
  }

  async stepsByVersion(keys: ReadonlyArray<{ campaignId: string; version: number }>) {
    // As the database's statement: every stored version of the campaigns asked among the versions asked.
    const steps = new Map<string, StoredStep[]>();
    const versions = new Set(keys.map((k) => k.version));
    for (const campaignId of new Set(keys.map((k) => k.campaignId))) {
      for (const version of versions) {
        const key = `${campaignId}:${version}`;
        const found = this.#steps.get(key);
        if (found) steps.set(key, found);
      }
    }
    return steps;
  }

  async sendLogsOf(accountIds: readonly string[], since: Date) {
    const logs = new Map<string, AccountState['sends']>();
    for (const accountId of accountIds) {
      const log = this.#logs.get(accountId) ?? [];
      const first = slotAfter(log, since.getTime());
      if (first < log.length) logs.set(accountId, log.slice(first));
    }
    return logs;
  }

  async prospectsByIds(ids: readonly string[]) {
    return found(new Set(ids), this.#prospects);
  }

  async reserve(intents: readonly CampaignIntentRow[]) {
    // Copies: the store changes its rows in place, and these are the engine's.
    for (const intent of intents) this.#add({ ...intent });
  }

  async renew(intents: readonly SendIntentRow[], until: Date) {
    for (const { id } of intents) this.#updateIntent(id, { claimed_until: until });
  }

  async writeLeadChanges(changes: readonly LeadChange[]) {
    for (const { id, set } of changes) {
      const before = this.#leads.get(id);
      if (!before) continue;
      const moves = ('state' in set && set.state !== before.state) || ('account_link_id' in set && set.account_link_id !== before.account_link_id);
      if (moves) this.#index(before, -1);
      Object.assign(before, set);
      if (moves) this.#index(before, +1);
    }
  }

  async setPaceGates(gates: ReadonlyArray<{ campaignId: string; accountId: string; at: Date }>) {
    for (const g of gates) {
      const pair = this.#pair(g.campaignId, g.accountId);
      if (pair) pair.next_send_at = g.at;
    }
  }

  async stillWanted(leadIds: readonly string[]) {
    const wanted = new Set<string>();
    for (const lead of this.#rows(leadIds)) if (isRunning(lead.state) && this.#campaigns.get(lead.campaign_id)?.status === 'active') wanted.add(lead.id);
    return wanted;
  }

  // A batch's record

  async lockLeads(ids: readonly string[]) {
    return this.#rows(ids);
  }

  async markSent(sent: ReadonlyArray<{ intent: Pick<SendIntentRow, 'id' | 'created_at'>; platformMessageId: string | null }>) {
    for (const { intent, platformMessageId } of sent) this.#updateIntent(intent.id, { status: 'sent', platform_message_id: platformMessageId, completed_at: intent.created_at });
  }

  async markFailed(intent: SendIntentRow) {
    this.#updateIntent(intent.id, { status: 'failed', completed_at: intent.created_at });
  }

  async release(intent: Pick<SendIntentRow, 'id'>) {
    const row = this.#intents.get(intent.id);
    if (!row) return;
    this.#settle(row);
    this.#intents.delete(row.id);
    const log = this.#logs.get(row.account_link_id)!;
    const slot = log.findIndex((s) => s.intentId === row.id);
    if (slot >= 0) log.splice(slot, 1);
  }

  async messagedLeads(leadIds: readonly string[]) {
    return new Set(leadIds.filter((id) => this.#messaged.has(id)));
  }

  async markAccountOffline(accountId: string, at: Date) {
    this.#updateAccount(accountId, { status: 'offline', updated_at: at });
  }

  async holdAccount(accountId: string, until: Date) {
    this.#updateAccount(accountId, { held_until: until });
  }

  async clearPaceGate(campaignId: string, accountId: string) {
    const pair = this.#pair(campaignId, accountId);
    if (pair) pair.next_send_at = null;
  }

  async recordSends(_sends: unknown, _failures: unknown, _from: Date, writeProgress: () => Promise<unknown>) {
    await writeProgress();
    return true;
  }

  async runAutomations() {}

  // Virtual time

  async nextHoldExpiry(now: Date) {
    return earliest(this.#holdsEndingAfter(now));
  }

  async nextInstant(now: Date) {
    const instants: number[] = [];
    for (const campaign of this.#campaigns.values()) {
      if (campaign.status !== 'active') continue;
      for (const ca of this.#senders(campaign.id)) {
        const account = this.#accounts.get(ca.account_link_id);
        if (account?.status !== 'active') continue;
        let head: number | null = null;
        for (const lead of this.#open.get(campaign.id)?.get(ca.account_link_id)?.values() ?? []) {
          const at = ms(lead.next_step_at);
          if (at !== null && (head === null || at < head)) head = at;
        }
        // greatest() of what is set: a pair with no lead waiting has nothing to do
        if (head !== null) instants.push(Math.max(head, ms(ca.next_send_at) ?? head, ms(account.held_until) ?? head));
      }
    }
    for (const intent of this.#pending.values()) instants.push(intent.claimed_until.getTime());
    instants.push(...this.#holdsEndingAfter(now));
    return earliest(instants.filter((at) => at > now.getTime()));
  }

  // Indexes

  #campaignRows(keep: (c: CampaignRow) => boolean): CampaignRow[] {
    return [...this.#campaigns.values()].filter(keep).sort((a, b) => byText(a.id, b.id));
  }

  #senders(campaignId: string): CampaignAccountRow[] {
    return this.#sendersOf.get(campaignId) ?? [];
  }

  #pair(campaignId: string, accountId: string): CampaignAccountRow | undefined {
    return this.#senders(campaignId).find((ca) => ca.account_link_id === accountId);
  }

  #rows(ids: Iterable<string> | undefined): CampaignLeadRow[] {
    return found(ids ?? [], this.#leads);
  }

  #hasOpen(campaignId: string): boolean {
    for (const leads of this.#open.get(campaignId)?.values() ?? []) if (leads.size > 0) return true;
    return false;
  }

  #taken(leadId: string): boolean {
    return this.#pendingOfLead.size > 0 && this.#pendingOfLead.has(leadId);
  }

  #unsettled(from: Date): CampaignIntentRow[] {
    return [...this.#pending.values()].filter((i) => i.claimed_until <= from);
  }

  #holdsEndingAfter(now: Date): number[] {
    const holds: number[] = [];
    for (const campaign of this.#campaigns.values()) {
      if (campaign.status !== 'active' && campaign.status !== 'paused') continue;
      for (const ca of this.#senders(campaign.id)) {
        const held = ms(this.#accounts.get(ca.account_link_id)?.held_until ?? null);
        if (held !== null && held > now.getTime()) holds.push(held);
      }
    }
    return holds;
  }

  /** Adds (+1) or removes (-1) a lead's entries in the open and load indexes. */
  #index(lead: CampaignLeadRow, sign: 1 | -1): void {
    const loads = this.#loads.get(lead.campaign_id);
    if (loads && lead.account_link_id !== null) loads.set(lead.account_link_id, (loads.get(lead.account_link_id) ?? 0) + sign);
    if (!isRunning(lead.state)) return;
    const open = this.#open.get(lead.campaign_id);
    if (!open) return;
    let leads = open.get(lead.account_link_id);
    if (!leads) open.set(lead.account_link_id, (leads = new Map()));
    if (sign > 0) leads.set(lead.id, lead);
    else leads.delete(lead.id);
  }

  #updateCampaign(id: string, set: Partial<CampaignRow>): void {
    const row = this.#campaigns.get(id);
    if (row) this.#campaigns.set(id, { ...row, ...set });
  }

  #updateAccount(id: string, set: Partial<AccountLinkRow>): void {
    const row = this.#accounts.get(id);
    if (row) this.#accounts.set(id, { ...row, ...set });
  }

  #add(intent: CampaignIntentRow): void {
    this.#intents.set(intent.id, intent);
    if (intent.status === 'pending') {
      this.#pending.set(intent.id, intent);
      this.#pendingOfLead.set(intent.lead_id, (this.#pendingOfLead.get(intent.lead_id) ?? 0) + 1);
    }
    if (intent.status === 'sent' && intent.kind === 'message') this.#messaged.add(intent.lead_id);
    const log = this.#logs.get(intent.account_link_id);
    if (!log) this.#logs.set(intent.account_link_id, [slotOf(intent)]);
    else log.splice(slotAfter(log, intent.created_at.getTime()), 0, slotOf(intent));
  }

  /** A pending intent is settled (sent, failed or released): its lead is no longer taken. */
  #settle(intent: CampaignIntentRow): void {
    if (!this.#pending.delete(intent.id)) return;
    const left = this.#pendingOfLead.get(intent.lead_id)! - 1;
    if (left > 0) this.#pendingOfLead.set(intent.lead_id, left);
    else this.#pendingOfLead.delete(intent.lead_id);
  }

  #updateIntent(id: string, set: Partial<CampaignIntentRow>): void {
    const row = this.#intents.get(id);
    if (!row) return;
    Object.assign(row, set);
    if (row.status !== 'pending') this.#settle(row);
    if (row.status === 'sent' && row.kind === 'message') this.#messaged.add(row.lead_id);
  }
}

/** The rows of `rows` with these ids, in their order, leaving out the ids it has none for. */
function found<T>(ids: Iterable<string>, rows: ReadonlyMap<string, T>): T[] {
  const answer: T[] = [];
  for (const id of ids) {
    const row = rows.get(id);
    if (row !== undefined) answer.push(row);
  }
  return answer;
}

const openOf = (leads: ReadonlyMap<string, CampaignLeadRow> | undefined): CampaignLeadRow[] => [...(leads?.values() ?? [])];

const slotOf = (intent: CampaignIntentRow): Slot => ({ intentId: intent.id, campaignId: intent.campaign_id, at: intent.created_at, time: intent.created_at.getTime() });

/** The index of the first slot of `log` later than `at` (binary search: the log is in time order). */
function slotAfter(log: readonly Slot[], at: number): number {
  let lo = 0;
  let hi = log.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (log[mid]!.time <= at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function earliest(instants: readonly number[]): Date | null {
  let min: number | null = null;
  for (const at of instants) if (min === null || at < min) min = at;
  return min === null ? null : new Date(min);
}
