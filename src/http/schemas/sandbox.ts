import { z } from 'zod';
import { MEDIA_KINDS, mediaTypeMismatch } from '../../core/attachments.js';
import { SandboxUsername } from './account-links.js';
import { IdSchema, MediaType, MediaUrl } from './common.js';
import { MessageContent } from './messages.js';
import { PlatformIdSchema } from './prospects.js';

const AccountStatus = z.enum(['active', 'suspended', 'deactivated']);

export const SandboxProfileParams = z.object({ platformId: PlatformIdSchema });

export const SandboxProfileBody = z
  .object({
    username: SandboxUsername,
    displayName: z.string().min(1).max(50),
    bio: z.string().max(160).nullable(),
    location: z.string().max(30).nullable(),
    followerCount: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    isProtected: z.boolean(),
    accountStatus: AccountStatus,
    dmsOpen: z.boolean(),
  })
  .partial();

export const SandboxProfileSchema = z
  .object({
    platformId: z.string(),
    username: z.string(),
    displayName: z.string(),
    bio: z.string().nullable(),
    location: z.string().nullable(),
    followerCount: z.number(),
    isProtected: z.boolean(),
    accountStatus: AccountStatus,
    dmsOpen: z.boolean(),
  })
  .meta({ id: 'SandboxProfile' });

/** What a sandbox DM may carry besides its text: one medium or a link card (its link is `url`). */
export const SandboxAttachmentBody = z
  .object({
    type: z.enum([...MEDIA_KINDS, 'card']),
    url: MediaUrl,
    mimeType: MediaType.optional(),
  })
  .superRefine((attachment, ctx) => {
    if (attachment.mimeType === undefined) return;
    const problem = attachment.type === 'card' ? 'a link card has no mimeType' : mediaTypeMismatch(attachment.type, attachment.mimeType);
    if (problem) ctx.addIssue({ code: 'custom', path: ['mimeType'], message: problem });
  });

export const SandboxInboundBody = z
  .object({
    accountLinkId: IdSchema,
    fromPlatformId: PlatformIdSchema,
    content: MessageContent.or(z.literal('')).describe('may be empty when the DM has an attachment'),
    attachment: SandboxAttachmentBody.optional(),
  })
  .superRefine((body, ctx) => {
    if (body.content === '' && !body.attachment) ctx.addIssue({ code: 'custom', path: ['content'], message: 'must not be empty in a DM without an attachment' });
  });
