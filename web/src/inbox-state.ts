import { computed, signal } from '@preact/signals';
import { api, ApiError, query, type AccountLink, type ContextChange, type Member, type Message, type MessagePage, type ProspectCampaign, type Status, type Tag, type Thread, type ThreadCounts, type ThreadPage } from './api.js';
import { EVENT_TYPES } from '../../src/core/event-types.js';
import { withContextChange } from './components/crm.js';
import { navigate } from './router.js';
import { me } from './session.js';

export type InboxView = 'default' | 'no-reply' | 'requests' | 'archived';

export interface Filters {
  view: InboxView;
  who: 'all' | 'mine' | 'unassigned';
  accountLinkId: string;
  tagId: string;
  statusId: string;
  assigneeId: string;
  campaignId: string;
  q: string;
}

export const filters = signal<Filters>({ view: 'default', who: 'all', accountLinkId: '', tagId: '', statusId: '', assigneeId: '', campaignId: '', q: '' });
export const threads = signal<Thread[]>([]);
export const nextCursor = signal<{ id: string; timestamp: string } | null>(null);
export const loadingList = signal(false);
export const selectedId = signal<string | null>(null);
export const openId = signal<string | null>(null);
export const messages = signal<Message[]>([]);
/** The last refused action's message, shown in an alert region until the next one. */
export const alertMessage = signal('');

export const tags = signal<Tag[]>([]);
export const statuses = signal<Status[]>([]);
export const members = signal<Member[]>([]);
export const accounts = signal<AccountLink[]>([]);
export const campaigns = signal<Array<{ id: string; name: string }>>([]);

/** The open thread as it was when opened (or fetched by its URL): it stays open when it leaves the list. */
const pinned = signal<Thread | null>(null);
export const openThread = computed(() => threads.value.find((thread) => thread.id === openId.value) ?? (pinned.value?.id === openId.value ? pinned.value : null));
/** Unread counts of the views, Mine, Unassigned and each account (GET /threads/counts). */
export const counts = signal<ThreadCounts | null>(null);
/** The open thread's prospect's campaigns, with its state in each. */
export const prospectCampaigns = signal<ProspectCampaign[]>([]);

/** The thread a path under /app/inbox names, if any. */
export const threadIdOf = (path: string): string | null => /^\/app\/inbox\/([0-9a-z]+)$/.exec(path)?.[1] ?? null;

export function setFilters(change: Partial<Filters>): void {
  filters.value = { ...filters.value, ...change };
  void loadFirstPage();
}

function listQuery(cursor?: { id: string; timestamp: string }): string {
  const f = filters.value;
  const assignee = f.who === 'mine' ? me.value?.member.id : f.assigneeId || undefined;
  return query({
    inbox: f.view,
    q: f.q.trim() || undefined,
    accountLinkIds: f.accountLinkId || undefined,
    'filters[tags][selectedIds]': f.tagId || undefined,
    'filters[statuses][selectedIds]': f.statusId || undefined,
    'filters[assignees][selectedIds]': f.who === 'unassigned' ? undefined : assignee,
    'filters[assignees][noAssignee]': f.who === 'unassigned' ? true : undefined,
    'filters[campaigns][selectedIds]': f.campaignId || undefined,
    limit: 50,
    cursorId: cursor?.id,
    cursorTimestamp: cursor?.timestamp,
  });
}

let listRequest = 0;

/** Loads the first page for the current filters; with `keep`, threads already loaded past it stay. */
export async function loadFirstPage(keep = false): Promise<void> {
  const request = ++listRequest;
  loadingList.value = true;
  try {
    const page = await api<ThreadPage>('GET', `/threads${listQuery()}`);
    if (request !== listRequest) return;
    const fresh = new Set(page.threads.map((thread) => thread.id));
    const rest = keep && page.nextCursor ? threads.value.filter((thread) => !fresh.has(thread.id)).slice(page.threads.length) : [];
    threads.value = [...page.threads, ...rest];
    if (!keep || !rest.length) nextCursor.value = page.nextCursor;
    if (!selectedId.value || !threads.value.some((thread) => thread.id === selectedId.value)) selectedId.value = threads.value[0]?.id ?? null;
    void loadCounts();
  } catch (error) {
    if (request === listRequest) alertMessage.value = (error as Error).message;
  } finally {
    if (request === listRequest) loadingList.value = false;
  }
}

export async function loadNextPage(): Promise<void> {
  const cursor = nextCursor.value;
  if (!cursor || loadingList.value) return;
  const request = ++listRequest;
  loadingList.value = true;
  try {
    const page = await api<ThreadPage>('GET', `/threads${listQuery(cursor)}`);
    if (request !== listRequest) return;
    const known = new Set(threads.value.map((thread) => thread.id));
    threads.value = [...threads.value, ...page.threads.filter((thread) => !known.has(thread.id))];
    nextCursor.value = page.nextCursor;
  } finally {
    if (request === listRequest) loadingList.value = false;
  }
}

let countsRequest = 0;

/** Counts go with the list: loaded with each first page (filters changed, an event came) and after our own edits. */
export async function loadCounts(): Promise<void> {
  const request = ++countsRequest;
  try {
    const fresh = await api<ThreadCounts>('GET', `/threads/counts${query({ inbox: filters.value.view })}`);
    if (request === countsRequest) counts.value = fresh;
  } catch {
    // The counts are a hint: the list itself reports what went wrong.
  }
}

export async function loadLookups(): Promise<void> {
  const [tagList, statusList, memberList, accountList, campaignPage] = await Promise.all([
    api<Tag[]>('GET', '/tags'),
    api<Status[]>('GET', '/statuses'),
    api<Member[]>('GET', '/members'),
    api<AccountLink[]>('GET', '/account-links'),
    api<{ campaigns: Array<{ id: string; name: string }> }>('GET', '/campaigns?limit=100'),
  ]);
  tags.value = tagList;
  statuses.value = statusList;
  members.value = memberList;
  accounts.value = accountList;
  campaigns.value = campaignPage.campaigns;
}

export async function loadMessages(threadId: string): Promise<void> {
  const page = await api<MessagePage>('GET', `/threads/${threadId}/messages?limit=100`);
  if (openId.value !== threadId) return;
  messages.value = [...page.messages].reverse();
}

function replaceThread(threadId: string, change: (thread: Thread) => Thread): void {
  threads.value = threads.value.map((thread) => (thread.id === threadId ? change(thread) : thread));
  if (pinned.value?.id === threadId) pinned.value = change(pinned.value);
}

/** Applies a change at once, sends it, and puts the old state back with the API's reason when refused. */
async function optimistic(threadId: string, change: (thread: Thread) => Thread, send: () => Promise<unknown>): Promise<boolean> {
  const before = threads.value.find((thread) => thread.id === threadId) ?? (pinned.value?.id === threadId ? pinned.value : undefined);
  if (!before) return false;
  replaceThread(threadId, change);
  try {
    await send();
    void loadCounts();
    return true;
  } catch (error) {
    replaceThread(threadId, () => before);
    alertMessage.value = error instanceof ApiError ? `Not saved: ${error.message}` : String(error);
    return false;
  }
}

/** Opens a thread (its URL becomes /app/inbox/<id>, so reload and back/forward keep it); loadOpenThread marks it read. */
export function openThreadById(threadId: string): void {
  selectedId.value = threadId;
  const path = `/app/inbox/${threadId}`;
  if (openId.value !== threadId) {
    openId.value = threadId;
    pinned.value = threads.value.find((one) => one.id === threadId) ?? null;
    messages.value = [];
    prospectCampaigns.value = [];
    void loadMessages(threadId).catch((error: Error) => (alertMessage.value = error.message));
    void loadOpenThread(threadId);
  } else if (openThread.value?.unread) void setUnread(threadId, false);
  navigate(path);
}

/** Reads the open thread itself (it may not be in the list, e.g. opened by its URL) and its prospect's campaigns. */
async function loadOpenThread(threadId: string): Promise<void> {
  try {
    const thread = pinned.value?.id === threadId ? pinned.value : await api<Thread>('GET', `/threads/${threadId}`);
    if (openId.value !== threadId) return;
    pinned.value = thread;
    if ((threads.value.find((one) => one.id === threadId) ?? thread).unread) void setUnread(threadId, false);
    const campaignsOfProspect = thread.prospect.externalId ? await api<ProspectCampaign[]>('GET', `/prospects/${thread.prospect.externalId}/campaigns`) : [];
    if (openId.value === threadId) prospectCampaigns.value = campaignsOfProspect;
  } catch (error) {
    if (openId.value === threadId) alertMessage.value = (error as Error).message;
  }
}

/** Closes the open thread; the URL goes back to the inbox's own. */
export function closeThread(): void {
  openId.value = null;
  pinned.value = null;
  if (threadIdOf(location.pathname)) navigate('/app/inbox');
}

export function setUnread(threadId: string, unread: boolean): Promise<boolean> {
  return optimistic(threadId, (thread) => ({ ...thread, unread }), () => api('PATCH', `/threads/${threadId}`, { unread }));
}

export function patchThread(threadId: string, body: { done?: boolean; assigneeId?: string | null }): Promise<boolean> {
  return optimistic(threadId, (thread) => ({ ...thread, ...body }), () => api('PATCH', `/threads/${threadId}`, body));
}

/** Marks a thread done and moves on to the next one, as a person working down the list expects. */
export async function markDone(threadId: string): Promise<void> {
  const index = threads.value.findIndex((thread) => thread.id === threadId);
  const done = await patchThread(threadId, { done: true });
  if (!done || filters.value.view === 'archived') return;
  threads.value = threads.value.filter((thread) => thread.id !== threadId);
  const next = threads.value[Math.min(index, threads.value.length - 1)];
  selectedId.value = next?.id ?? null;
  if (openId.value === threadId) closeThread();
}

export function patchProspect(threadId: string, change: ContextChange): Promise<boolean> {
  const thread = threads.value.find((one) => one.id === threadId);
  const prospectId = thread?.prospect.externalId;
  if (!thread || !prospectId) return Promise.resolve(false);
  return optimistic(
    threadId,
    (current) => {
      const context = withContextChange(current.prospect.context, change);
      return { ...current, ...(change.assigneeId !== undefined ? { assigneeId: change.assigneeId } : {}), prospect: { ...current.prospect, context } };
    },
    () => api('PATCH', `/prospects/${prospectId}/context`, change),
  );
}

export async function sendReply(threadId: string, content: string): Promise<boolean> {
  try {
    const message = await api<Message>('POST', `/threads/${threadId}/messages`, { content });
    if (openId.value === threadId && !messages.value.some((one) => one.id === message.id)) messages.value = [...messages.value, message];
    void loadFirstPage(true);
    return true;
  } catch (error) {
    alertMessage.value = error instanceof ApiError ? `Not sent: ${error.message}` : String(error);
    return false;
  }
}

let stream: EventSource | null = null;

/** Follows the team's event stream; after a reconnect the first page is fetched again, since events may have been missed. */
export function followEvents(): () => void {
  stream?.close();
  const source = new EventSource('/api/v1/events/stream', { withCredentials: true });
  stream = source;
  let failed = false;
  let pending: ReturnType<typeof setTimeout> | undefined;
  const refresh = (refreshMessages: boolean) => {
    clearTimeout(pending);
    // Events come in bursts (a send writes a few); one refetch per burst is enough.
    pending = setTimeout(() => {
      void loadFirstPage(true);
      if (refreshMessages && openId.value) void loadMessages(openId.value).catch(() => undefined);
    }, 100);
  };
  source.onopen = () => {
    if (failed) refresh(true);
    failed = false;
  };
  source.onerror = () => {
    failed = true;
  };
  for (const type of EVENT_TYPES.filter((one) => /^(message|thread|prospect)\./.test(one) && one !== 'thread.typing')) {
    source.addEventListener(type, () => refresh(type.startsWith('message.')));
  }
  return () => {
    clearTimeout(pending);
    source.close();
    if (stream === source) stream = null;
  };
}

/** Drafts live in localStorage per thread, so switching threads or reloading keeps them. */
export const drafts = {
  get: (threadId: string) => localStorage.getItem(`inbox.draft.${threadId}`) ?? '',
  set: (threadId: string, text: string) => {
    if (text) localStorage.setItem(`inbox.draft.${threadId}`, text);
    else localStorage.removeItem(`inbox.draft.${threadId}`);
  },
};
