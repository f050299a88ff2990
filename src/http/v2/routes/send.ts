import { z } from 'zod';
import type { AppContext } from '../../../app/context.js';
import { MAX_SEND_ATTACHMENTS, sendOnce, sentMessage } from '../../../app/inbox/sends.js';
import { MEDIA_KINDS, mediaTypeMismatch } from '../../../core/attachments.js';
import { AppError } from '../../../core/errors.js';
import { IdSchema, MediaType, MediaUrl } from '../../schemas/common.js';
import type { Api } from '../../api.js';
import { platformNotAvailable, V2Error } from '../errors.js';
import { errorResponses, MessageSchema, PlatformName, ThreadSchema, v2Registry } from '../schemas.js';
import { presentV2Messages } from './threads.js';

const SendTarget = z.discriminatedUnion('type', [
  z.object({ type: z.literal('thread'), threadId: IdSchema }).strict(),
  z.object({ type: z.literal('contact'), accountLinkId: IdSchema, contactId: IdSchema }).strict(),
  z.object({ type: z.literal('profile'), accountLinkId: IdSchema, platform: PlatformName, platformId: z.string().min(1).max(255) }).strict(),
]);

/** A medium to attach, by the URL of its bytes (this server stores none; there is no upload). */
const SendMedia = z
  .object({
    kind: z.enum(MEDIA_KINDS),
    url: MediaUrl,
    contentType: MediaType.optional().describe("checked against the platform's `limits.mediaTypes`"),
    filename: z.string().min(1).max(255).optional().describe("shown as the attachment's `filename`; by default the URL's last path segment"),
  })
  .strict()
  .superRefine((media, ctx) => {
    const problem = media.contentType === undefined ? null : mediaTypeMismatch(media.kind, media.contentType);
    if (problem) ctx.addIssue({ code: 'custom', path: ['contentType'], message: problem });
  });

// No upper bound on content here: over the platform's `limits.characters` is 422 contentRejected, as documented.
// `attachments` is ours: the vendor's SendRequest takes no media. Past the platform's `limits.mediaCount` it is 422
// contentRejected; the bound here only caps the request.
const SendBody = z
  .object({
    target: SendTarget,
    content: z.string().min(1),
    replyToMessageId: IdSchema.optional(),
    attachments: z
      .array(SendMedia)
      .min(1)
      .max(MAX_SEND_ATTACHMENTS)
      .optional()
      .describe(
        "An extension of this server, not a field of the vendor's Inbox API v2: media to send with the text, in order. Each kind needs the account link's `media:*` capability (else 422 capabilityNotSupported), and the platform's `limits` must take them (else 422 contentRejected).",
      ),
  })
  .strict();

// Loose: the request's other headers stay as they are for whatever reads them after validation.
const SendHeaders = z.looseObject({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .regex(/^[\x20-\x7E]+$/, 'printable ASCII only')
    .optional()
    .describe('Makes retries safe: a replay with the same key and body returns the original message. Scoped to the team.'),
});

const SendResultSchema = z.object({ message: MessageSchema, thread: ThreadSchema });
v2Registry.add(SendResultSchema, { id: 'SendResult' });

type Details = Record<string, unknown>;

/** The use case's refusals of a send, in the codes and details POST /messages documents. */
function sendError(error: AppError, now: Date): V2Error | null {
  const details = (error.details ?? {}) as Details;
  const v2 = (status: number, code: string, shown: Details | null) => new V2Error(status, code, error.message, shown);
  switch (error.code) {
    case 'PLATFORM_NOT_AVAILABLE':
      return platformNotAvailable(String(details.platform));
    case 'PLATFORM_MISMATCH':
      return v2(422, 'platformNotSupported', { platform: details.platform, supported: details.supported });
    case 'RECIPIENT_UNREACHABLE':
      return v2(422, 'recipientUnavailable', { reason: typeof details.reason === 'string' ? details.reason : error.message });
    case 'PROFILE_AMBIGUOUS':
      return v2(422, 'profileAmbiguous', { contactId: details.contactId, platform: details.platform });
    case 'THREAD_RESTRICTED':
      return v2(422, 'threadRestricted', { capability: details.capability });
    case 'CAPABILITY_NOT_SUPPORTED':
      return v2(422, 'capabilityNotSupported', { capability: details.capability });
    case 'CONTENT_REJECTED':
      return v2(422, 'contentRejected', { detail: details.detail });
    case 'IDEMPOTENCY_KEY_REUSED':
      return v2(422, 'idempotencyKeyReused', null);
    case 'SEND_IN_PROGRESS':
      return v2(409, 'sendInProgress', { messageId: details.messageId });
    case 'ACCOUNT_LINK_NOT_ACTIVE':
    case 'ACCOUNT_LINK_OFFLINE':
      return v2(409, 'accountLinkDisconnected', { accountLinkId: details.accountLinkId, status: details.status });
    case 'PLATFORM_RATE_LIMITED': {
      const resetAt = typeof details.resetAt === 'string' ? Date.parse(details.resetAt) : NaN;
      return v2(429, 'platformRateLimited', { retryAfterSeconds: Number.isNaN(resetAt) ? null : Math.max(0, Math.ceil((resetAt - now.getTime()) / 1000)) });
    }
    case 'SEND_UNCONFIRMED':
      return v2(502, 'sendUnconfirmed', { messageId: details.messageId });
    case 'SEND_OUTCOME_UNKNOWN':
      return v2(502, 'platformError', null);
    case 'PLATFORM_UNAVAILABLE':
      return v2(503, 'platformUnavailable', { retryAfterSeconds: null });
    default:
      return null;
  }
}

/** POST /messages: one send to a thread, a contact or a profile, at most once per Idempotency-Key (app/sends.ts). */
export function sendV2Routes(api: Api, ctx: AppContext): void {
  api.post(
    '/messages',
    {
      schema: {
        tags: ['Messages'],
        summary: 'Send a message to a thread, a contact or a profile; 201 for a new send, 200 for a replay of its Idempotency-Key',
        headers: SendHeaders,
        querystring: z.object({}).strict(),
        body: SendBody,
        response: { 200: SendResultSchema, 201: SendResultSchema, ...errorResponses },
      },
    },
    async (req, reply) => {
      const { teamId } = req.actor;
      let outcome;
      try {
        outcome = await sendOnce(ctx, req.actor, req.body, req.headers['idempotency-key']);
      } catch (error) {
        throw (error instanceof AppError && sendError(error, ctx.clock.now())) || error;
      }
      const { message, thread } = await sentMessage(ctx.db, teamId, outcome.messageId);
      // The message with its thread embedded: the thread as the result shows it, read once.
      const { thread: shownThread, ...shownMessage } = (await presentV2Messages(ctx, teamId, thread, [message], new Set(['thread'])))[0]!;
      return reply.code(outcome.replayed ? 200 : 201).send({ message: shownMessage, thread: shownThread! });
    },
  );
}
