import { signal } from '@preact/signals';
import { useState } from 'preact/hooks';
import { api, query, type AccountLink } from '../api.js';
import { reasonOf, type Column, type ImportJob, type List, type ListImportData, type ListImportJob, type ListImportJobPage } from './crm.js';

/**
 * A list's imports: the forms that start one (a CSV file, an account's followers, a post's likes) and the list's
 * import jobs, followed live. The jobs are the vendor's (/lists/{listId}/import-jobs, with its seven statuses);
 * the event stream's `importJob.updated` carries our /import-jobs shape, whose counts move a row at once and
 * whose change of status has the row read again, so the server names the status.
 */

const PAGE = 10;

/** The shown list's jobs, newest first, and the cursor of the page after them. */
const jobs = signal<ListImportJob[]>([]);
const jobsCursor = signal<string | null>(null);
const jobsListId = signal<string | null>(null);
/** The job whose rejected rows are shown (the newest, unless the person picked another), and those rows. */
const expanded = signal<string | null>(null);
const rejected = signal<ImportJob | null>(null);
const accounts = signal<AccountLink[]>([]);
const jobsError = signal('');

const ACTIVE = new Set<ListImportJob['status']>(['queued', 'starting', 'running', 'paused']);
export const isActive = (status: string) => ACTIVE.has(status as ListImportJob['status']);

const NOUNS: Record<ListImportJob['type'], [string, string]> = { csv: ['row', 'rows'], followers: ['follower', 'followers'], likes: ['like', 'likes'] };
const TYPE_LABELS: Record<ListImportJob['type'], string> = { csv: 'CSV file', followers: 'Followers', likes: 'Likes of a post' };
const STATUS_LABELS: Record<ListImportJob['status'], string> = {
  queued: 'Waiting to start',
  starting: 'Starting',
  running: 'Importing',
  paused: 'Paused, resumes by itself',
  completed: 'Imported',
  failed: 'Failed',
  canceled: 'Canceled',
};

/** "120 of 300 followers"; a post's likers have no total until the end, so "40 likes so far". */
export function progressText(job: Pick<ListImportJob, 'type' | 'status' | 'totalCount' | 'processedCount'>): string {
  const [one, many] = NOUNS[job.type];
  const noun = (count: number) => (count === 1 ? one : many);
  const done = job.processedCount.toLocaleString();
  if (job.totalCount === null) return `${done} ${noun(job.processedCount)}${isActive(job.status) ? ' so far' : ''}`;
  return `${done} of ${job.totalCount.toLocaleString()} ${noun(job.totalCount)}`;
}

export const loadAccounts = () =>
  api<AccountLink[]>('GET', '/account-links').then(
    (found) => (accounts.value = found),
    () => undefined, // without them the followers form still takes a username
  );

/**
 * Whether a job as read is older than the row shown: an event moved the row on since the read began, or told of
 * its end before the runner marked it so (the last batch's event says completed as that batch commits).
 */
const isBehind = (fresh: ListImportJob, shown: ListImportJob) =>
  fresh.updatedAt < shown.updatedAt || (fresh.updatedAt === shown.updatedAt && isActive(fresh.status) && !isActive(shown.status));

let reading: Promise<void> | null = null;
let readAgain = false;

/** Reads the shown list's jobs again (as many as are shown); calls made while one is under way make one more after it. */
async function reloadJobs(): Promise<void> {
  if (reading) {
    readAgain = true;
    return reading;
  }
  const listId = jobsListId.value;
  if (!listId) return;
  reading = (async () => {
    try {
      const limit = Math.min(100, Math.max(PAGE, jobs.value.length));
      const page = await api<ListImportJobPage>('GET', `/lists/${listId}/import-jobs${query({ limit })}`);
      if (jobsListId.value !== listId) return;
      const known = new Map(jobs.value.map((job) => [job.id, job]));
      jobs.value = page.data.map((fresh) => {
        const shown = known.get(fresh.id);
        return shown && isBehind(fresh, shown) ? shown : fresh;
      });
      jobsCursor.value = page.nextCursor;
      jobsError.value = '';
    } catch (caught) {
      jobsError.value = reasonOf(caught);
    }
  })();
  await reading;
  reading = null;
  if (readAgain) {
    readAgain = false;
    await reloadJobs();
  }
}

async function showRejected(jobId: string | null): Promise<void> {
  expanded.value = jobId;
  rejected.value = null;
  if (!jobId) return;
  const found = await api<ImportJob>('GET', `/import-jobs/${jobId}`).catch(() => null);
  if (expanded.value === jobId) rejected.value = found;
}

/** Shows this list's imports (the newest with its rejected rows), or none for a system list. */
export async function showImportsOf(listId: string | null): Promise<void> {
  jobsListId.value = listId;
  jobs.value = [];
  jobsCursor.value = null;
  jobsError.value = '';
  expanded.value = null;
  rejected.value = null;
  if (!listId) return;
  await reloadJobs();
  const newest = jobs.value[0];
  if (newest && jobsListId.value === listId && expanded.value === null) await showRejected(newest.id);
}

/** What the page does after reconnecting: read the jobs again, with the shown rejected rows. */
export function reloadImports(): void {
  void reloadJobs();
  if (expanded.value) void showRejected(expanded.value);
}

/**
 * An `importJob.updated` event for the shown list: its counts at once; a new job, or a status the row does not
 * show yet, read again from the vendor's route. Answers whether the job has ended (its leads are all in) and how
 * many leads it added since the row last showed it.
 */
export function importJobUpdated(job: ImportJob): { ended: boolean; added: number } {
  if (job.listId !== jobsListId.value) return { ended: false, added: 0 };
  const shown = jobs.value.find((row) => row.id === job.id);
  if (shown && shown.updatedAt <= job.updatedAt) {
    const moved: ListImportJob = {
      ...shown,
      status: job.status,
      totalCount: job.total,
      processedCount: job.processed,
      addedCount: job.added,
      skippedCount: job.skipped,
      failedCount: job.failed,
      updatedAt: job.updatedAt,
      completedAt: job.completedAt,
    };
    jobs.value = jobs.value.map((row) => (row.id === job.id ? moved : row));
  }
  if (!shown || shown.status !== job.status) void reloadJobs();
  if (expanded.value === job.id) rejected.value = job;
  const added = shown && shown.updatedAt <= job.updatedAt ? Math.max(0, job.added - shown.addedCount) : 0;
  return { ended: !isActive(job.status), added };
}

/** A job the page just started: shown first, its rejected rows as they come. */
function started(jobId: string): void {
  void reloadJobs();
  void showRejected(jobId);
}

type Importer = 'csv' | 'followers' | 'likes';

/** The three ways to import into a list, one shown at a time: chosen with the arrow keys, as radio buttons are. */
export function ImportLeads({ list, columns }: { list: List; columns: Column[] }) {
  const [importer, setImporter] = useState<Importer>('csv');
  const choices: Array<[Importer, string]> = [
    ['csv', 'A CSV file'],
    ['followers', "An account's followers"],
    ['likes', "A post's likes"],
  ];
  return (
    <section class="list-section" aria-labelledby="import-title">
      <h2 id="import-title">Import leads</h2>
      <fieldset class="segmented">
        <legend class="visually-hidden">Import from</legend>
        {choices.map(([value, label]) => (
          <label key={value} class={importer === value ? 'chosen' : ''}>
            <input type="radio" name="importer" value={value} checked={importer === value} onChange={() => setImporter(value)} />
            {label}
          </label>
        ))}
      </fieldset>
      <div class="importer">
        {importer === 'csv' ? <ImportCsv list={list} columns={columns} /> : importer === 'followers' ? <ImportFollowers list={list} /> : <ImportLikes list={list} />}
      </div>
    </section>
  );
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

const guess = (header: string[], pattern: RegExp) => header.find((name) => pattern.test(name)) ?? '';

function ImportCsv({ list, columns }: { list: List; columns: Column[] }) {
  const [file, setFile] = useState<File | null>(null);
  const [header, setHeader] = useState<string[]>([]);
  const [idColumn, setIdColumn] = useState('');
  const [holds, setHolds] = useState<'id' | 'username'>('id');
  const [mapping, setMapping] = useState<Record<string, string>>({});
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  // A new key empties the file input once its file is on its way.
  const [inputKey, setInputKey] = useState(0);

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
    setMapping(Object.fromEntries(columns.map((column) => [column.id, guess(names, new RegExp(`^${column.name.replace(/[^\w ]/g, '.')}$`, 'i'))])));
  };

  const start = async () => {
    if (!file || !idColumn) return;
    // The streamed upload route: a file of any size within the server's import limit.
    const form = new FormData();
    form.append('listId', list.id);
    form.append(holds === 'id' ? 'idColumn' : 'usernameColumn', idColumn);
    for (const [columnId, csvColumn] of Object.entries(mapping)) if (csvColumn) form.append(`columns[${csvColumn}]`, columnId);
    form.append('file', file, file.name);
    setBusy(true);
    try {
      const job = await api<ImportJob>('POST', '/import-jobs', form);
      setError('');
      setFile(null);
      setHeader([]);
      setInputKey(inputKey + 1);
      started(job.id);
    } catch (caught) {
      setError(reasonOf(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="import-form">
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
          {columns.map((column) => (
            <label class="field" key={column.id}>
              CSV column for {column.name}
              <select aria-label={`CSV column for ${column.name}`} value={mapping[column.id] ?? ''} onChange={(event) => setMapping({ ...mapping, [column.id]: (event.target as HTMLSelectElement).value })}>
                <option value="">Not imported</option>
                {header.map((name) => <option key={name} value={name}>{name}</option>)}
              </select>
            </label>
          ))}
          <button class="primary" onClick={() => void start()} disabled={busy}>Start import</button>
        </fieldset>
      )}
      <div role="alert" class="form-error">{error}</div>
    </div>
  );
}

/** Starts a followers or likes import; the API's refusal (an unknown account, no post link, a platform that cannot) is the form's error. */
function useAudienceImport(list: List): { error: string; busy: boolean; submit: (data: ListImportData) => Promise<boolean> } {
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (data: ListImportData) => {
    setBusy(true);
    try {
      const job = await api<ListImportJob>('POST', `/lists/${list.id}/import-jobs`, { data });
      setError('');
      started(job.id);
      return true;
    } catch (caught) {
      setError(reasonOf(caught));
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { error, busy, submit };
}

const OTHER_ACCOUNT = '';

function ImportFollowers({ list }: { list: List }) {
  // The first linked account until the person picks (the accounts may arrive after the form).
  const [picked, setAccount] = useState<string | null>(null);
  const account = picked ?? accounts.value[0]?.platformId ?? OTHER_ACCOUNT;
  const [username, setUsername] = useState('');
  const { error, busy, submit } = useAudienceImport(list);
  const other = account === OTHER_ACCOUNT;
  return (
    <form
      class="import-form"
      onSubmit={async (event) => {
        event.preventDefault();
        const data: ListImportData = other ? { type: 'followers', username: username.trim() } : { type: 'followers', platformId: account };
        if (await submit(data)) setUsername('');
      }}
    >
      <div class="field-row">
        <label class="field">
          Whose followers
          <select aria-label="Whose followers" aria-describedby="followers-error" value={account} onChange={(event) => setAccount((event.target as HTMLSelectElement).value)}>
            {accounts.value.length > 0 && (
              <optgroup label="Linked accounts">
                {accounts.value.map((link) => (
                  <option key={link.id} value={link.platformId}>@{link.username}</option>
                ))}
              </optgroup>
            )}
            <option value={OTHER_ACCOUNT}>Another account…</option>
          </select>
        </label>
        {/* Kept in its place while hidden, so choosing an account moves nothing. */}
        <label class={`field ${other ? '' : 'invisible'}`}>
          Username or profile link
          <input
            aria-label="Username or profile link"
            placeholder="@name or https://x.com/name"
            value={username}
            required={other}
            disabled={!other}
            aria-invalid={other && Boolean(error)}
            aria-describedby="followers-error"
            onInput={(event) => setUsername((event.target as HTMLInputElement).value)}
          />
        </label>
      </div>
      <button type="submit" class="primary" disabled={busy}>Import followers</button>
      <div role="alert" id="followers-error" class="form-error">{error}</div>
    </form>
  );
}

function ImportLikes({ list }: { list: List }) {
  const [post, setPost] = useState('');
  const { error, busy, submit } = useAudienceImport(list);
  return (
    <form
      class="import-form"
      onSubmit={async (event) => {
        event.preventDefault();
        const given = post.trim();
        if (await submit(/^[0-9]+$/.test(given) ? { type: 'likes', postId: given } : { type: 'likes', postUrl: given })) setPost('');
      }}
    >
      <label class="field">
        Post link or id
        <input
          aria-label="Post link or id"
          placeholder="https://x.com/name/status/1234567890"
          value={post}
          required
          aria-invalid={Boolean(error)}
          aria-describedby="likes-error"
          onInput={(event) => setPost((event.target as HTMLInputElement).value)}
        />
      </label>
      <button type="submit" class="primary" disabled={busy}>Import likes</button>
      <div role="alert" id="likes-error" class="form-error">{error}</div>
    </form>
  );
}

const startedAt = (at: string) => new Date(at).toLocaleString([], { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' });

function JobRow({ list, job }: { list: List; job: ListImportJob }) {
  const active = isActive(job.status);
  const open = expanded.value === job.id && job.failedCount > 0;
  const name = `import-${job.id}`;
  const label = TYPE_LABELS[job.type];
  const progress = progressText(job);
  const cancel = async () => {
    try {
      const canceled = await api<ListImportJob>('POST', `/lists/${list.id}/import-jobs/${job.id}/cancel`, {});
      jobs.value = jobs.value.map((row) => (row.id === job.id ? canceled : row));
      jobsError.value = '';
    } catch (caught) {
      jobsError.value = reasonOf(caught);
      void reloadJobs();
    }
  };
  return (
    <>
      <tr>
        <td>
          <div id={name}>{label}</div>
          <time class="muted small" dateTime={job.createdAt}>{startedAt(job.createdAt)}</time>
        </td>
        <td>
          <span class={`job-status ${job.status}`}>{STATUS_LABELS[job.status]}</span>
          {job.error && <div class="small form-error">{job.error}</div>}
        </td>
        <td>
          <div class="job-progress">
            {/* A post's likers are not counted before the end: the bar says only that it moves. The bar speaks the words shown beside it. */}
            {job.totalCount === null && active ? (
              <progress key="moving" aria-label={`${label} import progress`} aria-valuetext={progress} />
            ) : (
              <progress key="counted" aria-label={`${label} import progress`} aria-valuetext={progress} max={Math.max(job.totalCount ?? job.processedCount, 1)} value={job.processedCount} />
            )}
            <span aria-hidden="true">{progress}</span>
          </div>
        </td>
        {/* Lines break between the counts, never inside one. */}
        <td class="muted small job-result">
          <span>{job.addedCount.toLocaleString()} added</span> · <span>{job.skippedCount.toLocaleString()} already in the list</span> · <span>{job.failedCount.toLocaleString()} rejected</span>
        </td>
        <td class="job-actions">
          {job.failedCount > 0 && (
            <button class="link" aria-expanded={open} aria-controls={open ? `${name}-rejected` : undefined} aria-describedby={name} onClick={() => void showRejected(open ? null : job.id)}>
              {open ? 'Hide rejected' : `Show rejected (${job.failedCount.toLocaleString()})`}
            </button>
          )}
          {active && (
            <button aria-describedby={name} onClick={() => void cancel()}>
              Cancel
            </button>
          )}
        </td>
      </tr>
      {open && (
        <tr class="job-detail" id={`${name}-rejected`}>
          <td colSpan={5}>
            {rejected.value?.id !== job.id ? (
              <p class="muted small">Loading the rejected rows…</p>
            ) : (
              <>
                <table class="table compact" aria-label="Rejected rows">
                  <thead>
                    <tr><th>{job.type === 'csv' ? 'Row' : '#'}</th><th>Reason</th></tr>
                  </thead>
                  <tbody>
                    {rejected.value.errors.map((row) => (
                      <tr key={row.row}><td>{row.row}</td><td>{row.reason}</td></tr>
                    ))}
                  </tbody>
                </table>
                {job.failedCount > rejected.value.errors.length && <p class="muted small">Only the first {rejected.value.errors.length} rejected rows are listed.</p>}
              </>
            )}
          </td>
        </tr>
      )}
    </>
  );
}

/** The list's import jobs, newest first: what each imports, where it is, what it did, and Cancel while it runs. */
export function ImportJobs({ list }: { list: List }) {
  const shown = jobsListId.value === list.id ? jobs.value : [];
  const newest = shown[0];
  return (
    <section class="list-section" aria-labelledby="imports-title">
      <h2 id="imports-title">Imports</h2>
      <div role="alert" class="form-error">{jobsError.value}</div>
      {/* Said once per change of status, not at every batch. */}
      <div role="status" class="visually-hidden">{newest ? `${TYPE_LABELS[newest.type]} import: ${STATUS_LABELS[newest.status]}` : ''}</div>
      {shown.length === 0 ? (
        <p class="muted">No imports into this list yet: import a CSV file, an account's followers or a post's likes above.</p>
      ) : (
        <table class="table imports-table" aria-label={`Imports into ${list.name}`}>
          <colgroup>
            <col class="col-type" />
            <col class="col-status" />
            <col class="col-progress" />
            <col />
            <col class="col-actions" />
          </colgroup>
          <thead>
            <tr><th>Import</th><th>Status</th><th>Progress</th><th>Result</th><th><span class="visually-hidden">Actions</span></th></tr>
          </thead>
          <tbody>
            {shown.map((job) => <JobRow key={job.id} list={list} job={job} />)}
          </tbody>
        </table>
      )}
      {jobsCursor.value && shown.length > 0 && (
        <button
          class="show-more"
          onClick={async () => {
            try {
              const page = await api<ListImportJobPage>('GET', `/lists/${list.id}/import-jobs${query({ limit: PAGE, cursor: jobsCursor.value ?? undefined })}`);
              if (jobsListId.value !== list.id) return;
              const known = new Set(jobs.value.map((job) => job.id));
              jobs.value = [...jobs.value, ...page.data.filter((job) => !known.has(job.id))];
              jobsCursor.value = page.nextCursor;
            } catch (caught) {
              jobsError.value = reasonOf(caught);
            }
          }}
        >
          Show older imports
        </button>
      )}
    </section>
  );
}
