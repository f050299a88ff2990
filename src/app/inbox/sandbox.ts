import { plainCard, plainMedia, type MediaKind, type MessageAttachment } from '../../core/attachments.js';
import { AppError, validationError } from '../../core/errors.js';
import { platformOf, type PlatformProfile } from '../../platforms/platform.js';
import { putSandboxProfile, recordSandboxDm, type SandboxProfileInput } from '../../platforms/sandbox.js';
import { getAccountLinkRow } from '../accounts/account-links.js';
import type { AppContext } from '../context.js';
import { ingestInboundMessage } from './inbound.js';
import type { Message } from './presenters.js';

export type SandboxProfile = Pick<
  PlatformProfile,
  'platformId' | 'username' | 'displayName' | 'bio' | 'location' | 'followerCount' | 'isProtected' | 'accountStatus' | 'dmsOpen'
>;

const presentSandboxProfile = (p: PlatformProfile): SandboxProfile => ({
  platformId: p.platformId,
  username: p.username,
  displayName: p.displayName,
  bio: p.bio,
  location: p.location,
  followerCount: p.followerCount,
  isProtected: p.isProtected,
  accountStatus: p.accountStatus,
  dmsOpen: p.dmsOpen,
});

/** Sets a sandbox user's profile (global, like X itself): given fields override, omitted ones reset. */
export async function setSandboxProfile(ctx: AppContext, platformId: string, input: SandboxProfileInput): Promise<SandboxProfile> {
  if (input.username) {
    const holder = await platformOf(ctx, 'sandbox').profileByUsername(input.username);
    if (holder && holder.platformId !== platformId) {
      throw new AppError(409, 'CONFLICT', `The sandbox username '${input.username}' belongs to user ${holder.platformId}`);
    }
  }
  return presentSandboxProfile(await putSandboxProfile(ctx.db, platformId, input, ctx.clock.now()));
}

/** What a sandbox DM carries besides its text: a medium of a kind (with its media type, when known) or a link card. */
export interface SandboxAttachmentInput {
  type: MediaKind | 'card';
  url: string;
  mimeType?: string;
}

const attachmentOf = (input: SandboxAttachmentInput): MessageAttachment => (input.type === 'card' ? plainCard(input.url) : plainMedia(input.type, input.url, input.mimeType ?? null));

/** A sandbox user DMs one of the team's sandbox accounts; it arrives exactly as an X DM would, with its attachment. */
export async function deliverSandboxDm(
  ctx: AppContext,
  teamId: string,
  input: { accountLinkId: string; fromPlatformId: string; content: string; attachment?: SandboxAttachmentInput },
): Promise<Message> {
  const account = await getAccountLinkRow(ctx.db, teamId, input.accountLinkId);
  if (account.platform !== 'sandbox') {
    throw new AppError(422, 'NOT_A_SANDBOX_ACCOUNT', `Account link '${account.id}' is not a sandbox account`);
  }
  if (input.fromPlatformId === account.platform_id) {
    throw validationError('A sandbox user cannot DM itself', [{ field: 'body.fromPlatformId', message: 'is the account itself' }]);
  }
  const sender = await platformOf(ctx, 'sandbox').profileById(input.fromPlatformId);
  if (sender?.accountStatus !== 'active') {
    throw new AppError(422, 'SENDER_UNAVAILABLE', `Sandbox user ${input.fromPlatformId} is ${sender?.accountStatus ?? 'unknown'} and cannot send`);
  }
  const now = ctx.clock.now();
  const platformMessageId = await recordSandboxDm(ctx.db, input.fromPlatformId, account.platform_id, input.content, now);
  return ingestInboundMessage(ctx, account, {
    platformMessageId,
    senderPlatformId: input.fromPlatformId,
    recipientPlatformId: account.platform_id,
    content: input.content,
    attachments: input.attachment ? [attachmentOf(input.attachment)] : [],
    createdAt: now,
  });
}
