import { z } from 'zod';
import { IdSchema, TimestampSchema } from '../schemas/common.js';
import { named, ReactionSchema } from './schemas.js';

/**
 * The schemas of v2's message changes (edit, unsend, history, reactions, attachments) and typing, after the
 * vendor's document, in v2's registry.
 */

export const MessageParams = z.object({ messageId: IdSchema });
export const AttachmentParams = z.object({ messageId: IdSchema, index: z.string().regex(/^[0-9]{1,9}$/, 'is not an index (0, 1, 2 ...)').transform(Number) });

/** The text a platform allows is its own (`limits.characters`): a longer one is 422 contentRejected. */
export const MessageEditBody = named('MessageEdit', z.object({ content: z.string().min(1) }).strict());

const scope = z.enum(['self', 'all']).describe('`self` deletes for the account link only (`message:delete:self`); `all` unsends for every participant (`message:unsend`)');
export const UnsendQuery = z.object({ scope }).strict();
export const MessageDeletionSchema = named('MessageDeletion', z.object({ messageId: z.string(), scope, deletedAt: TimestampSchema }));

const origin = z.enum(['inbox', 'platform', 'api']).nullable();
export const MessageHistorySchema = named(
  'MessageHistory',
  z.object({
    versions: z.array(z.object({ content: z.string(), createdAt: TimestampSchema, origin })),
    deletion: z.object({ deletedAt: TimestampSchema, scope, origin }).nullable(),
    times: z.enum(['platform', 'observed']),
  }),
);

/** Exactly one emoji: the vendor's pattern. */
const EMOJI =
  /^(?:\p{Regional_Indicator}{2}|[#*0-9]\uFE0F?\u20E3|\u{1F3F4}[\u{E0020}-\u{E007E}]+\u{E007F}|\p{Extended_Pictographic}\uFE0F?\p{Emoji_Modifier}?(?:\u200D\p{Extended_Pictographic}\uFE0F?\p{Emoji_Modifier}?)*)(?![\s\S])/u;
const Emoji = z.string().max(64).regex(EMOJI, 'is not exactly one emoji');
export const ReactionChangeBody = named('ReactionChange', z.object({ emoji: Emoji }).strict());
export const UnreactQuery = z.object({ emoji: Emoji }).strict();
export const ReactionsSchema = named('Reactions', z.object({ reactions: z.array(ReactionSchema), version: z.number() }));

export const TypingSignalSchema = named(
  'TypingSignal',
  z.object({ status: z.enum(['sent', 'skipped']), reason: z.enum(['rateLimited', 'disabled']).nullable() }),
);

/** The query of an operation that documents no query parameter: any is invalidRequest. */
export const NoQuery = z.object({}).strict();
