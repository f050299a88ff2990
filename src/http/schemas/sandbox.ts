import { z } from 'zod';
import { SandboxUsername } from './account-links.js';
import { IdSchema } from './common.js';
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

export const SandboxInboundBody = z.object({ accountLinkId: IdSchema, fromPlatformId: PlatformIdSchema, content: MessageContent });
