import { signal } from '@preact/signals';
import { useEffect, useState } from 'preact/hooks';
import { api, query } from '../api.js';
import { followStream, reasonOf, type AddLeadsResult, type Column, type ImportJob, type List, type ListLeadPage } from '../components/crm.js';
import { navigate, route } from '../router.js';

type Lead = ListLeadPage['leads'][number];

const lists = signal<List[]>([]);
const leads = signal<Lead[]>([]);
const leadsCursor = signal<ListLeadPage['nextCursor']>(null);
const importJob = signal<ImportJob | null>(null);
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

/** The first record of a CSV file: its header, read from the file's start (quotes and doubled quotes as RFC 4180 has them). */
export function csvHeader(text: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') break;
    else field += c;
  }
  fields.push(field);
  return fields.map((name) => name.replace(/^\uFEFF/, '').trim()).filter((name, i, all) => name !== '' || all.length > 1);
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

const guess = (header: string[], pattern: RegExp) => header.find((name) => pattern.test(name)) ?? '';

function ImportCsv({ list }: { list: List }) {
  const [file, setFile] = useState<File | null>(null);
  const [header, setHeader] = useState<string[]>([]);
  const [idColumn, setIdColumn] = useState('');
  const [holds, setHolds] = useState<'id' | 'username'>('id');
  const [mapping, setMapping] = useState<Record<string, string>>({});
  const [error, setError] = useState('');
  // A new key empties the file input once its file is on its way.
  const [inputKey, setInputKey] = useState(0);
  const job = importJob.value?.listId === list.id ? importJob.value : null;
  const running = job && (job.status === 'queued' || job.status === 'running');

  const choose = async (chosen: File | null) => {
    setFile(chosen);
    setError('');
    if (!chosen) return setHeader([]);
    const names = csvHeader(await chosen.slice(0, 64 * 1024).text());
    setHeader(names);
    const byId = guess(names, /^(x[ _-]?)?(user[ _-]?)?id$|platform/i);
    const byName = guess(names, /user ?name|handle|screen/i);
    setIdColumn(byId || byName || names[0] || '');
    setHolds(byId || !byName ? 'id' : 'username');
    setMapping(Object.fromEntries(columns.value.map((column) => [column.id, guess(names, new RegExp(`^${column.name.replace(/[^\w ]/g, '.')}$`, 'i'))])));
  };

  const start = async () => {
    if (!file || !idColumn) return;
    const form = new FormData();
    form.append('listId', list.id);
    form.append(holds === 'id' ? 'idColumn' : 'usernameColumn', idColumn);
    for (const [columnId, csvColumn] of Object.entries(mapping)) if (csvColumn) form.append(`columns[${csvColumn}]`, columnId);
    form.append('file', file, file.name);
    try {
      importJob.value = await api<ImportJob>('POST', '/import-jobs', form);
      setError('');
      setFile(null);
      setHeader([]);
      setInputKey(inputKey + 1);
    } catch (caught) {
      setError(reasonOf(caught));
    }
  };

  return (
    <section class="list-section" aria-labelledby="import-title">
      <h2 id="import-title">Import a CSV</h2>
      <label class="field">
        CSV file
        <input key={inputKey} type="file" aria-label="CSV file" accept=".csv,text/csv" onChange={(event) => void choose((event.target as HTMLInputElement).files?.[0] ?? null)} />
      </label>
      {header.length > 0 && (
        <fieldset class="mapping">
          <legend>Map the columns of {file?.name}</legend>
          <label class="field">
            Column that names the lead
            <select aria-label="Column that names the lead" value={idColumn} onChange={(event) => setIdColumn((event.target as HTMLSelectElement).value)}>
              {header.map((name) => <option key={name} value={name}>{name}</option>)}
            </select>
          </label>
          <label class="field">
            It holds
            <select aria-label="It holds" value={holds} onChange={(event) => setHolds((event.target as HTMLSelectElement).value as 'id' | 'username')}>
              <option value="id">X user ids</option>
              <option value="username">Usernames</option>
            </select>
          </label>
          {columns.value.map((column) => (
            <label class="field" key={column.id}>
              CSV column for {column.name}
              <select aria-label={`CSV column for ${column.name}`} value={mapping[column.id] ?? ''} onChange={(event) => setMapping({ ...mapping, [column.id]: (event.target as HTMLSelectElement).value })}>
                <option value="">Not imported</option>
                {header.map((name) => <option key={name} value={name}>{name}</option>)}
              </select>
            </label>
          ))}
          <button class="primary" onClick={() => void start()} disabled={Boolean(running)}>Start import</button>
        </fieldset>
      )}
      <div role="alert" class="form-error">{error}</div>
      {job && <ImportProgress job={job} />}
    </section>
  );
}

function ImportProgress({ job }: { job: ImportJob }) {
  const running = job.status === 'queued' || job.status === 'running';
  // Only a post's likers have no total before the end; the page starts CSV imports, whose rows are counted.
  const total = job.total ?? job.processed;
  const [error, setError] = useState('');
  return (
    <div class="import-progress">
      <div class="progress-line">
        <progress aria-label="Import progress" max={Math.max(total, 1)} value={job.processed} />
        <span>
          {job.status === 'queued' ? 'Waiting to start' : job.status === 'running' ? 'Importing' : job.status === 'completed' ? 'Imported' : job.status === 'canceled' ? 'Canceled' : 'Failed'}
          {' '}· {job.processed.toLocaleString()} of {total.toLocaleString()} rows
        </span>
        {running && (
          <button
            onClick={async () => {
              try {
                importJob.value = await api<ImportJob>('POST', `/import-jobs/${job.id}/cancel`, {});
              } catch (caught) {
                setError(reasonOf(caught));
              }
            }}
          >
            Cancel import
          </button>
        )}
      </div>
      <p class="muted small" role="status">
        {job.added.toLocaleString()} added · {job.skipped.toLocaleString()} already in the list · {job.failed.toLocaleString()} rejected
      </p>
      <div role="alert" class="form-error">{error}</div>
      {job.errors.length > 0 && (
        <table class="table compact" aria-label="Rejected rows">
          <thead>
            <tr><th>Row</th><th>Reason</th></tr>
          </thead>
          <tbody>
            {job.errors.map((rejected) => (
              <tr key={rejected.row}><td>{rejected.row}</td><td>{rejected.reason}</td></tr>
            ))}
          </tbody>
        </table>
      )}
      {job.failed > job.errors.length && <p class="muted small">Only the first {job.errors.length} rejected rows are listed.</p>}
    </div>
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
        <p class="muted">{editable ? 'No leads yet: paste ids or usernames above, or import a CSV.' : 'Nobody yet: this list fills itself as your accounts send DMs.'}</p>
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
    const stop = followStream(
      {
        'importJob.updated': (data) => {
          const job = data.importJob as ImportJob;
          if (importJob.value?.id !== job.id) return;
          importJob.value = job;
          if (job.status !== 'queued' && job.status !== 'running' && selectedId() === job.listId) void refresh(job.listId);
        },
      },
      () => {
        const job = importJob.value;
        if (job) void api<ImportJob>('GET', `/import-jobs/${job.id}`).then((fresh) => (importJob.value = fresh));
      },
    );
    return stop;
  }, []);
  const list = selectedList();
  useEffect(() => {
    leads.value = [];
    leadsCursor.value = null;
    columns.value = [];
    if (!list) return;
    if (!list.systemType) void api<Column[]>('GET', `/lists/${list.id}/columns`).then((found) => selectedId() === list.id && (columns.value = found));
    void loadLeads(list.id).catch((error) => (alertText.value = reasonOf(error)));
    // The list's latest import, with its progress or its rejected rows.
    if (!list.systemType && importJob.value?.listId !== list.id) {
      void api<{ importJobs: ImportJob[] }>('GET', `/import-jobs${query({ listId: list.id, limit: 1 })}`).then((page) => {
        if (page.importJobs[0] && selectedId() === list.id) importJob.value = page.importJobs[0];
      });
    }
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
              <div class="list-tools-grid">
                <AddLeads list={list} />
                <ImportCsv list={list} />
              </div>
            )}
            <Leads list={list} />
          </>
        )}
      </div>
    </main>
  );
}
