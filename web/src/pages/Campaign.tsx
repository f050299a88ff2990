import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, ApiError, type AccountLink, type Member, type Status, type Tag } from '../api.js';
import { campaignPath, percent, type Automation, type Campaign as CampaignData, type Column, type EditStep, type List, type Schedule } from '../components/campaign-api.js';
import { useCampaignEvents } from '../components/campaign-events.js';
import { ForecastChart } from '../components/campaign-forecast.js';
import { LeadsTable } from '../components/campaign-leads.js';
import { ScheduleEditor } from '../components/campaign-schedule.js';
import { SequenceEditor, SequencePreviewPanel } from '../components/campaign-sequence.js';
import { StatsTable } from '../components/campaign-stats.js';
import { navigate } from '../router.js';

const messageOf = (caught: unknown) => (caught instanceof ApiError || caught instanceof Error ? caught.message : String(caught));

function Section({ id, title, children }: { id: string; title: string; children?: ComponentChildren }) {
  return (
    <section id={id} class="campaign-section" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{title}</h2>
      {children}
    </section>
  );
}

/**
 * A form whose submit runs `action`, with its own error and saved message beside its button. Its controlled
 * fields listen to `input`, not `change`: the form's own input listener (which clears "Saved") re-renders it
 * with the fields' previous values before a change listener would read them.
 */
function ActionForm({ label, action, children, class: className }: { label: string; action: (form: FormData) => Promise<unknown>; children?: ComponentChildren; class?: string }) {
  const [error, setError] = useState('');
  const [done, setDone] = useState('');
  return (
    <form
      class={className}
      onSubmit={async (event) => {
        event.preventDefault();
        try {
          const result = await action(new FormData(event.currentTarget));
          setError('');
          setDone(typeof result === 'string' ? result : 'Saved');
        } catch (caught) {
          setDone('');
          setError(messageOf(caught));
        }
      }}
      onInput={() => setDone('')}
    >
      {children}
      <div class="row-form">
        <button class="primary">{label}</button>
        <span role="status" class="muted">{done}</span>
        <span role="alert" class="form-error">{error}</span>
      </div>
    </form>
  );
}

interface Problem {
  field: string;
  message: string;
}

/** Where on the page each kind of readiness problem is fixed. */
function fixOf(problem: Problem): { href: string; text: string } {
  if (problem.field === 'leads') return { href: '#campaign-leads', text: 'Add leads' };
  if (problem.field.startsWith('accountLinkIds')) return { href: '#campaign-settings', text: 'Choose an active account' };
  if (problem.field.startsWith('sequence')) return { href: '#campaign-sequence', text: 'Fix the sequence' };
  return { href: '#campaign-settings', text: 'Review the settings' };
}

function Lifecycle({ campaign, onChange }: { campaign: CampaignData; onChange: (campaign: CampaignData) => void }) {
  const [problems, setProblems] = useState<Problem[]>([]);
  const [error, setError] = useState('');
  const [confirmingDelete, setConfirmingDelete] = useState(false);
  const run = async (action: 'enable' | 'disable') => {
    try {
      onChange(await api<CampaignData>('POST', campaignPath(campaign.id, `/${action}`), {}));
      setProblems([]);
      setError('');
    } catch (caught) {
      if (caught instanceof ApiError && caught.code === 'CAMPAIGN_NOT_READY' && Array.isArray(caught.details)) {
        setProblems(caught.details as Problem[]);
        setError('');
      } else setError(messageOf(caught));
    }
  };
  const duplicate = async () => {
    try {
      const copy = await api<CampaignData>('POST', campaignPath(campaign.id, '/duplicate'), {});
      navigate(`/app/campaigns/${copy.id}`);
    } catch (caught) {
      setError(messageOf(caught));
    }
  };
  const remove = async () => {
    try {
      await api('DELETE', campaignPath(campaign.id));
      navigate('/app/campaigns');
    } catch (caught) {
      setError(messageOf(caught));
    }
  };
  return (
    <>
      <div class="row-form">
        {campaign.status === 'active' ? (
          <button onClick={() => void run('disable')}>Disable</button>
        ) : (
          <button class="primary" disabled={campaign.status === 'completed'} onClick={() => void run('enable')}>
            Enable
          </button>
        )}
        <button onClick={() => void duplicate()}>Duplicate</button>
        <a class="button" href={`/api/v1${campaignPath(campaign.id, '/leads/export')}`} download>
          Export leads (CSV)
        </a>
        <span class="spacer" />
        {confirmingDelete ? (
          <span class="row-form confirm-delete" role="group" aria-label="Confirm deletion">
            <span>Delete “{campaign.name}” with its leads and results? This cannot be undone.</span>
            <button class="danger" onClick={() => void remove()}>
              Delete for good
            </button>
            <button onClick={() => (setConfirmingDelete(false), setError(''))}>Keep it</button>
          </span>
        ) : (
          <button onClick={() => setConfirmingDelete(true)}>Delete campaign</button>
        )}
      </div>
      <div role="alert" class="form-error">
        {error}
        {problems.length > 0 && (
          <div class="not-ready">
            <strong>The campaign cannot start yet:</strong>
            <ul aria-label="Why the campaign cannot start">
              {problems.map((problem) => {
                const fix = fixOf(problem);
                return (
                  <li key={`${problem.field}:${problem.message}`}>
                    {problem.message} — <a href={fix.href}>{fix.text}</a>
                  </li>
                );
              })}
            </ul>
          </div>
        )}
      </div>
    </>
  );
}

function Counters({ campaign }: { campaign: CampaignData }) {
  const items: Array<[string, string | number]> = [
    ['Targets', campaign.targetsCount],
    ['Contacted', campaign.contactedCount],
    ['Replied', campaign.repliedCount],
    ['Completed sequence', percent(campaign.completionRate)],
    ['Reply rate', percent(campaign.replyRate)],
  ];
  return (
    <dl class="counters" aria-label="Counters">
      {items.map(([name, value]) => (
        <div key={name}>
          <dt>{name}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

function Settings({ campaign, accounts, save }: { campaign: CampaignData; accounts: AccountLink[]; save: (change: object) => Promise<void> }) {
  return (
    <ActionForm
      label="Save settings"
      class="settings-form"
      action={async (form) =>
        save({
          name: String(form.get('name')),
          description: String(form.get('description')) || null,
          accountLinkIds: form.getAll('accountLinkIds').map(String),
          messagesPerHour: Number(form.get('messagesPerHour')),
        })
      }
    >
      <label>
        Name <input name="name" defaultValue={campaign.name} required maxLength={255} />
      </label>
      <label>
        Description <textarea name="description" rows={2} defaultValue={campaign.description ?? ''} maxLength={2000} />
      </label>
      <fieldset>
        <legend>Accounts to send from</legend>
        {accounts.length === 0 && <p class="muted">No linked account: link one in Settings first.</p>}
        {accounts.map((a) => (
          <label key={a.id} class="check">
            <input type="checkbox" name="accountLinkIds" value={a.id} defaultChecked={campaign.accountLinkIds.includes(a.id)} /> @{a.username}{' '}
            <span class="muted small">{a.status}</span>
          </label>
        ))}
      </fieldset>
      <label>
        Messages per hour, per account <input name="messagesPerHour" type="number" class="narrow" min={1} max={25} defaultValue={campaign.messagesPerHour} required />
      </label>
    </ActionForm>
  );
}

/** A synced list's columns, each copied into a campaign column of the person's choice (or not copied). */
function ColumnMappingFields({
  list,
  campaignColumns,
  mapping,
  onChange,
}: {
  list: List;
  campaignColumns: Column[];
  mapping: Record<string, string>;
  onChange: (mapping: Record<string, string>) => void;
}) {
  const [listColumns, setListColumns] = useState<Column[] | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    api<Column[]>('GET', `/lists/${list.id}/columns`).then(setListColumns, (caught) => setError(messageOf(caught)));
  }, [list.id]);
  if (error) return <div role="alert" class="form-error">{error}</div>;
  if (!listColumns?.length) return null;
  return (
    <fieldset class="column-mapping">
      <legend>Copy its columns into</legend>
      {campaignColumns.length === 0 && <p class="muted small">Add a campaign column below to copy list columns into.</p>}
      {listColumns.map((c) => (
        <label key={c.id}>
          {c.name} →
          <select
            aria-label={`${list.name}: copy ${c.name} into`}
            value={mapping[c.id] ?? ''}
            onInput={(e) => {
              const { [c.id]: _old, ...rest } = mapping;
              const to = (e.target as HTMLSelectElement).value;
              onChange(to ? { ...rest, [c.id]: to } : rest);
            }}
          >
            <option value="">not copied</option>
            {campaignColumns.map((target) => (
              <option key={target.id} value={target.id}>
                {target.name}
              </option>
            ))}
          </select>
        </label>
      ))}
    </fieldset>
  );
}

function Rules({ campaign, lists, columns, onSaved }: { campaign: CampaignData; lists: List[]; columns: Column[]; onSaved: () => void }) {
  const userLists = lists.filter((l) => !l.systemType);
  const savedSynced = campaign.rules.syncedLists.map((l) => l.listId);
  const excluded = new Set(campaign.rules.excludedLists.map((l) => l.listId));
  const [synced, setSynced] = useState(() => new Set(savedSynced));
  const [mappings, setMappings] = useState<Record<string, Record<string, string>>>(() =>
    Object.fromEntries(campaign.rules.syncedLists.map((l) => [l.listId, l.columnMapping])),
  );
  const [detachBehavior, setDetachBehavior] = useState<'unlink' | 'remove'>('unlink');
  const detaching = userLists.filter((l) => savedSynced.includes(l.id) && !synced.has(l.id));
  const toggle = (listId: string, on: boolean) => {
    const next = new Set(synced);
    if (on) next.add(listId);
    else next.delete(listId);
    setSynced(next);
  };
  return (
    <ActionForm
      label="Save lead rules"
      action={async (form) => {
        await api('PATCH', campaignPath(campaign.id, '/rules'), {
          syncedListIds: [...synced],
          excludedListIds: form.getAll('excluded').map(String),
          columnMappings: Object.fromEntries([...synced].map((listId) => [listId, mappings[listId] ?? {}])),
          excludeContacted: form.get('excludeContacted') === 'on',
          excludeMutuals: form.get('excludeMutuals') === 'on',
          ...(detaching.length ? { detachBehavior } : {}),
        });
        onSaved();
        return 'Lead rules saved; the leads are synced in the background';
      }}
    >
      <div class="two-columns">
        <fieldset>
          <legend>Synced lists (their leads join)</legend>
          {userLists.length === 0 && <p class="muted small">No list yet.</p>}
          {userLists.map((l) => (
            <div key={l.id}>
              <label class="check">
                <input type="checkbox" checked={synced.has(l.id)} onInput={(e) => toggle(l.id, (e.target as HTMLInputElement).checked)} aria-label={`Sync ${l.name}`} /> {l.name}{' '}
                <span class="muted small">{l.leadsCount} leads</span>
              </label>
              {synced.has(l.id) && (
                <ColumnMappingFields list={l} campaignColumns={columns} mapping={mappings[l.id] ?? {}} onChange={(mapping) => setMappings({ ...mappings, [l.id]: mapping })} />
              )}
            </div>
          ))}
        </fieldset>
        <fieldset>
          <legend>Excluded lists (their leads never join)</legend>
          {userLists.length === 0 && <p class="muted small">No list yet.</p>}
          {userLists.map((l) => (
            <label key={l.id} class="check">
              <input type="checkbox" name="excluded" value={l.id} defaultChecked={excluded.has(l.id)} aria-label={`Exclude ${l.name}`} /> {l.name}
            </label>
          ))}
        </fieldset>
      </div>
      {detaching.length > 0 && (
        <fieldset>
          <legend>Leads of {detaching.map((l) => l.name).join(', ')}, no longer synced</legend>
          <label class="check">
            <input type="radio" name="detachBehavior" checked={detachBehavior === 'unlink'} onInput={() => setDetachBehavior('unlink')} /> Keep them in the campaign
          </label>
          <label class="check">
            <input type="radio" name="detachBehavior" checked={detachBehavior === 'remove'} onInput={() => setDetachBehavior('remove')} /> Remove those only these lists brought and not yet
            contacted
          </label>
        </fieldset>
      )}
      <label class="check">
        <input type="checkbox" name="excludeContacted" defaultChecked={campaign.rules.excludeContacted} /> Exclude anyone a team account has already messaged
      </label>
      <label class="check">
        <input type="checkbox" name="excludeMutuals" defaultChecked={campaign.rules.excludeMutuals} /> Exclude mutuals (DMs in both directions)
      </label>
    </ActionForm>
  );
}

function AddLeads({ campaignId, onAdded }: { campaignId: string; onAdded: () => void }) {
  return (
    <ActionForm
      label="Add leads"
      action={async (form) => {
        const names = String(form.get('leads') ?? '')
          .split(/[\s,]+/)
          .map((s) => s.trim().replace(/^@/, ''))
          .filter(Boolean);
        const platformIds = names.filter((n) => /^\d+$/.test(n));
        const usernames = names.filter((n) => !/^\d+$/.test(n));
        const result = await api<{ added: number; skipped: number; failed: number; failures: { identifier: string; reason: string }[] }>(
          'POST',
          campaignPath(campaignId, '/leads'),
          {
            ...(platformIds.length ? { platformIds } : {}),
            ...(usernames.length ? { usernames } : {}),
          },
        );
        onAdded();
        const failures = result.failures.map((f) => `${f.identifier} (${f.reason.replace('_', ' ')})`).join(', ');
        return `Added ${result.added}, skipped ${result.skipped}, failed ${result.failed}${failures ? `: ${failures}` : ''}`;
      }}
    >
      <label>
        Leads to add (X usernames or user ids, one a line) <textarea name="leads" rows={3} required />
      </label>
    </ActionForm>
  );
}

function Columns({ campaignId, columns, onChanged }: { campaignId: string; columns: Column[]; onChanged: () => void }) {
  const [error, setError] = useState('');
  const act = (action: Promise<unknown>) => action.then(() => (setError(''), onChanged()), (caught) => setError(messageOf(caught)));
  const patch = (column: Column, change: { name?: string; description?: string | null }) => act(api('PATCH', campaignPath(campaignId, `/columns/${column.id}`), change));
  return (
    <>
      <ul class="plain" aria-label="Columns">
        {columns.map((c) => (
          <li key={c.id} class="row-form column-row">
            <input aria-label={`Name of column ${c.name}`} defaultValue={c.name} onChange={(e) => patch(c, { name: (e.target as HTMLInputElement).value })} />
            <input
              aria-label={`Description of column ${c.name}`}
              placeholder="description"
              defaultValue={c.description ?? ''}
              maxLength={1000}
              onChange={(e) => patch(c, { description: (e.target as HTMLInputElement).value || null })}
            />
            <span class="muted small">{c.type}</span>
            <code class="small">{c.id}</code>
            <button type="button" aria-label={`Delete column ${c.name}`} onClick={() => act(api('DELETE', campaignPath(campaignId, `/columns/${c.id}`)))}>
              Delete
            </button>
          </li>
        ))}
      </ul>
      <div role="alert" class="form-error">{error}</div>
      <ActionForm
        label="Add column"
        class="row-form"
        action={async (form) => {
          await api('POST', campaignPath(campaignId, '/columns'), { name: form.get('name'), type: form.get('type'), description: String(form.get('description')) || null });
          onChanged();
          return 'Column added';
        }}
      >
        <label>
          New column <input name="name" required maxLength={255} />
        </label>
        <label>
          Type{' '}
          <select name="type">
            {['text', 'number', 'url', 'date'].map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
        <label>
          Its description <input name="description" maxLength={1000} />
        </label>
      </ActionForm>
    </>
  );
}

type AutomationDraft = Pick<Automation, 'trigger' | 'enabled'> & { action: Automation['action']; target: string };

function Automations({ campaign, onSaved }: { campaign: CampaignData; onSaved: () => void }) {
  const [drafts, setDrafts] = useState<AutomationDraft[]>(() =>
    campaign.automations.map((a) => ({ trigger: a.trigger, enabled: a.enabled, action: a.action, target: Object.values(a.actionData)[0] as string })),
  );
  const [choices, setChoices] = useState<{ setStatus: Array<[string, string]>; addTag: Array<[string, string]>; assign: Array<[string, string]> }>({ setStatus: [], addTag: [], assign: [] });
  useEffect(() => {
    void Promise.all([api<Status[]>('GET', '/statuses'), api<Tag[]>('GET', '/tags'), api<Member[]>('GET', '/members')]).then(
      ([statuses, tags, members]) =>
        setChoices({
          setStatus: statuses.map((s) => [s.id, s.name]),
          addTag: tags.map((t) => [t.id, t.name]),
          assign: members.map((m) => [m.id, m.name || m.email]),
        }),
      () => undefined,
    );
  }, []);
  const set = (index: number, change: Partial<AutomationDraft>) => setDrafts(drafts.map((d, i) => (i === index ? { ...d, ...change } : d)));
  const KEYS = { setStatus: 'statusId', addTag: 'tagId', assign: 'memberId' } as const;
  return (
    <ActionForm
      label="Save automations"
      action={async () => {
        await api(
          'PUT',
          campaignPath(campaign.id, '/automations'),
          drafts.map((d) => ({ trigger: d.trigger, action: d.action, enabled: d.enabled, actionData: { [KEYS[d.action]]: d.target } })),
        );
        onSaved();
      }}
    >
      {drafts.length === 0 && <p class="muted small">No automation: add one to tag, set a status or assign a lead when it is contacted, replies or completes.</p>}
      <ol class="plain" aria-label="Automations">
        {drafts.map((d, i) => (
          <li key={i} class="row-form">
            When a lead
            <select aria-label={`Automation ${i + 1} trigger`} value={d.trigger} onInput={(e) => set(i, { trigger: (e.target as HTMLSelectElement).value as AutomationDraft['trigger'] })}>
              <option value="contacted">is contacted</option>
              <option value="replied">replies</option>
              <option value="completed">completes without replying</option>
            </select>
            <select aria-label={`Automation ${i + 1} action`} value={d.action} onInput={(e) => set(i, { action: (e.target as HTMLSelectElement).value as AutomationDraft['action'], target: '' })}>
              <option value="setStatus">set status</option>
              <option value="addTag">add tag</option>
              <option value="assign">assign to</option>
            </select>
            <select aria-label={`Automation ${i + 1} value`} value={d.target} required onInput={(e) => set(i, { target: (e.target as HTMLSelectElement).value })}>
              <option value="">choose…</option>
              {choices[d.action].map(([id, name]) => (
                <option key={id} value={id}>
                  {name}
                </option>
              ))}
            </select>
            <label class="check">
              <input type="checkbox" checked={d.enabled} onInput={(e) => set(i, { enabled: (e.target as HTMLInputElement).checked })} /> on
            </label>
            <button type="button" aria-label={`Remove automation ${i + 1}`} onClick={() => setDrafts(drafts.filter((_, j) => j !== i))}>
              Remove
            </button>
          </li>
        ))}
      </ol>
      <button type="button" onClick={() => setDrafts([...drafts, { trigger: 'replied', action: 'addTag', target: '', enabled: true }])}>
        Add automation
      </button>
    </ActionForm>
  );
}

/** How often the page rereads a campaign whose leads are syncing. */
const SYNC_RECHECK_MS = 2_000;

/** A campaign's own page: everything the API lets one change, its forecast, results and leads. */
export function Campaign({ id }: { id: string }) {
  const [campaign, setCampaign] = useState<CampaignData | null>(null);
  const [accounts, setAccounts] = useState<AccountLink[]>([]);
  const [columns, setColumns] = useState<Column[]>([]);
  const [lists, setLists] = useState<List[]>([]);
  const [draft, setDraft] = useState<EditStep[] | null>(null);
  const [error, setError] = useState('');
  const load = () => api<CampaignData>('GET', campaignPath(id)).then((c) => (setCampaign(c), setError('')), (caught) => setError(messageOf(caught)));
  const loadColumns = () => api<Column[]>('GET', campaignPath(id, '/columns')).then(setColumns, () => undefined);
  useEffect(() => {
    setCampaign(null);
    setDraft(null);
    void load();
    void loadColumns();
    api<AccountLink[]>('GET', '/account-links').then(setAccounts, () => undefined);
    api<List[]>('GET', '/lists').then(setLists, () => undefined);
  }, [id]);
  useCampaignEvents(() => void load());
  // A lead sync ends without an event of its own: while one runs, read the campaign again now and then.
  const syncing = campaign?.isSyncing ?? false;
  useEffect(() => {
    if (!syncing) return;
    const timer = setInterval(() => void load(), SYNC_RECHECK_MS);
    return () => clearInterval(timer);
  }, [id, syncing]);
  const accountNames = useMemo(() => new Map(accounts.map((a) => [a.id, `@${a.username}`])), [accounts]);

  if (!campaign) {
    return (
      <main class="page">
        <div role="alert" class="form-error">{error}</div>
        {!error && <p class="muted" aria-busy="true">Loading the campaign…</p>}
      </main>
    );
  }
  const save = async (change: object) => setCampaign(await api<CampaignData>('PATCH', campaignPath(id), change));
  // Results and leads follow the counters; the forecast (an engine run) only what changes the plan.
  const progressKey = `${campaign.contactedCount}:${campaign.repliedCount}:${campaign.targetsCount}:${campaign.status}:${campaign.sequence.version}`;
  const planKey = `${campaign.updatedAt}:${campaign.status}:${campaign.targetsCount}:${campaign.sequence.version}`;

  return (
    <main class="page campaign-page">
      <a
        href="/app/campaigns"
        class="small"
        onClick={(event) => {
          event.preventDefault();
          navigate('/app/campaigns');
        }}
      >
        ← All campaigns
      </a>
      <header class="campaign-head">
        <h1>{campaign.name}</h1>
        <span class={`chip campaign-status status-${campaign.status}`} aria-label={`Status: ${campaign.status}`}>
          {campaign.status}
        </span>
        {campaign.pauseReason && <span class="muted">paused: {campaign.pauseReason}</span>}
        {campaign.isSyncing && <span class="muted small">syncing leads…</span>}
      </header>
      <Counters campaign={campaign} />
      <Lifecycle campaign={campaign} onChange={setCampaign} />
      <div role="alert" class="form-error">{error}</div>

      <div class="campaign-grid overview">
        <Section id="campaign-forecast" title="Forecast">
          <ForecastChart campaignId={campaign.id} accounts={accountNames} leads={campaign.targetsCount} refreshKey={planKey} />
        </Section>
        <Section id="campaign-results" title="Results per step and variation">
          <StatsTable campaignId={campaign.id} refreshKey={progressKey} />
        </Section>
      </div>

      <div class="campaign-grid">
        <Section id="campaign-settings" title="Settings">
          <Settings key={campaign.id} campaign={campaign} accounts={accounts} save={save} />
        </Section>
        <Section id="campaign-schedule" title={`Schedule (${campaign.timezone})`}>
          <ScheduleEditor key={campaign.id} schedule={campaign.schedule} timezone={campaign.timezone} onSave={(change: { schedule: Schedule; timezone: string }) => save(change)} />
        </Section>
      </div>

      <Section id="campaign-sequence" title={`Sequence (version ${campaign.sequence.version})`}>
        <div class="sequence-grid">
          <SequenceEditor
            key={campaign.id}
            campaignId={campaign.id}
            steps={campaign.sequence.steps}
            version={campaign.sequence.version}
            columns={columns}
            onSaved={() => void load()}
            onDraft={setDraft}
          />
          <SequencePreviewPanel campaignId={campaign.id} version={campaign.sequence.version} leadsKey={String(campaign.targetsCount)} draft={draft} />
        </div>
      </Section>

      <Section id="campaign-leads" title="Leads">
        <AddLeads campaignId={campaign.id} onAdded={() => void load()} />
        <LeadsTable campaignId={campaign.id} columns={columns} accounts={accountNames} refreshKey={progressKey} onChanged={() => void load()} />
      </Section>

      <div class="campaign-grid">
        <Section id="campaign-rules" title="Lead rules">
          <Rules key={campaign.id} campaign={campaign} lists={lists} columns={columns} onSaved={() => void load()} />
        </Section>
        <Section id="campaign-columns" title="Columns">
          <Columns campaignId={campaign.id} columns={columns} onChanged={() => void loadColumns()} />
        </Section>
      </div>

      <Section id="campaign-automations" title="Automations">
        <Automations key={campaign.id} campaign={campaign} onSaved={() => void load()} />
      </Section>
    </main>
  );
}
