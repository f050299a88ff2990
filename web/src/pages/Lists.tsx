import { signal } from '@preact/signals';
import { useEffect, useState } from 'preact/hooks';
import { api, query } from '../api.js';
import { followStream, reasonOf, type AddLeadsResult, type Column, type ImportJob, type List, type ListLeadPage } from '../components/crm.js';
import { ImportJobs, importJobUpdated, ImportLeads, loadAccounts, reloadImports, showImportsOf } from '../components/list-imports.js';
import { navigate, route } from '../router.js';

type Lead = ListLeadPage['leads'][number];

const lists = signal<List[]>([]);
const leads = signal<Lead[]>([]);
const leadsCursor = signal<ListLeadPage['nextCursor']>(null);
/** The selected list's custom columns: mapped in an import, shown in the leads table. */
const columns = signal<Column[]>([]);
const alertText = signal('');

const selectedId = () => /^\/app\/lists\/([0-9a-z]+)/.exec(route.value)?.[1] ?? lists.value[0]?.id ?? null;
const selectedList = () => lists.value.find((list) => list.id === selectedId()) ?? null;

async function loadLists(): Promise<void> {
  lists.value = await api<List[]>('GET', '/lists');
}

async function loadLeads(listId: string, more = false): Promise<void> {
  const cursor = more ? leadsCursor.value : null;
  const page = await api<ListLeadPage>('GET', `/lists/${listId}/leads${query({ limit: 100, cursorId: cursor?.id, cursorTimestamp: cursor?.timestamp })}`);
  if (selectedId() !== listId) return;
  leads.value = more ? [...leads.value, ...page.leads] : page.leads;
  leadsCursor.value = page.nextCursor;
}

/** Reloads the counts and the leads shown, as after any change to a list's members. */
async function refresh(listId: string): Promise<void> {
  await Promise.all([loadLists(), loadLeads(listId)]);
}

/** Pasted text as identifiers: decimal ones are X user ids, anything else a username (with or without @, or a profile link). */
export function identifiersOf(text: string): { platformIds: string[]; usernames: string[] } {
  const tokens = text.split(/[\s,;]+/).map((token) => token.trim()).filter(Boolean);
  return { platformIds: tokens.filter((token) => /^[0-9]+$/.test(token)), usernames: tokens.filter((token) => !/^[0-9]+$/.test(token)) };
}

function ListNav() {
  const [name, setName] = useState('');
  const [error, setError] = useState('');
  const current = selectedId();
  return (
    <nav class="views list-nav" aria-label="Lists">
      <ul>
        {lists.value.map((list) => (
          <li key={list.id}>
            <button class="view" aria-pressed={list.id === current} onClick={() => navigate(`/app/lists/${list.id}`)}>
              {list.name} <span class="muted">{list.leadsCount.toLocaleString()}</span>
            </button>
          </li>
        ))}
      </ul>
      <form
        class="new-list"
        onSubmit={async (event) => {
          event.preventDefault();
          try {
            const list = await api<List>('POST', '/lists', { name });
            setName('');
            setError('');
            await loadLists();
            navigate(`/app/lists/${list.id}`);
          } catch (caught) {
            setError(reasonOf(caught));
          }
        }}
      >
        <input aria-label="New list name" placeholder="New list name" value={name} required onInput={(event) => setName((event.target as HTMLInputElement).value)} />
        <button type="submit">Create list</button>
        <div role="alert" class="form-error small">{error}</div>
      </form>
    </nav>
  );
}

function AddLeads({ list }: { list: List }) {
  const [text, setText] = useState('');
  const [result, setResult] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  return (
    <section class="list-section" aria-labelledby="add-leads-title">
      <h2 id="add-leads-title">Add leads</h2>
      <form
        class="add-leads"
        onSubmit={async (event) => {
          event.preventDefault();
          const { platformIds, usernames } = identifiersOf(text);
          if (!platformIds.length && !usernames.length) return;
          setBusy(true);
          try {
            const body = { ...(platformIds.length && { platformIds }), ...(usernames.length && { usernames }) };
            const added = await api<AddLeadsResult>('POST', `/lists/${list.id}/leads`, body);
            const parts = [`${added.added.length} added`];
            if (added.skipped.length) parts.push(`${added.skipped.length} already in the list`);
            if (added.failed.length) parts.push(`not found: ${added.failed.join(', ')}`);
            setResult(parts.join(' · '));
            setError('');
            setText('');
            await refresh(list.id);
          } catch (caught) {
            setError(reasonOf(caught));
          } finally {
            setBusy(false);
          }
        }}
      >
        <textarea aria-label="X user ids or usernames" placeholder="Paste X user ids, @usernames or profile links, one per line or separated by commas" value={text} onInput={(event) => setText((event.target as HTMLTextAreaElement).value)} />
        <button type="submit" class="primary" disabled={busy}>Add leads</button>
      </form>
      <div role="status" class="muted small">{result}</div>
      <div role="alert" class="form-error">{error}</div>
    </section>
  );
}

function Leads({ list }: { list: List }) {
  const [error, setError] = useState('');
  const editable = !list.systemType;
  return (
    <section class="list-section" aria-labelledby="leads-title">
      <h2 id="leads-title">Leads</h2>
      <div role="alert" class="form-error">{error}</div>
      {leads.value.length === 0 ? (
        <p class="muted">{editable ? "No leads yet: paste ids or usernames above, or import a CSV file, an account's followers or a post's likes." : 'Nobody yet: this list fills itself as your accounts send DMs.'}</p>
      ) : (
        <table class="table" aria-label={`Leads of ${list.name}`}>
          <thead>
            <tr><th>Name</th><th>Username</th><th>X user id</th>{columns.value.map((column) => <th key={column.id}>{column.name}</th>)}<th>Added</th>{editable && <th><span class="visually-hidden">Actions</span></th>}</tr>
          </thead>
          <tbody>
            {leads.value.map((lead) => (
              <tr key={lead.prospect.externalId}>
                <td>{lead.prospect.displayName}</td>
                <td>@{lead.prospect.username}</td>
                <td class="muted">{lead.prospect.platformId}</td>
                {columns.value.map((column) => <td key={column.id}>{String(lead.data[column.id] ?? '')}</td>)}
                <td class="muted">{new Date(lead.addedAt).toLocaleDateString([], { month: 'short', day: 'numeric', year: 'numeric' })}</td>
                {editable && (
                  <td>
                    <button
                      aria-label={`Remove @${lead.prospect.username}`}
                      onClick={async () => {
                        try {
                          await api('DELETE', `/lists/${list.id}/leads`, { platformIds: [lead.prospect.platformId] });
                          setError('');
                          await refresh(list.id);
                        } catch (caught) {
                          setError(reasonOf(caught));
                        }
                      }}
                    >
                      Remove
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {leadsCursor.value && <button onClick={() => void loadLeads(list.id, true).catch((caught) => setError(reasonOf(caught)))}>Show more leads</button>}
    </section>
  );
}

export function Lists() {
  useEffect(() => {
    void loadLists().catch((error) => (alertText.value = reasonOf(error)));
    void loadAccounts();
    const stop = followStream(
      {
        'importJob.updated': (data) => {
          const job = data.importJob as ImportJob;
          const { ended, added } = importJobUpdated(job);
          // The count follows each batch; the leads shown are read again once the import has ended.
          if (added > 0) lists.value = lists.value.map((list) => (list.id === job.listId ? { ...list, leadsCount: list.leadsCount + added } : list));
          if (ended && selectedId() === job.listId) void refresh(job.listId);
        },
      },
      () => {
        reloadImports();
        const listId = selectedId();
        if (listId) void refresh(listId);
      },
    );
    return stop;
  }, []);
  const list = selectedList();
  useEffect(() => {
    leads.value = [];
    leadsCursor.value = null;
    columns.value = [];
    void showImportsOf(list && !list.systemType ? list.id : null);
    if (!list) return;
    if (!list.systemType) void api<Column[]>('GET', `/lists/${list.id}/columns`).then((found) => selectedId() === list.id && (columns.value = found));
    void loadLeads(list.id).catch((error) => (alertText.value = reasonOf(error)));
  }, [list?.id]);
  return (
    <main class="lists-page">
      <ListNav />
      <div class="page">
        <div role="alert" class="form-error">{alertText.value}</div>
        {list && (
          <>
            <div class="page-head">
              <h1>{list.name}</h1>
              <span class="muted">{list.leadsCount.toLocaleString()} leads</span>
            </div>
            {list.description && <p class="muted">{list.description}</p>}
            {list.systemType ? (
              <p class="muted small">A system list: it follows the team's conversations by itself and cannot be edited.</p>
            ) : (
              <>
                <div class="list-tools-grid">
                  <AddLeads list={list} />
                  <ImportLeads list={list} columns={columns.value} />
                </div>
                <ImportJobs list={list} />
              </>
            )}
            <Leads list={list} />
          </>
        )}
      </div>
    </main>
  );
}
