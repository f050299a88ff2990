import type { MessageHistory } from '../../app/inbox/messages.js';
import { isCard, type CardAttachment, type MediaAttachment, type MessageAttachment } from '../../core/attachments.js';
import type { MessageOrigin } from '../../store/schema.js';

/**
 * How v2 shows a message's attachments and history. An attachment's `url` is the platform's own: this server
 * neither stores nor proxies the bytes, so a URL is ready as soon as the message is, and expires when the
 * platform's does (we know of no expiry: `expiresAt` is null).
 */

export function v2Media(media: MediaAttachment, index: number) {
  const { kind, url, filename, contentType, sizeBytes, width, height, durationSeconds, poster } = media;
  return {
    index,
    kind,
    filename,
    contentType,
    sizeBytes,
    width,
    height,
    aspectRatio: width && height ? width / height : null,
    durationSeconds,
    // Failed: the platform gave no URL that works (an X video without an MP4 encoding).
    status: url ? ('ready' as const) : ('failed' as const),
    url,
    expiresAt: null,
    poster: poster && url ? { ...poster, expiresAt: null } : null,
  };
}

const v2Card = ({ url, title, description, domain, thumbnail }: CardAttachment, index: number) => ({ index, kind: 'card' as const, url, title, description, domain, thumbnail });

export const v2Attachment = (attachment: MessageAttachment, index: number) => (isCard(attachment) ? v2Card(attachment, index) : v2Media(attachment, index));

/** Where a change was made, in v2's words: our web app (v1's internal), the platform itself (external), the API. */
const ORIGINS: Record<MessageOrigin, 'inbox' | 'platform' | 'api'> = { internal: 'inbox', external: 'platform', api: 'api' };
const originOf = (origin: MessageOrigin | null) => (origin ? ORIGINS[origin] : null);

/** v1's history (every text, oldest first, and the deletion) in v2's shape; times are when this server saw each. */
export const v2History = (history: MessageHistory) => ({
  versions: history.versions.map((v, i) => ({ content: v.content, createdAt: v.createdAt, origin: originOf(i === 0 ? v.origin : v.editOrigin) })),
  deletion: history.deletion && { deletedAt: history.deletion.deletedAt, scope: history.deletion.deletionType, origin: originOf(history.deletion.origin) },
  times: 'observed' as const,
});
