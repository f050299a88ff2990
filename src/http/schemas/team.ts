import { z } from 'zod';
import { IdSchema, NullableTimestamp, TimestampSchema } from './common.js';

export const TeamSchema = z
  .object({
    id: IdSchema,
    name: z.string(),
    slug: z.string(),
    image: z.string().nullable(),
    createdAt: TimestampSchema,
    updatedAt: NullableTimestamp,
    currency: z.string(),
    allowSupportAccess: z.boolean(),
  })
  .meta({ id: 'Team' });

export const MemberRole = z.enum(['owner', 'admin', 'user']);

export const MemberSchema = z
  .object({
    id: IdSchema,
    userId: IdSchema,
    name: z.string().nullable(),
    email: z.email(),
    image: z.string().nullable(),
    role: MemberRole,
    createdAt: TimestampSchema,
    updatedAt: NullableTimestamp,
  })
  .meta({ id: 'Member' });

export const MemberParams = z.object({ memberId: IdSchema });

export const UpdateMemberBody = z.object({ role: MemberRole });

export const TokenSchema = z
  .object({
    id: IdSchema,
    name: z.string(),
    hint: z.string().describe('the last four characters of the token'),
    memberId: IdSchema,
    createdAt: TimestampSchema,
    lastUsedAt: NullableTimestamp,
    revokedAt: NullableTimestamp,
  })
  .meta({ id: 'ApiToken' });

export const CreatedTokenSchema = TokenSchema.extend({
  token: z.string().describe('the secret token; shown only in this response'),
}).meta({ id: 'CreatedApiToken' });
