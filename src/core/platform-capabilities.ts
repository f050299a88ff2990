import type { MediaKind } from './attachments.js';

/**
 * What each platform can do, in API v2's terms (GET /platforms, an account link's `capabilities`, a thread's
 * `restrictions`). The sandbox simulates a platform that can do everything; X is described as X API v2 allows
 * it: a DM with text and one attached image, GIF or video (`POST /2/dm_conversations/with/:id/messages`), and
 * the deletion of one's own DM event (`DELETE /2/dm_events/:id`). X API v2 has no DM edit, reaction, reply,
 * forward, typing indicator, message request, read or archive state, nor conversation deletion.
 */
export const CAPABILITIES = [
  'message:send',
  'message:edit',
  'message:delete:self',
  'message:unsend',
  'message:react',
  'message:reply',
  'message:forward',
  'media:image',
  'media:video',
  'media:gif',
  'media:file',
  'media:audio',
  'thread:typing:send',
  'thread:typing:receive',
  'thread:message-requests',
  'thread:delete:remote',
  'directory:typeahead',
  'thread:archive:observe',
  'thread:archive:mutate',
  'thread:read:observe',
  'thread:read:mutate',
  'profile:follow',
  'profile:unfollow',
] as const;

export type Capability = (typeof CAPABILITIES)[number];

export interface ThreadStateSupport {
  observe: boolean;
  mutate: boolean;
}

export interface PlatformDescription {
  platform: 'twitter' | 'sandbox';
  name: string;
  usernamePrefix: string;
  capabilities: readonly Capability[];
  limits: {
    characters: number | null;
    mediaCount: number | null;
    mediaBytes: number | null;
    mediaTypes: Partial<Record<'image' | 'video' | 'gif' | 'file' | 'audio', string[]>> | null;
  };
  /** seconds after a message's creation during which a capability still applies to it */
  mutationWindows: Partial<Record<Capability, number>>;
  threadState: { archive: ThreadStateSupport | null; read: ThreadStateSupport | null };
}

const X: PlatformDescription = {
  platform: 'twitter',
  name: 'X',
  usernamePrefix: '@',
  capabilities: ['message:send', 'message:delete:self', 'media:image', 'media:video', 'media:gif'],
  limits: {
    characters: 10_000,
    mediaCount: 1,
    // X's largest attachment, a video (images are up to 5 MB, GIFs 15 MB).
    mediaBytes: 512 * 1024 * 1024,
    mediaTypes: { image: ['image/jpeg', 'image/png', 'image/webp'], gif: ['image/gif'], video: ['video/mp4', 'video/quicktime'] },
  },
  mutationWindows: {},
  threadState: { archive: null, read: null },
};

const SANDBOX: PlatformDescription = {
  platform: 'sandbox',
  name: 'Sandbox',
  usernamePrefix: '@',
  capabilities: CAPABILITIES,
  limits: { characters: 10_000, mediaCount: 4, mediaBytes: null, mediaTypes: null },
  // An hour to edit or unsend one's message (X's window for editing a post), so a client's handling of
  // mutationWindowClosed can be tried on the sandbox.
  mutationWindows: { 'message:edit': 3600, 'message:unsend': 3600 },
  threadState: { archive: { observe: true, mutate: true }, read: { observe: true, mutate: true } },
};

/** Every platform a team can use, in the order GET /platforms lists them. */
export const PLATFORMS: readonly PlatformDescription[] = [X, SANDBOX];

export const describePlatform = (platform: string): PlatformDescription | undefined => PLATFORMS.find((p) => p.platform === platform);

/** What reaches the other side of a conversation: a message, or a change of one they see. */
const DELIVERED: readonly Capability[] = ['message:send', 'message:reply', 'message:forward', 'message:edit', 'message:unsend', 'message:react'];

/**
 * What a thread's conversation disables on top of its account's capabilities: nothing reaches someone the
 * platform says cannot receive messages (suspended, gone, or with DMs closed): no message, edit, unsend or
 * reaction. Deleting a message for oneself still works.
 */
export function threadRestrictions(recipient: { accountStatus: string; dmsOpen: boolean }): Capability[] {
  return recipient.accountStatus === 'active' && recipient.dmsOpen ? [] : [...DELIVERED];
}

/**
 * What this server's account links cannot do of what their platform can. X API v2 takes a DM's medium only as
 * the id of a medium uploaded first (`POST /2/media/upload`, which needs the `media.write` scope): this server
 * links X accounts without that scope and uploads nothing, so its X account links send text only.
 */
const ACCOUNT_LINKS_LACK: Partial<Record<string, readonly Capability[]>> = { twitter: ['media:image', 'media:video', 'media:gif'] };

/** The capabilities of an account link: its platform's, less what this server's links of it cannot do. */
export const accountCapabilities = (platform: string): Capability[] => {
  const lacks = ACCOUNT_LINKS_LACK[platform] ?? [];
  return (describePlatform(platform)?.capabilities ?? []).filter((c) => !lacks.includes(c));
};

/** Why an operation is not possible, in API v2's terms. */
export type CapabilityRefusal =
  | { code: 'capabilityNotSupported' | 'threadRestricted'; capability: Capability }
  | { code: 'mutationWindowClosed'; capability: Capability; closedAt: Date };

/**
 * Whether `capability` may be used now: the account link must have it, the thread must not restrict it and, for a
 * change of a message created at `createdAt`, the platform's window for it must still be open (it closes
 * `mutationWindows[capability]` seconds after the message was created). Null when it may.
 */
export function capabilityRefusal(
  platform: string,
  capability: Capability,
  restrictions: readonly Capability[],
  message?: { createdAt: Date; now: Date },
): CapabilityRefusal | null {
  if (!accountCapabilities(platform).includes(capability)) return { code: 'capabilityNotSupported', capability };
  if (restrictions.includes(capability)) return { code: 'threadRestricted', capability };
  const window = describePlatform(platform)?.mutationWindows[capability];
  if (message && window !== undefined) {
    const closedAt = new Date(message.createdAt.getTime() + window * 1000);
    if (message.now >= closedAt) return { code: 'mutationWindowClosed', capability, closedAt };
  }
  return null;
}

export type MediaRefusal = { code: 'capabilityNotSupported'; capability: Capability } | { code: 'contentRejected'; detail: string };

/**
 * Why an account link of `platform` cannot send media of these kinds, or null when it can: each kind needs its
 * `media:*` capability (the first missing one is named), and there may be at most the platform's
 * `limits.mediaCount`. Neither sizes nor formats are judged: a medium given by URL has no known size, and the
 * only platform whose account links send media here (the sandbox) takes any format (`mediaTypes` null).
 */
export function mediaRefusal(platform: string, kinds: readonly MediaKind[]): MediaRefusal | null {
  const capabilities = accountCapabilities(platform);
  for (const kind of kinds) {
    const capability = `media:${kind}` as const;
    if (!capabilities.includes(capability)) return { code: 'capabilityNotSupported', capability };
  }
  const description = describePlatform(platform)!;
  const { mediaCount } = description.limits;
  if (mediaCount !== null && kinds.length > mediaCount) return { code: 'contentRejected', detail: `${kinds.length} attachments, over ${description.name}'s ${mediaCount}` };
  return null;
}
