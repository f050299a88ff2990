import { DAY_MS, HOUR_MS, nextDispatchTime } from '../core/pacing.js';
import type { Random } from '../core/random.js';
import type { Db } from '../store/db.js';
import type { AccountLinkRow } from '../store/schema.js';
import type { CampaignRow } from '../store/schema-campaigns.js';

/** How long to wait before looking again when a campaign's schedule has no sending day at all. */
const NO_WINDOW_RECHECK_MS = DAY_MS;

/**
 * The earliest instant at or after `now` at which `campaign` may send from `account`: its own pace, the
 * account's caps across every campaign, the campaign's window and any hold on the account. Reads the send log,
 * so call it with the account row locked to make the answer hold across processes.
 * The jitter is drawn from a stream named by campaign, account and the pair's last send, so asking again
 * (after a crash, or from another process) gives the same answer.
 */
export async function allowedAt(trx: Db, random: Random, campaign: CampaignRow, account: AccountLinkRow, now: Date): Promise<Date> {
  const since = new Date(now.getTime() - DAY_MS);
  const sends = await trx
    .selectFrom('account_sends')
    .select(['campaign_id', 'sent_at'])
    .where('account_link_id', '=', account.id)
    .where('sent_at', '>', since)
    .orderBy('sent_at', 'desc')
    .execute();
  const hourAgo = now.getTime() - HOUR_MS;
  const recentSends = sends.filter((s) => s.campaign_id === campaign.id && s.sent_at.getTime() > hourAgo).map((s) => s.sent_at);
  const lastOwn = sends.find((s) => s.campaign_id === campaign.id)?.sent_at.toISOString() ?? 'first';
  const next = nextDispatchTime({
    recentSends,
    accountRecentSends: sends.map((s) => s.sent_at),
    messagesPerHour: campaign.messages_per_hour,
    hourlyLimit: account.hourly_limit,
    dailyLimit: account.daily_limit,
    earliest: account.held_until && account.held_until > now ? account.held_until : now,
    jitter: random.derive(`${campaign.id}:${account.id}:${lastOwn}`).next(),
    schedule: campaign.schedule,
    timeZone: campaign.timezone,
  });
  return next ?? new Date(now.getTime() + NO_WINDOW_RECHECK_MS);
}
