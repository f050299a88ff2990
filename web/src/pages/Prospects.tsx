import { signal } from '@preact/signals';
import { useEffect, useState } from 'preact/hooks';
import { api, type ContextChange } from '../api.js';
import {
  fetchProspects, NO_FILTERS, prospectQuery, reasonOf, runBulk, withContextChange, type BulkAction, type List, type Prospect, type ProspectFilters,
} from '../components/crm.js';
import { useEditedField } from '../components/edited-field.js';
import { useVirtualRows } from '../components/virtual-rows.js';
import { contextChangeOf } from '../../../src/core/bulk-actions.js';
import { campaigns, loadLookups, members, statuses, tags } from '../inbox-state.js';
import { isTyping } from '../keys.js';

const ROW_HEIGHT = 44;
const PAGE_SIZE = 200;

type ColumnKey = 'username' | 'status' | 'tags' | 'assignee' | 'valuation' | 'notes' | 'followers' | 'added';
const COLUMNS: Array<{ key: ColumnKey; label: string; sort?: string; width: number }> = [
  { key: 'username', label: 'Username', sort: 'username', width: 140 },
  { key: 'status', label: 'Status', width: 180 },
  { key: 'tags', label: 'Tags', width: 210 },
  { key: 'assignee', label: 'Assignee', width: 150 },
  { key: 'valuation', label: 'Value', sort: 'valuation', width: 100 },
  { key: 'notes', label: 'Notes', width: 180 },
  { key: 'followers', label: 'Followers', sort: 'followerCount', width: 90 },
  { key: 'added', label: 'Added', sort: 'createdAt', width: 100 },
];
const COLUMNS_KEY = 'prospects.columns';
/** The fixed columns: the row's checkbox (styles.css `.record-table .check`) and the name. */
const CHECK_WIDTH = 40;
const NAME_WIDTH = 180;

/**
 * A prospect's value, shown as the pipeline board shows it (5,000) and edited as a plain number: the digits
 * appear, selected, when the field gets focus, and what is typed is saved on Enter or leaving it (empty clears it).
 */
function ValueInput({ label, value, save }: { label: string; value: number | null; save: (value: number | null) => void }) {
  const shown = value === null ? '' : value.toLocaleString();
  const input = useEditedField(shown);
  return (
    <input
      ref={input}
      class="cell-input number"
      inputMode="decimal"
      aria-label={label}
      defaultValue={shown}
      onFocus={(event) => {
        // The digits replace the formatted text; selected, as a field entered by Tab is, so typing replaces them.
        event.currentTarget.value = value === null ? '' : String(value);
        event.currentTarget.select();
      }}
      onBlur={(event) => { event.currentTarget.value = shown; }}
      onChange={(event) => {
        const text = event.currentTarget.value.trim();
        const typed = text === '' ? null : Number(text.replace(/[\s,]/g, ''));
        if (typed === null || Number.isFinite(typed)) save(typed);
      }}
    />
  );
}

const filters = signal<ProspectFilters>(NO_FILTERS);
const sort = signal<{ by: string; order: 'asc' | 'desc' }>({ by: 'createdAt', order: 'desc' });
const rows = signal<Prospect[]>([]);
const total = signal(0);
const nextCursor = signal<string | null>(null);
const loading = signal(false);
const selected = signal<Set<string>>(new Set());
/** The last refused edit or the last bulk action's outcome, said where the person looks. */
const alertText = signal('');
const statusText = signal('');
const lists = signal<List[]>([]);
const shown = signal<Set<ColumnKey>>(new Set((JSON.parse(localStorage.getItem(COLUMNS_KEY) ?? 'null') as ColumnKey[] | null) ?? COLUMNS.map((c) => c.key)));

let request = 0;

function search(after?: string | null, limit = PAGE_SIZE): string {
  return prospectQuery(filters.value, { sort: sort.value.by, order: sort.value.order, limit, after });
}

async function loadFirst(): Promise<void> {
  const mine = ++request;
  loading.value = true;
  try {
    const page = await fetchProspects(search());
    if (mine !== request) return;
    rows.value = page.prospects;
    total.value = page.total;
    nextCursor.value = page.nextCursor;
    selected.value = new Set();
  } catch (error) {
    if (mine === request) alertText.value = reasonOf(error);
  } finally {
    if (mine === request) loading.value = false;
  }
}

async function loadNext(limit = PAGE_SIZE): Promise<boolean> {
  const cursor = nextCursor.value;
  if (!cursor || loading.value) return false;
  const mine = ++request;
  loading.value = true;
  try {
    const page = await fetchProspects(search(cursor, limit));
    if (mine !== request) return false;
    rows.value = [...rows.value, ...page.prospects];
    nextCursor.value = page.nextCursor;
    return true;
  } finally {
    if (mine === request) loading.value = false;
  }
}

function setFilter(change: Partial<ProspectFilters>): void {
  filters.value = { ...filters.value, ...change };
  void loadFirst();
}

function replaceRow(id: string, change: (row: Prospect) => Prospect): void {
  rows.value = rows.value.map((row) => (row.externalId === id ? change(row) : row));
}

/** An inline edit: shown at once, sent, and put back with the API's reason when refused. */
async function edit(row: Prospect, change: ContextChange): Promise<void> {
  const before = row;
  replaceRow(row.externalId!, (current) => ({ ...current, context: withContextChange(current.context, change) }));
  try {
    const saved = await api<Prospect>('PATCH', `/prospects/${row.externalId}/context`, change);
    replaceRow(row.externalId!, (current) => ({ ...current, context: { ...saved.context, threads: undefined } }));
    alertText.value = '';
  } catch (error) {
    replaceRow(row.externalId!, () => before);
    alertText.value = `Not saved for @${row.username}: ${reasonOf(error)}`;
  }
}

/** Loads every page the filters match, so the selection can be all of them. */
async function selectAllMatching(): Promise<void> {
  statusText.value = `Loading all ${total.value} prospects…`;
  // The largest pages the API gives: the rest of the table arrives in as few requests as it can.
  while (nextCursor.value) if (!(await loadNext(500))) break;
  selected.value = new Set(rows.value.map((row) => row.externalId!));
  statusText.value = '';
}

const BULK_WORDS: Record<BulkAction['type'], string> = {
  addTags: 'Tagged',
  removeTags: 'Untagged',
  setStatus: 'Status set for',
  assign: 'Assigned',
  addToList: 'Added to the list:',
  addToCampaign: 'Added to the campaign:',
};

/** One API call for the whole selection; the rows shown take the change once it is made. */
async function bulk(action: BulkAction): Promise<void> {
  const ids = [...selected.value];
  if (!ids.length) return;
  statusText.value = `Working on ${ids.length} prospects…`;
  try {
    const result = await runBulk(ids, action);
    const chosen = new Set(ids);
    const change = contextChangeOf(action);
    if (change) rows.value = rows.value.map((row) => (chosen.has(row.externalId!) ? { ...row, context: withContextChange(row.context, change) } : row));
    alertText.value = '';
    statusText.value = `${BULK_WORDS[action.type]} ${result.changed} prospects${result.unchanged ? ` (${result.unchanged} unchanged)` : ''}`;
    if (action.type === 'addToList') void api<List[]>('GET', '/lists').then((all) => (lists.value = all));
  } catch (error) {
    statusText.value = '';
    alertText.value = `Bulk action refused: ${reasonOf(error)}`;
  }
}

const memberName = (id: string) => {
  const member = members.value.find((one) => one.id === id);
  return member ? member.name || member.email : 'Someone';
};

function ActionSelect({ label, short, options, onPick, disabled }: { label: string; short: string; options: Array<{ value: string; name: string }>; onPick: (value: string) => void; disabled: boolean }) {
  return (
    <select aria-label={label} value="" disabled={disabled} onChange={(event) => {
      const value = (event.target as HTMLSelectElement).value;
      (event.target as HTMLSelectElement).value = '';
      if (value) onPick(value);
    }}>
      <option value="">{short}…</option>
      {options.map((option) => <option key={option.value} value={option.value}>{option.name}</option>)}
    </select>
  );
}

function FilterSelect({ label, value, options, onChange }: { label: string; value: string; options: Array<{ value: string; name: string }>; onChange: (value: string) => void }) {
  return (
    <select aria-label={`Filter by ${label.toLowerCase()}`} value={value} onChange={(event) => onChange((event.target as HTMLSelectElement).value)}>
      <option value="">{label}: any</option>
      {options.map((option) => <option key={option.value} value={option.value}>{option.name}</option>)}
    </select>
  );
}

function Toolbar() {
  const [text, setText] = useState(filters.value.q);
  useEffect(() => {
    if (text === filters.value.q) return;
    const timer = setTimeout(() => setFilter({ q: text }), 250);
    return () => clearTimeout(timer);
  }, [text]);
  const f = filters.value;
  const asOptions = (items: Array<{ id: string; name: string }>) => items.map((item) => ({ value: item.id, name: item.name }));
  const memberOptions = members.value.map((member) => ({ value: member.id, name: member.name || member.email }));
  return (
    <div class="table-tools">
      <input type="search" aria-label="Search prospects" placeholder="Search name or username" value={text} onInput={(event) => setText((event.target as HTMLInputElement).value)} />
      <FilterSelect label="Tag" value={f.tagId} options={asOptions(tags.value)} onChange={(tagId) => setFilter({ tagId })} />
      <FilterSelect label="Status" value={f.statusId} options={[{ value: 'none', name: 'No status' }, ...asOptions(statuses.value)]} onChange={(statusId) => setFilter({ statusId })} />
      <FilterSelect label="Assignee" value={f.assigneeId} options={[{ value: 'none', name: 'Unassigned' }, ...memberOptions]} onChange={(assigneeId) => setFilter({ assigneeId })} />
      <FilterSelect label="List" value={f.listId} options={asOptions(lists.value)} onChange={(listId) => setFilter({ listId })} />
      <FilterSelect label="Campaign" value={f.campaignId} options={asOptions(campaigns.value)} onChange={(campaignId) => setFilter({ campaignId })} />
      <details class="columns-menu">
        <summary>Columns</summary>
        <fieldset>
          <legend class="muted small">Show columns</legend>
          {COLUMNS.map((column) => (
            <label key={column.key}>
              <input
                type="checkbox"
                checked={shown.value.has(column.key)}
                onChange={(event) => {
                  const next = new Set(shown.value);
                  if ((event.target as HTMLInputElement).checked) next.add(column.key);
                  else next.delete(column.key);
                  shown.value = next;
                  localStorage.setItem(COLUMNS_KEY, JSON.stringify([...next]));
                }}
              />
              {column.label}
            </label>
          ))}
        </fieldset>
      </details>
    </div>
  );
}

function BulkBar() {
  const count = selected.value.size;
  const none = count === 0;
  const tagOptions = tags.value.map((tag) => ({ value: tag.id, name: tag.name }));
  return (
    <div class="bulk-bar" role="group" aria-label="Bulk actions">
      <span class="bulk-count">{count ? `${count} selected` : 'Select rows for bulk actions'}</span>
      <button disabled={rows.value.length === 0 || (count === total.value && count > 0)} onClick={() => void selectAllMatching()}>
        Select all {total.value} matching
      </button>
      <button disabled={none} onClick={() => (selected.value = new Set())}>Clear selection</button>
      <ActionSelect label="Add tag to selected" short="Tag" disabled={none} options={tagOptions} onPick={(id) => void bulk({ type: 'addTags', tagIds: [id] })} />
      <ActionSelect label="Remove tag from selected" short="Untag" disabled={none} options={tagOptions} onPick={(id) => void bulk({ type: 'removeTags', tagIds: [id] })} />
      <ActionSelect
        label="Set status of selected" short="Set status"
        disabled={none}
        options={[{ value: 'none', name: 'No status' }, ...statuses.value.map((s) => ({ value: s.id, name: s.name }))]}
        onPick={(id) => void bulk({ type: 'setStatus', statusId: id === 'none' ? null : id })}
      />
      <ActionSelect
        label="Assign selected" short="Assign"
        disabled={none}
        options={[{ value: 'none', name: 'Nobody' }, ...members.value.map((m) => ({ value: m.id, name: m.name || m.email }))]}
        onPick={(id) => void bulk({ type: 'assign', assigneeId: id === 'none' ? null : id })}
      />
      <ActionSelect
        label="Add selected to list" short="Add to list"
        disabled={none}
        options={lists.value.filter((list) => !list.systemType).map((list) => ({ value: list.id, name: list.name }))}
        onPick={(listId) => void bulk({ type: 'addToList', listId })}
      />
      <ActionSelect
        label="Add selected to campaign" short="Add to campaign"
        disabled={none}
        options={campaigns.value.map((c) => ({ value: c.id, name: c.name }))}
        onPick={(campaignId) => void bulk({ type: 'addToCampaign', campaignId })}
      />
      <span role="status" class="muted bulk-status">{statusText.value}</span>
    </div>
  );
}

function Cell({ row, column }: { row: Prospect; column: ColumnKey }) {
  const context = row.context;
  const who = `@${row.username}`;
  switch (column) {
    case 'username':
      return <td class="muted">{who}</td>;
    case 'status':
      return (
        <td>
          <select aria-label={`Status of ${who}`} value={context.statusId ?? ''} onChange={(event) => void edit(row, { statusId: (event.target as HTMLSelectElement).value || null })}>
            <option value="">No status</option>
            {statuses.value.map((status) => <option key={status.id} value={status.id}>{status.name}</option>)}
            {context.statusId && !statuses.value.some((s) => s.id === context.statusId) && <option value={context.statusId}>Unknown status</option>}
          </select>
        </td>
      );
    case 'tags': {
      const missing = tags.value.filter((tag) => !context.tags.includes(tag.id));
      return (
        <td>
          <div class="chips">
            {context.tags.map((id) => tags.value.find((tag) => tag.id === id)).filter(Boolean).map((tag) => (
              <span key={tag!.id} class="chip tag" style={{ '--chip': tag!.color }}>
                {tag!.name}
                <button class="chip-remove" aria-label={`Remove tag ${tag!.name} from ${who}`} onClick={() => void edit(row, { removeTags: [tag!.id] })}>×</button>
              </span>
            ))}
            {missing.length > 0 && (
              <select class="add-tag" aria-label={`Add tag to ${who}`} value="" onChange={(event) => {
                const id = (event.target as HTMLSelectElement).value;
                if (id) void edit(row, { addTags: [id] });
              }}>
                <option value="">+</option>
                {missing.map((tag) => <option key={tag.id} value={tag.id}>{tag.name}</option>)}
              </select>
            )}
          </div>
        </td>
      );
    }
    case 'assignee':
      return (
        <td>
          <select aria-label={`Assignee of ${who}`} value={context.assigneeId ?? ''} onChange={(event) => void edit(row, { assigneeId: (event.target as HTMLSelectElement).value || null })}>
            <option value="">Unassigned</option>
            {members.value.map((member) => <option key={member.id} value={member.id}>{memberName(member.id)}</option>)}
          </select>
        </td>
      );
    case 'valuation':
      return (
        <td>
          <ValueInput label={`Value of ${who}`} value={context.valuation} save={(valuation) => void edit(row, { valuation })} />
        </td>
      );
    case 'notes':
      return (
        <td>
          <input
            class="cell-input"
            aria-label={`Notes on ${who}`}
            value={context.notes ?? ''}
            onChange={(event) => {
              const text = (event.target as HTMLInputElement).value;
              void edit(row, { notes: text === '' ? null : text });
            }}
          />
        </td>
      );
    case 'followers':
      return <td class="num">{row.followerCount.toLocaleString()}</td>;
    case 'added':
      return <td class="muted">{row.firstSeenAt ? new Date(row.firstSeenAt).toLocaleDateString([], { month: 'short', day: 'numeric', year: 'numeric' }) : ''}</td>;
  }
}

function SortHeader({ label, by, width }: { label: string; by?: string; width: number }) {
  const current = by && sort.value.by === by ? sort.value.order : undefined;
  return (
    <th style={{ width: `${width}px` }} aria-sort={current === 'asc' ? 'ascending' : current === 'desc' ? 'descending' : undefined}>
      {by ? (
        <button
          class="sort"
          onClick={() => {
            sort.value = { by, order: current === 'asc' ? 'desc' : current === 'desc' ? 'asc' : by === 'createdAt' || by === 'valuation' || by === 'followerCount' ? 'desc' : 'asc' };
            void loadFirst();
          }}
        >
          {label}
          <span aria-hidden="true" class="sort-mark">{current === 'asc' ? '▲' : current === 'desc' ? '▼' : ''}</span>
        </button>
      ) : (
        label
      )}
    </th>
  );
}

/**
 * Up and down arrows move between rows in the same column, as in a spreadsheet; selects and number fields
 * keep their own use of the arrows.
 */
function moveByArrow(event: KeyboardEvent): void {
  if (event.key !== 'ArrowUp' && event.key !== 'ArrowDown') return;
  const target = event.target as HTMLInputElement;
  if (target.tagName === 'SELECT' || target.type === 'number') return;
  const cell = target.closest('td');
  const row = cell?.parentElement;
  const sibling = event.key === 'ArrowUp' ? row?.previousElementSibling : row?.nextElementSibling;
  const control = sibling?.children[cell!.cellIndex]?.querySelector<HTMLElement>('input, select, button');
  if (!control) return;
  event.preventDefault();
  control.focus();
}

/** Only the rows in view (and a few more) are rendered; further pages load as the end comes near. */
function Table() {
  const list = rows.value;
  const { ref, onScroll, first, last } = useVirtualRows(list.length, ROW_HEIGHT);
  useEffect(() => {
    if (last >= list.length - 20 && nextCursor.value && !loading.value) void loadNext().catch((error) => (alertText.value = reasonOf(error)));
  }, [last, list.length, nextCursor.value, loading.value]);
  const columns = COLUMNS.filter((column) => shown.value.has(column.key));
  const allShownSelected = list.length > 0 && list.every((row) => selected.value.has(row.externalId!));
  return (
    <div class="table-scroll" ref={ref} onScroll={onScroll}>
      {/* As wide as its columns ask (scrolling sideways when the window is narrower), so no cell is squeezed. */}
      <table
        class="record-table"
        aria-label="Prospects"
        aria-rowcount={total.value + 1}
        style={{ width: `${CHECK_WIDTH + NAME_WIDTH + columns.reduce((sum, column) => sum + column.width, 0)}px` }}
      >
        <thead>
          <tr>
            <th class="check">
              <input
                type="checkbox"
                aria-label="Select all loaded rows"
                checked={allShownSelected}
                onChange={(event) => (selected.value = (event.target as HTMLInputElement).checked ? new Set(list.map((row) => row.externalId!)) : new Set())}
              />
            </th>
            <SortHeader label="Name" by="displayName" width={NAME_WIDTH} />
            {columns.map((column) => <SortHeader key={column.key} label={column.label} by={column.sort} width={column.width} />)}
          </tr>
        </thead>
        <tbody onKeyDown={moveByArrow}>
          {first > 0 && <tr aria-hidden="true" style={{ height: `${first * ROW_HEIGHT}px` }} />}
          {list.slice(first, last).map((row, i) => {
            const checked = selected.value.has(row.externalId!);
            return (
              <tr key={row.externalId} aria-rowindex={first + i + 2} class={checked ? 'selected' : ''} style={{ height: `${ROW_HEIGHT}px` }}>
                <td class="check">
                  <input
                    type="checkbox"
                    aria-label={`Select @${row.username}`}
                    checked={checked}
                    onChange={(event) => {
                      const next = new Set(selected.value);
                      if ((event.target as HTMLInputElement).checked) next.add(row.externalId!);
                      else next.delete(row.externalId!);
                      selected.value = next;
                    }}
                  />
                </td>
                <td class="name-cell">{row.displayName}</td>
                {columns.map((column) => <Cell key={column.key} row={row} column={column.key} />)}
              </tr>
            );
          })}
          {last < list.length && <tr aria-hidden="true" style={{ height: `${(list.length - last) * ROW_HEIGHT}px` }} />}
        </tbody>
      </table>
      {!loading.value && list.length === 0 && (
        <p class="empty-note muted">No prospect matches. Prospects arrive with DMs, list adds and CSV imports (Lists).</p>
      )}
    </div>
  );
}

export function Prospects() {
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== '/' || isTyping(event) || event.ctrlKey || event.metaKey || event.altKey) return;
      event.preventDefault();
      document.querySelector<HTMLInputElement>('input[type="search"]')?.focus();
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, []);
  useEffect(() => {
    void loadLookups().catch((error) => (alertText.value = reasonOf(error)));
    void api<List[]>('GET', '/lists').then((all) => (lists.value = all), (error) => (alertText.value = reasonOf(error)));
    void loadFirst();
  }, []);
  return (
    <main class="page table-page">
      <div class="page-head">
        <h1>Prospects</h1>
        <span class="muted">{loading.value && !rows.value.length ? 'Loading…' : `${total.value.toLocaleString()} prospects`}</span>
      </div>
      <Toolbar />
      <BulkBar />
      <div role="alert" class="form-error">{alertText.value}</div>
      <Table />
    </main>
  );
}
