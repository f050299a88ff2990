/**
 * API v2's presentation of the event log, shared by v2's GET /events and the deliveries of v2 webhook endpoints
 * (which also filter on its names): pure, from an event as the log holds it.
 */

/** An event as the log holds it (app/events.ts EventEnvelope is one). */
export interface LoggedEvent {
  id: string;
  seq: number;
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

/**
 * One event log, two presentations: a v1 event in v2's name and thin payload, or null for the v1 events v2 has
 * no counterpart of (prospect.created, prospect.enriched, target.liked, target.failed, importJob.updated,
 * webhook.disabled). Same id, same seq.
 */
export function v2Event(event: LoggedEvent) {
  const shown = v2EventBody(event);
  if (!shown) return null;
  const [type, object, data] = shown;
  return { id: event.id, seq: event.seq, type, apiVersion: '2' as const, createdAt: event.timestamp, object: { ...object, url: `/${object.type === 'status' ? 'statuses' : `${object.type}s`}/${object.id}` }, data };
}

type Obj = { type: string; id: string };
const idIn = (value: unknown): string => (value && typeof value === 'object' ? String((value as { id?: unknown }).id ?? '') : '');
const field = (value: unknown, key: string): unknown => (value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined);

/** The v2 type of an event, or null when v2 has no counterpart of it (it is neither listed nor delivered). */
export const v2TypeOf = (event: LoggedEvent): string | null => v2EventBody(event)?.[0] ?? null;

function v2EventBody(event: LoggedEvent): [string, Obj, Record<string, unknown>] | null {
  const d = event.data;
  const thread = (): Obj => ({ type: 'thread', id: idIn(d.thread) });
  const contact = (): Obj => ({ type: 'contact', id: String(field(d.prospect, 'externalId') ?? '') });
  const context = (key: string) => field(field(d.prospect, 'context'), key);
  switch (event.type) {
    case 'thread.created':
    case 'thread.archived':
    case 'thread.unarchived':
    case 'thread.typing':
      return [event.type, thread(), {}];
    case 'thread.deleted':
      return [event.type, thread(), { accountLinkId: field(d.thread, 'accountLinkId'), platform: field(d.thread, 'platform') }];
    case 'thread.assigned':
    case 'thread.unassigned':
      return [event.type, thread(), { assigneeId: field(d.thread, 'assigneeId') ?? null }];
    case 'message.created':
      return [field(d.message, 'authorId') === field(d.thread, 'accountLinkId') ? 'message.sent' : 'message.received', { type: 'message', id: idIn(d.message) }, { threadId: field(d.message, 'threadId') }];
    case 'message.edited':
      return [event.type, { type: 'message', id: idIn(d.message) }, { threadId: d.threadId }];
    case 'message.deleted':
      return [event.type, { type: 'message', id: String(d.messageId) }, { threadId: d.threadId, scope: d.scope ?? 'all' }];
    case 'message.reactionAdded':
    case 'message.reactionRemoved':
      return [event.type, { type: 'message', id: String(d.messageId) }, { threadId: d.threadId, emoji: field(d.reaction, 'emoji'), authorPlatformId: field(d.reaction, 'senderPlatformId') }];
    case 'prospect.statusChanged':
      return ['contact.statusChanged', contact(), { statusId: context('statusId') ?? null }];
    case 'prospect.tagsChanged':
      return ['contact.tagsChanged', contact(), { tagIds: context('tags') ?? [] }];
    case 'prospect.notesChanged':
      return ['contact.notesChanged', contact(), { notes: context('notes') ?? null }];
    case 'prospect.valuationChanged':
      return ['contact.valuationChanged', contact(), { valuation: context('valuation') ?? null }];
    case 'prospect.assigneeChanged':
      return ['contact.assigneeChanged', contact(), { assigneeId: context('assigneeId') ?? null }];
    case 'tag.created':
    case 'tag.updated':
    case 'tag.deleted':
      return [event.type, { type: 'tag', id: idIn(d.tag) }, {}];
    case 'status.created':
    case 'status.updated':
    case 'status.deleted':
      return [event.type, { type: 'status', id: idIn(d.status) }, {}];
    case 'campaign.created':
    case 'campaign.started':
    case 'campaign.paused':
    case 'campaign.resumed':
    case 'campaign.completed':
      return [event.type, { type: 'campaign', id: idIn(d.campaign) }, {}];
    case 'target.contacted':
    case 'target.followUpSent':
    case 'target.replied':
      return [
        event.type,
        { type: 'campaign', id: idIn(d.campaign) },
        { threadId: idIn(d.thread), messageId: idIn(d.message), contactId: field(d.prospect, 'externalId') ?? null, stepNumber: typeof field(d.step, 'rank') === 'number' ? (field(d.step, 'rank') as number) + 1 : null },
      ];
    default:
      return null;
  }
}

/** v2's event types, for GET /events' `type` filter and a v2 webhook endpoint's `types`. */
export const V2_EVENT_TYPES = [
  'thread.created', 'thread.deleted', 'thread.assigned', 'thread.unassigned', 'thread.archived', 'thread.unarchived', 'thread.typing',
  'message.sent', 'message.received', 'message.edited', 'message.deleted', 'message.reactionAdded', 'message.reactionRemoved',
  'contact.statusChanged', 'contact.tagsChanged', 'contact.notesChanged', 'contact.valuationChanged', 'contact.assigneeChanged',
  'tag.created', 'tag.updated', 'tag.deleted', 'status.created', 'status.updated', 'status.deleted',
  'campaign.created', 'campaign.started', 'campaign.paused', 'campaign.resumed', 'campaign.completed',
  'target.contacted', 'target.followUpSent', 'target.replied',
] as const;
