import { z } from 'zod';

export const XAuthorizeResponse = z.object({ url: z.url().describe('send the user here to approve the link on X') });

/** X sends the user back with code and state, or with error and state when they refused. */
export const XCallbackQuery = z.union([
  z.object({ state: z.string().min(1).max(200), code: z.string().min(1).max(2000) }),
  z.object({ state: z.string().min(1).max(200), error: z.string().min(1).max(200) }),
]);

export const XCrcQuery = z.object({ crc_token: z.string().min(1).max(500) });
export const XCrcResponse = z.object({ response_token: z.string() });

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
            message_data: z.looseObject({ text: z.string().optional() }).optional(),
          })
          .optional(),
      }),
    )
    .optional(),
});
