import { sql } from 'kysely';
import { accountOf, markAccountOffline, platformOf } from '../app/account-links.js';
import type { StoredStep } from '../app/campaign-data.js';
import type { AppContext } from '../app/context.js';
import { recordMessage, type Message } from '../app/messages.js';
import { lockThread, openThread } from '../app/threads.js';
import { newId } from '../core/ids.js';
import { leadMessage, leadVariables } from '../core/lead-message.js';
import { nextAction, type ActionStep } from '../core/lead-progress.js';
import type { Random } from '../core/random.js';
import { PlatformError, type PlatformAccount } from '../platforms/platform.js';
import type { Db } from '../store/db.js';
import type { AccountLinkRow, ProspectRow } from '../store/schema.js';
import type { CampaignLeadRow, CampaignRow } from '../store/schema-campaigns.js';
import type { SendIntentRow } from '../store/schema-engine.js';
import { completeLead, emitTargetEvent, runAutomations } from './outcomes.js';
import { allowedAt } from './pace.js';

/**
 * Sending one step of one lead, in three short transactions with the platform call outside them all:
 * 1. decide (account row locked, so caps hold across processes): wait, finish the lead, or record the send
 *    intent and reserve its slot in the account's send log;
 * 2. call the platform;
 * 3. record the outcome: the message, the intent sent, the lead advanced, events and automations.
 * An intent still pending when its lead comes round again (a crash between 1 and 3) is first reconciled with
 * Platform.findDelivered, so nothing is ever sent twice.
 */

/** How long a claimed lead stays ours; past it, another worker may take it (and reconcile its intent). */
export const LEASE_MS = 5 * 60_000;
/** Before retrying after a transient platform failure, or a rate limit that names no reset time. */
export const RETRY_BACKOFF_MS = 15 * 60_000;

/**
 * Claims the head of each sender's queue: for every (active campaign, sendable account) whose pace allows a
 * send, its lead due soonest. Claimed leads are leased, so no other process takes them meanwhile.
 */
export async function claimDue(db: Db, now: Date, limit: number): Promise<string[]> {
  return db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ id: string }>`
      select head.id from campaign_accounts ca
      join campaigns c on c.id = ca.campaign_id and c.status = 'active'
      join account_links al on al.id = ca.account_link_id and al.status = 'active'
      cross join lateral (
        select l.id, l.next_step_at, l.prospect_id from campaign_leads l
        where l.campaign_id = ca.campaign_id and l.account_link_id = ca.account_link_id
          and l.state in ('pending', 'active') and l.next_step_at <= ${now}
          and (l.claimed_until is null or l.claimed_until <= ${now})
        order by l.next_step_at, l.prospect_id limit 1
      ) head
      where (ca.next_send_at is null or ca.next_send_at <= ${now})
        and (al.held_until is null or al.held_until <= ${now})
      order by head.next_step_at, head.prospect_id
      limit ${limit}`.execute(trx);
    if (rows.length === 0) return [];
    // Locked and re-checked on the row itself, so a lead another process has just claimed is skipped.
    const claimed = await trx
      .updateTable('campaign_leads')
      .set({ claimed_until: new Date(now.getTime() + LEASE_MS) })
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('campaign_leads')
          .select('id')
          .where('id', 'in', rows.map((r) => r.id))
          .where((w) => w.or([w('claimed_until', 'is', null), w('claimed_until', '<=', now)]))
          .forUpdate()
          .skipLocked(),
      )
      .returning('id')
      .execute();
    const ids = new Set(claimed.map((c) => c.id));
    return rows.map((r) => r.id).filter((id) => ids.has(id));
  });
}

/** Hands claimed leads back untouched (a worker stopping), so others need not wait for the lease. */
export async function releaseClaims(db: Db, leadIds: readonly string[]): Promise<void> {
  if (leadIds.length > 0) await db.updateTable('campaign_leads').set({ claimed_until: null }).where('id', 'in', leadIds).execute();
}

/** What the decision step found for a claimed lead. */
type Decision =
  | { kind: 'none' }
  | { kind: 'send'; intent: SendIntentRow; reconcile: boolean };

interface SendContext {
  lead: CampaignLeadRow;
  campaign: CampaignRow;
  account: AccountLinkRow;
  prospect: ProspectRow;
  step: ActionStep;
  steps: StoredStep[];
}

export async function stepsOf(db: Db, campaignId: string, version: number): Promise<StoredStep[]> {
  const row = await db
    .selectFrom('sequence_versions')
    .select('steps')
    .where('campaign_id', '=', campaignId)
    .where('version', '=', version)
    .executeTakeFirst();
  return (row?.steps ?? []) as StoredStep[];
}

const release = (trx: Db, leadId: string, set: { next_step_at?: Date | null; sequence_version?: number } = {}) =>
  trx.updateTable('campaign_leads').set({ ...set, claimed_until: null }).where('id', '=', leadId).execute();

/** Step 1: under the account's row lock, decide whether the lead's next step goes out now. */
async function decide(ctx: AppContext, random: Random, leadId: string, now: Date): Promise<Decision> {
  return ctx.db.transaction().execute(async (trx) => {
    const lead = await trx.selectFrom('campaign_leads').selectAll().where('id', '=', leadId).forUpdate().executeTakeFirstOrThrow();
    const pending = await trx.selectFrom('send_intents').selectAll().where('lead_id', '=', leadId).where('status', '=', 'pending').executeTakeFirst();
    if (pending) return { kind: 'send', intent: pending, reconcile: true };
    const campaign = await trx.selectFrom('campaigns').selectAll().where('id', '=', lead.campaign_id).executeTakeFirstOrThrow();
    if (!['pending', 'active'].includes(lead.state) || campaign.status !== 'active' || !lead.account_link_id) {
      await release(trx, leadId);
      return { kind: 'none' };
    }
    const account = await trx.selectFrom('account_links').selectAll().where('id', '=', lead.account_link_id).forUpdate().executeTakeFirstOrThrow();
    if (account.status !== 'active') {
      await release(trx, leadId);
      return { kind: 'none' };
    }
    // A lead in flight moves to the current version from its next unsent rank.
    const version = campaign.sequence_version;
    const next = nextAction(await stepsOf(trx, campaign.id, version), lead.next_rank, lead.last_contact_at, now);
    if (next.done) {
      await completeLead(trx, lead, campaign, now);
      return { kind: 'none' };
    }
    if (next.dueAt > now) {
      await release(trx, leadId, { next_step_at: next.dueAt, sequence_version: version });
      return { kind: 'none' };
    }
    const allowed = await allowedAt(trx, random, campaign, account, now);
    if (allowed > now) {
      await trx
        .updateTable('campaign_accounts')
        .set({ next_send_at: allowed })
        .where('campaign_id', '=', campaign.id)
        .where('account_link_id', '=', account.id)
        .execute();
      await release(trx, leadId, { sequence_version: version });
      return { kind: 'none' };
    }
    const content = next.step.type === 'message' ? await render(trx, campaign.id, lead, next.step) : null;
    const intent = await trx
      .insertInto('send_intents')
      .values({
        id: newId(),
        lead_id: lead.id,
        step_id: next.step.id,
        sequence_version: version,
        account_link_id: account.id,
        kind: next.step.type === 'message' ? 'message' : 'like',
        content,
        created_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await trx
      .insertInto('account_sends')
      .values({ intent_id: intent.id, account_link_id: account.id, campaign_id: campaign.id, sent_at: now, kind: intent.kind })
      .execute();
    await trx.updateTable('campaign_leads').set({ sequence_version: version }).where('id', '=', lead.id).execute();
    return { kind: 'send', intent, reconcile: false };
  });
}

async function render(trx: Db, campaignId: string, lead: CampaignLeadRow, step: ActionStep & { type: 'message' }): Promise<string> {
  const prospect = await trx.selectFrom('prospects').selectAll().where('id', '=', lead.prospect_id).executeTakeFirstOrThrow();
  const variables = leadVariables(
    { displayName: prospect.display_name, username: prospect.username, bio: prospect.bio, location: prospect.location },
    lead.data,
  );
  // Keyed by prospect, as the sequence preview is, so the preview shows what is sent.
  return leadMessage(campaignId, lead.prospect_id, step.id, step.data.segments, variables);
}

async function loadSendContext(db: Db, intent: SendIntentRow): Promise<SendContext> {
  const lead = await db.selectFrom('campaign_leads').selectAll().where('id', '=', intent.lead_id).executeTakeFirstOrThrow();
  const campaign = await db.selectFrom('campaigns').selectAll().where('id', '=', lead.campaign_id).executeTakeFirstOrThrow();
  const account = await db.selectFrom('account_links').selectAll().where('id', '=', intent.account_link_id).executeTakeFirstOrThrow();
  const prospect = await db.selectFrom('prospects').selectAll().where('id', '=', lead.prospect_id).executeTakeFirstOrThrow();
  const steps = await stepsOf(db, campaign.id, intent.sequence_version);
  const step = steps.find((s) => s.id === intent.step_id) as ActionStep;
  return { lead, campaign, account, prospect, step, steps };
}

type Outcome = { sent: true; platformMessageId: string | null } | { sent: false; error: PlatformError };

/** Step 2: the platform call, outside any transaction. A pending intent is first looked up on the platform. */
async function callPlatform(ctx: AppContext, intent: SendIntentRow, reconcile: boolean, send: SendContext): Promise<Outcome> {
  const platform = platformOf(ctx, send.account.platform);
  const as = accountOf(send.account);
  const recipient = send.prospect.platform_id;
  try {
    if (intent.kind === 'like') {
      // Liking is idempotent on the platform, so an unconfirmed like is simply made again.
      await platform.likeLatestPost(as, recipient);
      return { sent: true, platformMessageId: null };
    }
    if (reconcile) {
      const delivered = await platform.findDelivered(as, recipient, intent.content!, intent.created_at);
      if (delivered) return { sent: true, platformMessageId: delivered };
    }
    const sent = await platform.sendDm(as, recipient, intent.content!);
    return { sent: true, platformMessageId: sent.platformMessageId };
  } catch (error) {
    if (error instanceof PlatformError) return { sent: false, error };
    throw error;
  }
}

/** Whether the lead was sent a message before this intent (a sequence may open with a like). */
async function sentMessageBefore(trx: Db, intent: SendIntentRow): Promise<boolean> {
  const earlier = await trx
    .selectFrom('send_intents')
    .select('id')
    .where('lead_id', '=', intent.lead_id)
    .where('kind', '=', 'message')
    .where('status', '=', 'sent')
    .where('id', '!=', intent.id)
    .limit(1)
    .executeTakeFirst();
  return earlier !== undefined;
}

/** Step 3, success: the message in the lead's thread, the intent sent, the lead advanced, events, automations. */
async function recordSent(ctx: AppContext, random: Random, intent: SendIntentRow, send: SendContext, platformMessageId: string | null, now: Date) {
  await ctx.db.transaction().execute(async (trx) => {
    const { campaign, account, prospect, step } = send;
    const lead = await trx.selectFrom('campaign_leads').selectAll().where('id', '=', intent.lead_id).forUpdate().executeTakeFirstOrThrow();
    const thread = await lockThread(trx, (await openThread(trx, { account, prospect, recipientPlatformId: prospect.platform_id }, now)).id);
    let message: Message | null = null;
    if (intent.kind === 'message') {
      message = await recordMessage(
        trx,
        thread,
        {
          platformId: platformMessageId,
          outbound: true,
          authorId: account.id,
          userId: null,
          campaignId: campaign.id,
          campaignStepId: step.id,
          content: intent.content!,
          origin: 'internal',
          createdAt: now,
        },
        now,
      );
    }
    await trx
      .updateTable('send_intents')
      .set({ status: 'sent', platform_message_id: platformMessageId, completed_at: now })
      .where('id', '=', intent.id)
      .execute();
    const firstContact = lead.contacted_at === null;
    const next = nextAction(send.steps, step.rank + 1, now, now);
    const stillRunning = lead.state === 'pending' || lead.state === 'active';
    await trx
      .updateTable('campaign_leads')
      .set({
        contacted_at: lead.contacted_at ?? now,
        last_contact_at: now,
        next_rank: step.rank + 1,
        claimed_until: null,
        updated_at: now,
        ...(stillRunning ? { state: 'active' as const, next_step_at: next.done ? null : next.dueAt } : {}),
      })
      .where('id', '=', lead.id)
      .execute();
    const type = intent.kind === 'like' ? 'target.liked' : (await sentMessageBefore(trx, intent)) ? 'target.followUpSent' : 'target.contacted';
    await emitTargetEvent(trx, type, campaign.id, thread, message, step, now);
    if (firstContact) await runAutomations(trx, campaign, lead.prospect_id, 'contacted', now);
    if (stillRunning && next.done) await completeLead(trx, lead, campaign, now);
    const locked = await trx.selectFrom('account_links').selectAll().where('id', '=', account.id).forUpdate().executeTakeFirstOrThrow();
    await trx
      .updateTable('campaign_accounts')
      .set({ next_send_at: await allowedAt(trx, random, campaign, locked, now) })
      .where('campaign_id', '=', campaign.id)
      .where('account_link_id', '=', account.id)
      .execute();
  });
}

/**
 * Step 3, failure. The intent is dropped (nothing went out, its slot frees up) except for an unreachable
 * recipient, whose lead fails for good and still counts as contacted (spec 6.2). A rate limit holds the
 * account until the platform's reset time; revoked access takes the account offline.
 */
async function recordFailure(ctx: AppContext, intent: SendIntentRow, error: PlatformError, now: Date): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    if (error.kind === 'recipient_unreachable') {
      await trx.updateTable('send_intents').set({ status: 'failed', completed_at: now }).where('id', '=', intent.id).execute();
      await trx.deleteFrom('account_sends').where('intent_id', '=', intent.id).execute();
      await trx
        .updateTable('campaign_leads')
        .set((eb) => ({
          state: 'failed',
          failure_reason: error.message,
          contacted_at: eb.fn.coalesce('contacted_at', eb.val(now)),
          next_step_at: null,
          finished_at: now,
          claimed_until: null,
          updated_at: now,
        }))
        .where('id', '=', intent.lead_id)
        .execute();
      return;
    }
    await trx.deleteFrom('send_intents').where('id', '=', intent.id).execute();
    await release(trx, intent.lead_id);
    if (error.kind === 'auth_revoked') {
      await markAccountOffline(trx, intent.account_link_id, now);
    } else {
      const until = error.kind === 'rate_limited' && error.resetAt && error.resetAt > now ? error.resetAt : new Date(now.getTime() + RETRY_BACKOFF_MS);
      await trx.updateTable('account_links').set({ held_until: until }).where('id', '=', intent.account_link_id).execute();
    }
  });
}

/** Takes one claimed lead through decide, send and record. Returns whether something went out. */
export async function processLead(ctx: AppContext, random: Random, leadId: string, now: Date): Promise<boolean> {
  const decision = await decide(ctx, random, leadId, now);
  if (decision.kind === 'none') return false;
  const { intent, reconcile } = decision;
  const send = await loadSendContext(ctx.db, intent);
  const outcome = await callPlatform(ctx, intent, reconcile, send);
  if (outcome.sent) {
    await recordSent(ctx, random, intent, send, outcome.platformMessageId, now);
    return true;
  }
  await recordFailure(ctx, intent, outcome.error, now);
  return false;
}
