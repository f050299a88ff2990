import { z } from 'zod';
import { IdSchema, TimestampSchema } from './common.js';

export const WhoAmISchema = z
  .object({
    member: z.object({
      id: IdSchema,
      userId: IdSchema,
      name: z.string().nullable(),
      email: z.string(),
      role: z.enum(['owner', 'admin', 'user']),
    }),
    team: z.object({ id: IdSchema, name: z.string() }),
  })
  .meta({ id: 'WhoAmI' });

export const SignInBody = z.object({ email: z.string().min(1).max(320), password: z.string().min(1).max(1024) });

export const InviteSchema = z
  .object({ id: IdSchema, email: z.string(), role: z.enum(['admin', 'user']), expiresAt: TimestampSchema, createdAt: TimestampSchema })
  .meta({ id: 'Invite' });

export const CreatedInviteSchema = InviteSchema.extend({
  url: z.string().describe('the accept page, `/app/accept/<secret>`: shown only in this response'),
}).meta({ id: 'CreatedInvite' });

export const CreateInviteBody = z.object({ email: z.email().max(320), role: z.enum(['admin', 'user']).optional() });

export const InviteSecretParams = z.object({ secret: z.string().regex(/^[\w-]{1,128}$/, 'must be an invite link secret') });

export const InviteLookupSchema = z
  .object({ email: z.string(), teamName: z.string(), kind: z.enum(['invite', 'password']) })
  .meta({ id: 'InviteLookup' });

export const AcceptInviteBody = z.object({
  password: z.string().min(12, 'must be at least 12 characters').max(1024),
  name: z.string().max(255).optional(),
});
