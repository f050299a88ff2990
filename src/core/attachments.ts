/**
 * What a message carries besides its text: media (images, GIFs, videos, audio clips, files) and at most one link
 * card, as the platforms report them. They are stored with the message, in the order given: an attachment's index
 * is its position, stable for the message's life. This server stores no copy of the bytes: `url` is the
 * platform's own address for them.
 */
import { domainOf, filenameOf } from './urls.js';

export const MEDIA_KINDS = ['image', 'gif', 'video', 'audio', 'file'] as const;
export type MediaKind = (typeof MEDIA_KINDS)[number];

export interface MediaAttachment {
  kind: MediaKind;
  /** the platform's URL of the bytes; null when the platform gave none that works (the attachment failed) */
  url: string | null;
  contentType: string | null;
  filename: string | null;
  sizeBytes: number | null;
  width: number | null;
  height: number | null;
  /** videos and audio clips */
  durationSeconds: number | null;
  /** a video's still frame */
  poster: { url: string; width: number | null; height: number | null } | null;
  /** the platform's id of the media (X's media_key), when it has one */
  platformId: string | null;
}

export interface CardAttachment {
  kind: 'card';
  url: string;
  title: string | null;
  description: string | null;
  domain: string | null;
  thumbnail: { url: string; width: number; height: number; alt: string | null } | null;
}

export type MessageAttachment = MediaAttachment | CardAttachment;

export const isCard = (attachment: MessageAttachment): attachment is CardAttachment => attachment.kind === 'card';

/** The media types each kind may have: a GIF is image/gif, the others their family; a file anything. */
const FAMILY: Record<MediaKind, (mimeType: string) => boolean> = {
  image: (t) => t.startsWith('image/') && t !== 'image/gif',
  gif: (t) => t === 'image/gif',
  video: (t) => t.startsWith('video/'),
  audio: (t) => t.startsWith('audio/'),
  file: () => true,
};

/** Why a media type does not fit a kind of attachment, or null when it does. */
export function mediaTypeMismatch(kind: MediaKind, mimeType: string): string | null {
  const type = mimeType.toLowerCase();
  if (FAMILY[kind](type)) return null;
  return kind === 'gif' ? 'a gif is image/gif' : kind === 'image' ? 'an image is image/* other than image/gif (a GIF is kind gif)' : `a ${kind} is ${kind}/*`;
}

/** A media attachment of which only the kind, the URL (if any) and perhaps the media type are known. */
export function plainMedia(kind: MediaKind, url: string | null, mimeType: string | null): MediaAttachment {
  return { kind, url, contentType: mimeType, filename: url ? filenameOf(url) : null, sizeBytes: null, width: null, height: null, durationSeconds: null, poster: null, platformId: null };
}

/** A link card of which only the link is known. */
export const plainCard = (url: string): CardAttachment => ({ kind: 'card', url, title: null, description: null, domain: domainOf(url), thumbnail: null });
