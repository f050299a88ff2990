import { AppError } from '../../core/errors.js';
import type { AccountLinkRow } from '../../store/schema.js';
import { accountOf, platformOf, type PlatformDm } from '../../platforms/platform.js';
import { recordCampaignReply } from '../campaigns/outcomes.js';
import type { AppContext } from '../context.js';
import { recordWithTarget } from './messages.js';
import type { Message } from './presenters.js';
import { findProspectByPlatformId } from '../prospects/prospects.js';
import type { Target } from './message-recording.js';

/**
 * Takes in a DM seen on a linked account — pushed by the platform or found by a sync — exactly once
 * per platform message id. The other participant becomes (or is) the prospect and the thread with
 * them is created if needed. A DM sent by our own account (from the native app, or one we sent and
 * see again) is stored as ours, never as a reply; one from the prospect is a reply to their campaigns.
 */
export async function ingestInboundMessage(ctx: AppContext, account: AccountLinkRow, dm: PlatformDm): Promise<Message> {
  const ours = dm.senderPlatformId === account.platform_id;
  const counterpart = ours ? dm.recipientPlatformId : dm.senderPlatformId;
  const known = await findProspectByPlatformId(ctx.db, account.team_id, account.platform, counterpart);
  let target: Target;
  if (known) {
    target = { account, prospect: known, recipientPlatformId: counterpart };
  } else {
    const profile = await platformOf(ctx, account.platform).profileById(counterpart, accountOf(account));
    if (!profile) throw new AppError(422, 'UNKNOWN_PLATFORM_USER', `No ${account.platform} user with platform ID '${counterpart}'`);
    target = { account, profile, recipientPlatformId: counterpart };
  }
  let repliedIn: string[] = [];
  const { message, thread } = await recordWithTarget(ctx, target, (thread) => ({
    platformId: dm.platformMessageId,
    outbound: ours,
    authorId: ours ? account.id : thread.prospect_id,
    userId: null,
    content: dm.content,
    attachments: dm.attachments,
    origin: 'external',
    createdAt: dm.createdAt,
  }), ours ? undefined : async (trx, thread, message, now) => void (repliedIn = await recordCampaignReply(trx, thread, message, now)));
  // Said once committed, as the engine says what it sends (issue 23).
  for (const campaignId of repliedIn) ctx.logger.info({ campaignId, prospectId: thread.prospect_id }, 'a lead replied');
  return message;
}
