/** Every event type we emit (spec section 5.2), grouped by category (the part before the dot). */
export const EVENT_TYPES = [
  'thread.created',
  'thread.deleted',
  'thread.assigned',
  'thread.unassigned',
  'thread.archived',
  'thread.unarchived',
  'thread.typing',
  'message.created',
  'message.edited',
  'message.deleted',
  'message.reactionAdded',
  'message.reactionRemoved',
  'prospect.created',
  'prospect.statusChanged',
  'prospect.tagsChanged',
  'prospect.notesChanged',
  'prospect.valuationChanged',
  'prospect.enriched',
  'prospect.assigneeChanged',
  'tag.created',
  'tag.updated',
  'tag.deleted',
  'status.created',
  'status.updated',
  'status.deleted',
  'campaign.created',
  'campaign.started',
  'campaign.paused',
  'campaign.resumed',
  'campaign.completed',
  'target.contacted',
  'target.followUpSent',
  'target.replied',
  'target.liked',
  'target.failed',
  'importJob.updated',
  'webhook.disabled',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export const EVENT_CATEGORIES = [...new Set(EVENT_TYPES.map((t) => t.split('.')[0]!))];

export const categoryOf = (type: EventType) => type.split('.')[0]!;
