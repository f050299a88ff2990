import { z } from 'zod';
import { IdSchema, NullableTimestamp, TimestampSchema } from './common.js';
import { PlatformSchema } from './prospects.js';

export const AccountLinkSchema = z
  .object({
    id: IdSchema,
    platform: PlatformSchema,
    platformId: z.string(),
    name: z.string(),
    username: z.string(),
    image: z.string(),
    createdAt: TimestampSchema,
    status: z.enum(['active', 'offline', 'paused']),
    syncedAt: NullableTimestamp,
    hourlyLimit: z.number().int().describe('most DMs this account sends per hour'),
    dailyLimit: z.number().int().describe('most DMs this account sends per day'),
  })
  .meta({ id: 'AccountLink' });

export const AccountLinkParams = z.object({ accountLinkId: IdSchema });

/** X allows 15 characters; sandbox users need room for their default names, user<id>. */
export const SandboxUsername = z.string().regex(/^[A-Za-z0-9_]{1,24}$/, 'must be 1-24 letters, digits or underscores');

export const LinkSandboxBody = z.object({ username: SandboxUsername, name: z.string().trim().min(1).max(50).optional() });

export const UpdateAccountLinkBody = z.object({
  status: z.enum(['active', 'offline', 'paused']).optional(),
  hourlyLimit: z.number().int().positive().max(10_000).optional(),
  dailyLimit: z.number().int().positive().max(100_000).optional(),
});

