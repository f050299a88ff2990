import type { z } from 'zod';
import type { AccountLinkSchema } from '../../src/http/schemas/account-links.js';
import type { ProspectCampaignSchema } from '../../src/http/schemas/campaign-leads.js';
import type { CreatedInviteSchema, InviteLookupSchema, InviteSchema, WhoAmISchema } from '../../src/http/schemas/auth.js';
import type { CampaignPageSchema } from '../../src/http/schemas/campaigns.js';
import type { StatusSchema, TagSchema } from '../../src/http/schemas/labels.js';
import type { MessagePageSchema, MessageSchema } from '../../src/http/schemas/messages.js';
import type { ContextBody } from '../../src/http/schemas/prospects.js';
import type { MemberSchema } from '../../src/http/schemas/team.js';
import type { ThreadCountsSchema, ThreadPageSchema, ThreadSchema } from '../../src/http/schemas/threads.js';

// The API's own schemas give the page its types.
export type Thread = z.infer<typeof ThreadSchema>;
export type ThreadPage = z.infer<typeof ThreadPageSchema>;
export type ThreadCounts = z.infer<typeof ThreadCountsSchema>;
export type ProspectCampaign = z.infer<typeof ProspectCampaignSchema>;
export type Message = z.infer<typeof MessageSchema>;
export type MessagePage = z.infer<typeof MessagePageSchema>;
export type Tag = z.infer<typeof TagSchema>;
export type Status = z.infer<typeof StatusSchema>;
export type Member = z.infer<typeof MemberSchema>;
export type AccountLink = z.infer<typeof AccountLinkSchema>;
export type CampaignPage = z.infer<typeof CampaignPageSchema>;
export type ContextChange = NonNullable<z.input<typeof ContextBody>>;
export type Me = z.infer<typeof WhoAmISchema>;
export type Invite = z.infer<typeof InviteSchema>;
export type CreatedInvite = z.infer<typeof CreatedInviteSchema>;
export type InviteLookup = z.infer<typeof InviteLookupSchema>;

/** An error the API answered with its envelope, or a network failure said the same way. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** the envelope's details: the field problems of a 400, the reasons of a 422 CAMPAIGN_NOT_READY */
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** A same-origin call with the session cookie (a FormData body goes as multipart); errors come back as ApiError with the API's message. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  let response: Response;
  const form = body instanceof FormData;
  try {
    response = await fetch(`/api/v1${path}`, {
      method,
      credentials: 'same-origin',
      headers: body === undefined || form ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : form ? body : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'NETWORK', 'The server cannot be reached');
  }
  if (response.status === 204) return undefined as T;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = data?.error;
    throw new ApiError(response.status, error?.code ?? 'UNKNOWN', error?.message ?? `Request failed (${response.status})`, error?.details);
  }
  return data as T;
}

/** A query string in the API's bracket notation (arrays as a=1&a=2). */
export function query(params: Record<string, string | number | boolean | string[] | undefined>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === '') continue;
    for (const one of Array.isArray(value) ? value : [value]) parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(one))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}
