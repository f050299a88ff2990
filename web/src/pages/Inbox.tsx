import { useSignal } from '@preact/signals';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { Thread } from '../api.js';
import {
  accounts, alertMessage, campaigns, closeThread, counts, drafts, filters, followEvents, loadFirstPage, loadingList, loadLookups, loadNextPage,
  markDone, members, messages, nextCursor, openId, openThread, openThreadById, patchProspect, patchThread, prospectCampaigns, selectedId,
  sendReply, setFilters, setUnread, statuses, tags, threadIdOf, threads, type Filters, type InboxView,
} from '../inbox-state.js';
import { activatesTarget, isTyping } from '../keys.js';
import { route } from '../router.js';
import { me } from '../session.js';

const ROW_HEIGHT = 76;
const VIEWS: Array<[InboxView, string]> = [['default', 'Inbox'], ['no-reply', 'No reply'], ['requests', 'Requests'], ['archived', 'Archived']];

function time(iso: string | null): string {
  if (!iso) return '';
  const date = new Date(iso);
  const today = new Date().toDateString() === date.toDateString();
  return today ? date.toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' }) : date.toLocaleDateString([], { month: 'short', day: 'numeric' });
}

function memberName(id: string | null): string {
  if (!id) return '';
  const member = members.value.find((one) => one.id === id);
  return member ? member.name || member.email : 'Someone';
}

function initials(name: string): string {
  return name.split(/\s+/).filter(Boolean).slice(0, 2).map((part) => part[0]!.toUpperCase()).join('') || '?';
}

function Avatar({ thread }: { thread: Thread }) {
  const { image, displayName } = thread.prospect;
  return image ? <img class="avatar" src={image} alt="" /> : <span class="avatar" aria-hidden="true">{initials(displayName)}</span>;
}

/** The left pane: each entry shows its unread threads (Mine, Unassigned and the accounts: within the chosen view). */
function Views() {
  const f = filters.value;
  const c = counts.value;
  const item = (label: string, active: boolean, change: Partial<Filters>, unread?: number) => (
    <li>
      <button class="view" aria-pressed={active} onClick={() => setFilters(change)}>
        <span class="view-label">{label}</span>
        {!!unread && (
          <span class="count">
            {unread.toLocaleString()}
            <span class="visually-hidden"> unread</span>
          </span>
        )}
      </button>
    </li>
  );
  return (
    <nav class="views" aria-label="Views">
      <ul>{VIEWS.map(([view, label]) => item(label, f.view === view, { view }, c?.views[view]))}</ul>
      <h2>Assigned</h2>
      <ul>
        {item('Everyone', f.who === 'all', { who: 'all' })}
        {item('Mine', f.who === 'mine', { who: 'mine' }, c?.mine)}
        {item('Unassigned', f.who === 'unassigned', { who: 'unassigned' }, c?.unassigned)}
      </ul>
      <h2>Accounts</h2>
      <ul>
        {item('All accounts', !f.accountLinkId, { accountLinkId: '' })}
        {accounts.value.map((account) => item(`@${account.username}`, f.accountLinkId === account.id, { accountLinkId: account.id }, c?.accounts[account.id]))}
      </ul>
      {!accounts.value.length && <p class="muted small">No linked account yet: link one in Settings.</p>}
    </nav>
  );
}

function FilterSelect({ label, value, options, onChange }: { label: string; value: string; options: Array<{ id: string; name: string }>; onChange: (value: string) => void }) {
  return (
    <select aria-label={label} value={value} onChange={(event) => onChange((event.target as HTMLSelectElement).value)}>
      <option value="">{label}: any</option>
      {options.map((option) => (
        <option key={option.id} value={option.id}>
          {option.name}
        </option>
      ))}
    </select>
  );
}

function ThreadRow({ thread, index, setSize }: { thread: Thread; index: number; setSize: number }) {
  const selected = thread.id === selectedId.value;
  const context = thread.prospect.context;
  const status = statuses.value.find((one) => one.id === context.statusId);
  return (
    <li
      aria-current={selected ? 'true' : undefined}
      aria-setsize={setSize}
      aria-posinset={index + 1}
      class={`thread${selected ? ' selected' : ''}${thread.id === openId.value ? ' open' : ''}${thread.unread ? ' unread' : ''}`}
      style={{ top: `${index * ROW_HEIGHT}px` }}
    >
      {/* One link per row, only the selected one in the tab order: Tab reaches the list once, j / k move within it. */}
      <a
        href={`/app/inbox/${thread.id}`}
        class="thread-link"
        tabIndex={selected ? 0 : -1}
        onClick={(event) => {
          event.preventDefault();
          openThreadById(thread.id);
        }}
      >
        <Avatar thread={thread} />
        <div class="thread-main">
          <div class="thread-top">
            <span class="name">{thread.prospect.displayName}</span>
            {thread.unread && <span class="unread-mark" title="Unread"><span class="dot" aria-hidden="true" />Unread</span>}
            <time dateTime={thread.lastMessageTimestamp ?? undefined}>{time(thread.lastMessageTimestamp)}</time>
          </div>
          <div class="preview">{thread.lastMessage?.content ?? 'No messages yet'}</div>
          <div class="chips">
            {status && <span class="chip status" style={status.color ? { '--chip': status.color } : undefined}>{status.name}</span>}
            {context.tags.map((id) => tags.value.find((tag) => tag.id === id)).filter(Boolean).map((tag) => (
              <span key={tag!.id} class="chip tag" style={{ '--chip': tag!.color }}>{tag!.name}</span>
            ))}
            {thread.assigneeId && <span class="chip assignee">@ {memberName(thread.assigneeId)}</span>}
          </div>
        </div>
      </a>
    </li>
  );
}

/** Only the rows in view (plus a few) are in the DOM; pages load as the end comes near. */
function ThreadList() {
  const scroller = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);
  useEffect(() => {
    const element = scroller.current!;
    const observer = new ResizeObserver(() => setHeight(element.clientHeight));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  const list = threads.value;
  // Keep the selected row in view when the keyboard moves it, and the focus on it when the focus was in the list:
  // in the same commit as the row (a layout effect), so a key pressed right after j already goes to the new row.
  useLayoutEffect(() => {
    const index = list.findIndex((thread) => thread.id === selectedId.value);
    const element = scroller.current;
    if (index < 0 || !element) return;
    if (index * ROW_HEIGHT < element.scrollTop) element.scrollTop = index * ROW_HEIGHT;
    else if ((index + 1) * ROW_HEIGHT > element.scrollTop + element.clientHeight) element.scrollTop = (index + 1) * ROW_HEIGHT - element.clientHeight;
    if (element.contains(document.activeElement)) element.querySelector<HTMLElement>('.selected .thread-link')?.focus({ preventScroll: true });
  }, [selectedId.value]);
  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - 5);
  const last = Math.min(list.length, Math.ceil((scrollTop + height) / ROW_HEIGHT) + 5);
  const nearEnd = last >= list.length - 10;
  useEffect(() => {
    if (nearEnd && nextCursor.value) void loadNextPage();
  }, [nearEnd, list.length, nextCursor.value]);
  return (
    <div class="thread-scroll" ref={scroller} onScroll={(event) => setScrollTop((event.target as HTMLDivElement).scrollTop)}>
      {/* role=list: list-style none would take the list semantics away in some browsers. */}
      <ul role="list" aria-label="Threads" class="thread-list" style={{ height: `${list.length * ROW_HEIGHT}px` }}>
        {list.slice(first, last).map((thread, offset) => (
          <ThreadRow key={thread.id} thread={thread} index={first + offset} setSize={nextCursor.value ? -1 : list.length} />
        ))}
      </ul>
      {!list.length && !loadingList.value && <p class="empty">{filters.value.q ? 'No thread matches this search.' : 'Nothing here. New DMs land in this list.'}</p>}
    </div>
  );
}

function Middle({ search }: { search: preact.RefObject<HTMLInputElement | null> }) {
  const f = filters.value;
  const [text, setText] = useState(f.q);
  useEffect(() => {
    const timer = setTimeout(() => text !== filters.value.q && setFilters({ q: text }), 200);
    return () => clearTimeout(timer);
  }, [text]);
  const memberOptions = members.value.map((member) => ({ id: member.id, name: member.name || member.email }));
  return (
    <section class="middle" aria-label="Thread list">
      <div class="list-tools">
        <input
          ref={search}
          type="search"
          aria-label="Search"
          placeholder="Search names and messages  ( / )"
          value={text}
          onInput={(event) => setText((event.target as HTMLInputElement).value)}
          onKeyDown={(event) => event.key === 'Escape' && (event.target as HTMLInputElement).blur()}
        />
        <div class="filters">
          <FilterSelect label="Tag" value={f.tagId} options={tags.value} onChange={(tagId) => setFilters({ tagId })} />
          <FilterSelect label="Status" value={f.statusId} options={statuses.value} onChange={(statusId) => setFilters({ statusId })} />
          <FilterSelect label="Assignee" value={f.assigneeId} options={memberOptions} onChange={(assigneeId) => setFilters({ assigneeId, who: 'all' })} />
          <FilterSelect label="Account" value={f.accountLinkId} options={accounts.value.map((a) => ({ id: a.id, name: `@${a.username}` }))} onChange={(accountLinkId) => setFilters({ accountLinkId })} />
          <FilterSelect label="Campaign" value={f.campaignId} options={campaigns.value} onChange={(campaignId) => setFilters({ campaignId })} />
        </div>
      </div>
      <ThreadList />
    </section>
  );
}

function Composer({ threadId, reply }: { threadId: string; reply: preact.RefObject<HTMLTextAreaElement | null> }) {
  const text = useSignal(drafts.get(threadId));
  const [sending, setSending] = useState(false);
  useEffect(() => {
    text.value = drafts.get(threadId);
  }, [threadId]);
  async function send() {
    const content = text.value.trim();
    if (!content || sending) return;
    setSending(true);
    if (await sendReply(threadId, content)) {
      text.value = '';
      drafts.set(threadId, '');
    }
    setSending(false);
  }
  return (
    <form class="composer" onSubmit={(event) => (event.preventDefault(), void send())}>
      <textarea
        ref={reply}
        aria-label="Reply"
        placeholder="Write a reply. Ctrl+Enter sends"
        value={text.value}
        onInput={(event) => {
          text.value = (event.target as HTMLTextAreaElement).value;
          drafts.set(threadId, text.value);
        }}
        onKeyDown={(event) => {
          if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
            event.preventDefault();
            void send();
          } else if (event.key === 'Escape') (event.target as HTMLTextAreaElement).blur();
        }}
      />
      <button type="submit" class="primary" disabled={sending || !text.value.trim()}>
        Send
      </button>
    </form>
  );
}

function Conversation({ thread, reply }: { thread: Thread; reply: preact.RefObject<HTMLTextAreaElement | null> }) {
  const log = useRef<HTMLDivElement>(null);
  useEffect(() => {
    log.current?.scrollTo({ top: log.current.scrollHeight });
  }, [messages.value.length, thread.id]);
  const account = accounts.value.find((one) => one.id === thread.accountLinkId);
  return (
    <section class="conversation" aria-label="Conversation">
      <header class="conversation-head">
        <div>
          <h2>{thread.prospect.displayName}</h2>
          <span class="muted small">@{thread.prospect.username}{account ? ` · via @${account.username}` : ''}</span>
        </div>
        <span class="spacer" />
        <button onClick={() => void setUnread(thread.id, true)} disabled={thread.unread}>Mark unread</button>
        <button onClick={() => void patchThread(thread.id, { assigneeId: me.value!.member.id })} disabled={thread.assigneeId === me.value?.member.id}>Assign to me</button>
        {thread.done ? <button onClick={() => void patchThread(thread.id, { done: false })}>Reopen</button> : <button onClick={() => void markDone(thread.id)}>Done</button>}
      </header>
      <div class="messages" ref={log} role="log" aria-label="Messages">
        {messages.value.map((message) => {
          const ours = message.authorId === thread.accountLinkId;
          return (
            <div key={message.id} class={`message ${ours ? 'ours' : 'theirs'}`}>
              <div class="bubble">{message.content}</div>
              <time class="small muted" dateTime={message.createdAt}>
                {ours ? 'You · ' : ''}
                {time(message.createdAt)}
              </time>
            </div>
          );
        })}
      </div>
      <Composer threadId={thread.id} reply={reply} />
    </section>
  );
}

function ProspectPanel({ thread, tagSelect, statusSelect }: { thread: Thread; tagSelect: preact.RefObject<HTMLSelectElement | null>; statusSelect: preact.RefObject<HTMLSelectElement | null> }) {
  const context = thread.prospect.context;
  const [notes, setNotes] = useState(context.notes ?? '');
  const [valuation, setValuation] = useState(context.valuation === null ? '' : String(context.valuation));
  useEffect(() => setNotes(context.notes ?? ''), [thread.id, context.notes]);
  useEffect(() => setValuation(context.valuation === null ? '' : String(context.valuation)), [thread.id, context.valuation]);
  const saveValuation = () => {
    const value = valuation.trim() === '' ? null : Number(valuation);
    if (value !== context.valuation) void patchProspect(thread.id, { valuation: value });
  };
  return (
    <aside class="prospect" aria-label="Prospect">
      <h2>{thread.prospect.displayName}</h2>
      {thread.prospect.bio && <p class="muted small">{thread.prospect.bio}</p>}
      <label>
        Status
        <select ref={statusSelect} value={context.statusId ?? ''} onChange={(event) => void patchProspect(thread.id, { statusId: (event.target as HTMLSelectElement).value || null })}>
          <option value="">No status</option>
          {statuses.value.map((status) => <option key={status.id} value={status.id}>{status.name}</option>)}
        </select>
      </label>
      <div class="field">
        <span>Tags</span>
        <div class="chips">
          {context.tags.map((id) => tags.value.find((tag) => tag.id === id)).filter(Boolean).map((tag) => (
            <span key={tag!.id} class="chip tag" style={{ '--chip': tag!.color }}>
              {tag!.name}
              <button class="chip-remove" aria-label={`Remove tag ${tag!.name}`} onClick={() => void patchProspect(thread.id, { removeTags: [tag!.id] })}>×</button>
            </span>
          ))}
        </div>
        <select ref={tagSelect} aria-label="Add tag" value="" onChange={(event) => {
          const id = (event.target as HTMLSelectElement).value;
          if (id) void patchProspect(thread.id, { addTags: [id] });
        }}>
          <option value="">Add a tag…</option>
          {tags.value.filter((tag) => !context.tags.includes(tag.id)).map((tag) => <option key={tag.id} value={tag.id}>{tag.name}</option>)}
        </select>
      </div>
      <label>
        Assignee
        <select value={thread.assigneeId ?? ''} onChange={(event) => void patchProspect(thread.id, { assigneeId: (event.target as HTMLSelectElement).value || null })}>
          <option value="">Unassigned</option>
          {members.value.map((member) => <option key={member.id} value={member.id}>{member.name || member.email}</option>)}
        </select>
      </label>
      <label>
        Valuation
        <input inputMode="decimal" value={valuation} onInput={(event) => setValuation((event.target as HTMLInputElement).value)} onBlur={saveValuation} onKeyDown={(event) => event.key === 'Enter' && saveValuation()} />
      </label>
      <label>
        Notes
        <textarea rows={5} value={notes} onInput={(event) => setNotes((event.target as HTMLTextAreaElement).value)} onBlur={() => notes !== (context.notes ?? '') && void patchProspect(thread.id, { notes: notes || null })} />
      </label>
      <section class="field" aria-label="Campaigns of the prospect">
        <span>Campaigns</span>
        {prospectCampaigns.value.length ? (
          <ul class="plain small campaigns-of">
            {prospectCampaigns.value.map((one) => (
              <li key={one.campaignId}>
                {one.name} <span class={`chip lead-state ${one.state}`}>{one.state}</span>
                {one.status !== 'active' && <span class="muted"> · campaign {one.status}</span>}
              </li>
            ))}
          </ul>
        ) : (
          <span class="muted small">In no campaign</span>
        )}
      </section>
      <p class="muted small">
        {thread.prospect.followerCount.toLocaleString()} followers · <a href={thread.prospect.profileUrl} target="_blank" rel="noreferrer">Profile</a>
      </p>
    </aside>
  );
}

const onPageOrThreadList = (target: Element) => target === document.body || target === document.documentElement || !!target.closest('.thread-list');

export function Inbox() {
  const search = useRef<HTMLInputElement>(null);
  const reply = useRef<HTMLTextAreaElement>(null);
  const tagSelect = useRef<HTMLSelectElement>(null);
  const statusSelect = useRef<HTMLSelectElement>(null);
  useEffect(() => {
    void loadFirstPage();
    void loadLookups().catch((error: Error) => (alertMessage.value = error.message));
    return followEvents();
  }, []);
  // The URL names the open thread: a reload, a shared link and back/forward open it (or close it) again.
  const routeThreadId = threadIdOf(route.value);
  useEffect(() => {
    if (routeThreadId && routeThreadId !== openId.value) openThreadById(routeThreadId);
    else if (!routeThreadId && openId.value) closeThread();
  }, [routeThreadId]);
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      // defaultPrevented: the page-wide shortcuts took it (the s of g s goes to Settings, it does not focus Status).
      if (event.defaultPrevented || isTyping(event) || activatesTarget(event) || event.ctrlKey || event.metaKey || event.altKey) return;
      // Enter opens from the page itself or the thread list; anywhere else (a dialog, say) it keeps its own meaning.
      if (event.key === 'Enter' && !onPageOrThreadList(event.target as Element)) return;
      const list = threads.value;
      const index = list.findIndex((thread) => thread.id === selectedId.value);
      const move = (to: number) => list[to] && (selectedId.value = list[to]!.id);
      const open = openThread.value;
      const act: Record<string, () => void> = {
        j: () => move(Math.min(list.length - 1, index + 1)),
        k: () => move(Math.max(0, index - 1)),
        Enter: () => selectedId.value && openThreadById(selectedId.value),
        '/': () => search.current?.focus(),
        r: () => reply.current?.focus(),
        e: () => open && void markDone(open.id),
        a: () => open && void patchThread(open.id, { assigneeId: me.value!.member.id }),
        u: () => open && void setUnread(open.id, true),
        t: () => tagSelect.current?.focus(),
        s: () => statusSelect.current?.focus(),
      };
      const action = act[event.key];
      if (action) {
        event.preventDefault();
        action();
      }
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, []);
  const thread = openThread.value;
  return (
    <div class="inbox">
      <Views />
      <Middle search={search} />
      {thread ? (
        <>
          <Conversation thread={thread} reply={reply} />
          <ProspectPanel thread={thread} tagSelect={tagSelect} statusSelect={statusSelect} />
        </>
      ) : (
        <section class="conversation empty-pane" aria-label="Conversation">
          <p class="muted">Select a thread (j / k, then Enter) to read it and reply.</p>
        </section>
      )}
      <div role="alert" class={`toast${alertMessage.value ? ' shown' : ''}`}>
        {alertMessage.value}
        {alertMessage.value && <button class="link" aria-label="Dismiss" onClick={() => (alertMessage.value = '')}>×</button>}
      </div>
    </div>
  );
}
