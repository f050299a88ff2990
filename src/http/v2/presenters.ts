import type { AccountLink } from '../../app/accounts/account-links.js';
import { primaryProfile, type ContactRecord, type ThreadRecords } from '../../app/prospects/contacts.js';
import { domainOf } from '../../core/urls.js';
import type { Label } from '../../app/prospects/labels.js';
import type { Member } from '../../app/team/members.js';
import type { Team } from '../../app/team/teams.js';
import { messageEntities } from '../../core/message-entities.js';
import { accountCapabilities, threadRestrictions } from '../../core/platform-capabilities.js';
import { iso, isoOrNull } from '../../core/time.js';
import type { MessageRow, ProfileRow, ProspectRow, ThreadRow } from '../../store/schema.js';
import { v2Attachment } from './message-presenters.js';

/**
 * How API v2 shows what v1 shows otherwise: the same rows, read by the same use cases, in the vendor's v2 shapes
 * (docs/api-v2.md maps each field to its v1 counterpart).
 */

export const v2Team = (team: Team) => ({
  id: team.id,
  name: team.name,
  slug: team.slug,
  imageUrl: team.image,
  currency: team.currency,
  allowSupportAccess: team.allowSupportAccess,
  createdAt: team.createdAt,
});

export const v2Member = (member: Member) => ({
  id: member.id,
  name: member.name,
  email: member.email,
  imageUrl: member.image,
  role: member.role,
  createdAt: member.createdAt,
});

export type V2Member = ReturnType<typeof v2Member>;

export const v2AccountLink = (link: AccountLink) => ({
  id: link.id,
  platform: link.platform,
  platformId: link.platformId,
  username: link.username,
  displayName: link.name,
  avatarUrl: link.image,
  status: link.status,
  // The only pause we have is a member's: PATCH /api/v1/account-links/{id} with status paused.
  pauseReasons: link.status === 'paused' ? ['manual'] : [],
  capabilities: accountCapabilities(link.platform),
  syncedAt: link.syncedAt,
  createdAt: link.createdAt,
});

export type V2AccountLink = ReturnType<typeof v2AccountLink>;

const BADGES = { none: null, verified: 'blue', business: 'gold', government: 'gray' } as const;

const accountStatusOf = (status: string): 'active' | 'suspended' | 'notFound' => (status === 'active' ? 'active' : status === 'suspended' ? 'suspended' : 'notFound');

/** A profile. Its platform data is its contact's row (the only profiles so far are contacts' first ones). */
export function v2Profile(profile: ProfileRow, row: ProspectRow) {
  return {
    id: profile.id,
    platform: profile.platform,
    platformId: profile.platform_id,
    username: row.username,
    handle: `@${row.username}`,
    displayName: row.display_name,
    avatarUrl: row.image,
    bio: row.bio,
    location: row.location,
    websiteUrl: row.website_url,
    websiteDomain: domainOf(row.website_url),
    verified: row.verified !== 'none',
    isOrganization: row.profile_type === 'business',
    isProtected: row.is_protected,
    followerCount: row.follower_count,
    followingCount: row.following_count,
    postCount: row.post_count,
    engagementCount: null,
    listedCount: row.listed_count,
    accountStatus: accountStatusOf(row.account_status),
    platformCreatedAt: isoOrNull(row.platform_created_at),
    profileUrl: profile.platform === 'twitter' ? `https://x.com/${row.username}` : null,
    updatedAt: iso(row.last_enriched_at ?? row.created_at),
    platformData:
      profile.platform === 'twitter'
        ? { _tag: 'twitter' as const, badge: BADGES[row.verified], profileType: row.profile_type, professionalCategory: null, urlEntities: [], bannerUrl: null, rawData: null }
        : { _tag: profile.platform },
  };
}

export type V2Profile = ReturnType<typeof v2Profile>;

export const v2Tag = (label: Label) => ({ id: label.id, name: label.name, color: label.color ?? '#6b7280' });
export const v2Status = (label: Label) => ({ id: label.id, name: label.name, color: label.color, createdAt: label.createdAt });

/** What an expansion may embed, read once for a whole page. */
export interface Expansions {
  tags?: Map<string, Label>;
  statuses?: Map<string, Label>;
  members?: Map<string, Member>;
  accountLinks?: Map<string, AccountLink>;
}

export function v2Contact(contact: ContactRecord, expand: ReadonlySet<string> = new Set(), known: Expansions = {}) {
  const { row } = contact;
  const status = expand.has('status') && row.status_id ? known.statuses?.get(row.status_id) : undefined;
  const assignee = expand.has('assignee') && row.assignee_id ? known.members?.get(row.assignee_id) : undefined;
  return {
    id: row.id,
    profiles: contact.profiles.map((p) => v2Profile(p, row)),
    statusId: row.status_id,
    tagIds: contact.tagIds,
    notes: row.notes,
    valuation: row.valuation,
    assigneeId: row.assignee_id,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    ...(status ? { status: v2Status(status) } : {}),
    ...(expand.has('tags') ? { tags: contact.tagIds.flatMap((id) => (known.tags?.get(id) ? [v2Tag(known.tags.get(id)!)] : [])) } : {}),
    ...(assignee ? { assignee: v2Member(assignee) } : {}),
  };
}

const typingIndicatorsOf = (enabled: boolean | null): 'enabled' | 'disabled' | 'teamDefault' => (enabled === null ? 'teamDefault' : enabled ? 'enabled' : 'disabled');
const directionOf = (outbound: boolean): 'outbound' | 'inbound' => (outbound ? 'outbound' : 'inbound');

export function v2Thread(row: ThreadRow, records: ThreadRecords, expand: ReadonlySet<string> = new Set(), known: Expansions = {}) {
  const contact = records.contacts.get(row.prospect_id)!;
  const profile = primaryProfile(contact);
  const last =
    row.last_message_id && row.last_message_at
      ? { id: row.last_message_id, direction: directionOf(row.last_message_outbound ?? false), createdAt: iso(row.last_message_at) }
      : null;
  const link = expand.has('accountLink') ? known.accountLinks?.get(row.account_link_id) : undefined;
  const assignee = expand.has('assignee') && row.assignee_id ? known.members?.get(row.assignee_id) : undefined;
  return {
    id: row.id,
    platform: row.platform,
    // The conversation exists on the platform once a message went either way.
    platformId: row.has_inbound || row.has_outbound || row.last_message_id ? row.platform_id : null,
    accountLinkId: row.account_link_id,
    profileId: profile.id,
    contactId: contact.row.id,
    assigneeId: row.assignee_id ?? contact.row.assignee_id,
    isRequest: row.is_request,
    acceptanceState: row.platform === 'sandbox' ? ('notRequired' as const) : ('unknown' as const),
    archived: row.done,
    unread: row.unread,
    restrictions: threadRestrictions({ accountStatus: contact.row.account_status, dmsOpen: contact.row.dms_open }),
    syncing: row.is_syncing,
    typingIndicators: typingIndicatorsOf(row.typing_indicators_enabled),
    lastMessage: last,
    activity: last ? { preview: records.lastContent.get(last.id) ?? null, direction: last.direction, at: last.createdAt } : null,
    createdAt: iso(row.created_at),
    ...(link ? { accountLink: v2AccountLink(link) } : {}),
    ...(expand.has('profile') ? { profile: v2Profile(profile, contact.row) } : {}),
    ...(expand.has('contact') ? { contact: v2Contact(contact) } : {}),
    ...(assignee ? { assignee: v2Member(assignee) } : {}),
  };
}

export type V2Thread = ReturnType<typeof v2Thread>;

/** Who sent an outbound message: a campaign, a member (through the web app or a token of theirs), or no one we know. */
function sentByOf(row: MessageRow, memberOfUser: ReadonlyMap<string, Member>, expandMember: boolean) {
  if (!row.outbound) return null;
  if (row.campaign_id) return { type: 'campaign' as const, campaignId: row.campaign_id, stepId: row.campaign_step_id };
  const member = row.user_id ? memberOfUser.get(row.user_id) : undefined;
  if (member) return { type: 'member' as const, memberId: member.id, ...(expandMember ? { member: v2Member(member) } : {}) };
  return null;
}

export interface MessageContext {
  thread: ThreadRow;
  contact: ContactRecord;
  accountPlatformId: string;
  memberOfUser: ReadonlyMap<string, Member>;
  replied: ReadonlyMap<string, MessageRow>;
}

export function v2Message(row: MessageRow, context: MessageContext, expand: ReadonlySet<string> = new Set(), embedded: { thread?: V2Thread; accountLink?: V2AccountLink } = {}) {
  const profile = primaryProfile(context.contact);
  const replied = row.reply_to_message_id ? context.replied.get(row.reply_to_message_id) : undefined;
  return {
    id: row.id,
    threadId: row.thread_id,
    accountLinkId: context.thread.account_link_id,
    platform: row.platform,
    platformId: row.platform_id,
    direction: directionOf(row.outbound),
    sentBy: sentByOf(row, context.memberOfUser, expand.has('sentBy')),
    content: row.content,
    // Derived from the text as it is now, so they follow its edits (core/message-entities.ts).
    entities: messageEntities(row.content, row.platform),
    attachments: row.attachments.map(v2Attachment),
    forwarded: null,
    reactions: row.reactions.map((r) => ({
      emoji: r.emoji,
      author:
        r.senderPlatformId === context.accountPlatformId
          ? { type: 'accountLink' as const, accountLinkId: context.thread.account_link_id }
          : r.senderPlatformId === profile.platform_id
            ? { type: 'profile' as const, profileId: profile.id, contactId: context.contact.row.id }
            : { type: 'unknown' as const, platformId: r.senderPlatformId },
      createdAt: r.createdAt ?? null,
    })),
    editedAt: row.is_edited ? isoOrNull(row.updated_at) : null,
    deletedAt: isoOrNull(row.deleted_at),
    createdAt: iso(row.created_at),
    platformData: row.platform === 'twitter' ? { _tag: 'twitter' as const, encrypted: row.is_encrypted ?? false } : { _tag: row.platform },
    replyTo: row.reply_to_message_id
      ? {
          messageId: replied ? replied.id : null,
          platformId: replied?.platform_id ?? null,
          content: replied?.content ?? '',
          authorName: replied ? (replied.outbound ? null : context.contact.row.display_name) : null,
        }
      : null,
    ...(embedded.thread ? { thread: embedded.thread } : {}),
    ...(embedded.accountLink ? { accountLink: embedded.accountLink } : {}),
  };
}
