import { z } from 'zod';

export const XAuthorizeResponse = z.object({ url: z.url().describe('send the user here to approve the link on X') });

/** X sends the user back with code and state, or with error and state when they refused. */
export const XCallbackQuery = z.union([
  z.object({ state: z.string().min(1).max(200), code: z.string().min(1).max(2000) }),
  z.object({ state: z.string().min(1).max(200), error: z.string().min(1).max(200) }),
]);

export const XCrcQuery = z.object({ crc_token: z.string().min(1).max(500) });
export const XCrcResponse = z.object({ response_token: z.string() });

/** A DM's medium in X's v1.1 format: the parts the adapter reads. */
const ActivityAttachment = z.looseObject({
  type: z.string().optional(),
  media: z
    .looseObject({
      id_str: z.string().optional(),
      type: z.string().optional(),
      media_url_https: z.string().optional(),
      original_info: z.looseObject({ width: z.number(), height: z.number() }).optional(),
      sizes: z.looseObject({ large: z.looseObject({ w: z.number(), h: z.number() }).optional() }).optional(),
      video_info: z
        .looseObject({
          duration_millis: z.number().optional(),
          variants: z.array(z.looseObject({ bitrate: z.number().optional(), content_type: z.string(), url: z.string() })).optional(),
        })
        .optional(),
    })
    .optional(),
});

/** Account Activity deliveries: only the DM events are read; everything else passes untouched. */
export const AccountActivityBody = z.looseObject({
  for_user_id: z.string().optional(),
  direct_message_events: z
    .array(
      z.looseObject({
        type: z.string().optional(),
        id: z.string().optional(),
        created_timestamp: z.string().optional(),
        message_create: z
          .looseObject({
            target: z.looseObject({ recipient_id: z.string().optional() }).optional(),
            sender_id: z.string().optional(),
            message_data: z.looseObject({ text: z.string().optional(), attachment: ActivityAttachment.optional() }).optional(),
          })
          .optional(),
      }),
    )
    .optional(),
});
