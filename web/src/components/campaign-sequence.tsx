import { useEffect, useRef, useState } from 'preact/hooks';
import { BUILTIN_VARIABLES } from '../../../src/core/sequence.js';
import { api, ApiError } from '../api.js';
import { campaignPath, type CampaignLeadPage, type Column, type EditStep, type Segment, type SequencePreview, type SequenceVersion } from './campaign-api.js';

const UNIT_SECONDS = { minutes: 60, hours: 3_600, days: 86_400 } as const;
type Unit = keyof typeof UNIT_SECONDS;
const STEP_NAMES = { message: 'Message', delay: 'Delay', likeTweet: 'Like latest post' } as const;

interface Item {
  key: number;
  step: EditStep;
}

let nextKey = 0;
const itemsOf = (steps: readonly EditStep[]): Item[] => steps.map((step) => ({ key: ++nextKey, step }));
/** A stored step without the id and rank the server gave it: what a PUT takes back. */
export const editable = (steps: ReadonlyArray<EditStep & { id?: string; rank?: number }>): EditStep[] =>
  steps.map(({ id: _id, rank: _rank, ...step }) => (step.type === 'likeTweet' ? { type: 'likeTweet' } : step) as EditStep);

/** "steps.2.data.segments.0.name: ..." as "Step 3: ...". */
function problemText(problem: { field: string; message: string }): string {
  const step = /^(?:sequence\.)?steps\.(\d+)/.exec(problem.field);
  return step ? `Step ${Number(step[1]) + 1}: ${problem.message}` : problem.message;
}

/** What a refused sequence (saved or previewed) says, one line per problem. */
function sequenceProblems(caught: unknown): string[] {
  const details = caught instanceof ApiError && Array.isArray(caught.details) ? (caught.details as Array<{ field: string; message: string }>) : [];
  return details.length ? details.map(problemText) : [(caught as Error).message];
}

/**
 * The sequence editor: message, delay and like steps, moved with Alt+ArrowUp/Down, the Move buttons or by drag;
 * message segments of text, variables (with a fallback) and variations. Saving makes a new version.
 */
export function SequenceEditor({
  campaignId,
  steps,
  version,
  columns,
  onSaved,
  onDraft,
}: {
  campaignId: string;
  steps: ReadonlyArray<EditStep & { id?: string }>;
  version: number;
  columns: Column[];
  onSaved: () => void;
  /** the unsaved steps as they are edited; null once saved */
  onDraft: (steps: EditStep[] | null) => void;
}) {
  const [items, setItems] = useState<Item[]>(() => itemsOf(editable(steps)));
  const [problems, setProblems] = useState<string[]>([]);
  const [status, setStatus] = useState('');
  const [focusKey, setFocusKey] = useState<number | null>(null);
  const dragged = useRef<number | null>(null);
  const stepRefs = useRef(new Map<number, HTMLLIElement>());

  useEffect(() => {
    if (focusKey !== null) stepRefs.current.get(focusKey)?.focus();
    setFocusKey(null);
  }, [focusKey]);

  const change = (next: Item[]) => {
    setItems(next);
    setStatus('Unsaved changes');
    onDraft(next.map((i) => i.step));
  };
  const update = (key: number, step: EditStep) => change(items.map((item) => (item.key === key ? { key, step } : item)));
  const move = (from: number, to: number) => {
    if (to < 0 || to >= items.length || from === to) return;
    const next = [...items];
    const [item] = next.splice(from, 1);
    next.splice(to, 0, item!);
    change(next);
    setFocusKey(item!.key);
  };
  const add = (step: EditStep) => change([...items, { key: ++nextKey, step }]);

  const save = async () => {
    try {
      await api('PUT', campaignPath(campaignId, '/sequence'), { steps: items.map((i) => i.step) });
      setProblems([]);
      setStatus('Saved as a new version');
      onDraft(null);
      onSaved();
    } catch (caught) {
      setProblems(sequenceProblems(caught));
      setStatus('');
    }
  };

  return (
    <div class="sequence">
      <ol class="steps" aria-label="Steps">
        {items.map(({ key, step }, index) => {
          const label = `Step ${index + 1}: ${STEP_NAMES[step.type]}`;
          return (
            <li
              key={key}
              ref={(element) => {
                if (element) stepRefs.current.set(key, element);
                else stepRefs.current.delete(key);
              }}
              class="step"
              tabIndex={0}
              aria-label={label}
              draggable
              onDragStart={(event) => {
                dragged.current = index;
                event.dataTransfer?.setData('text/plain', String(index));
              }}
              onDragOver={(event) => event.preventDefault()}
              onDrop={(event) => {
                event.preventDefault();
                if (dragged.current !== null) move(dragged.current, index);
                dragged.current = null;
              }}
              onKeyDown={(event) => {
                if (!event.altKey || event.target !== event.currentTarget) return;
                if (event.key === 'ArrowUp' || event.key === 'ArrowDown') {
                  event.preventDefault();
                  move(index, index + (event.key === 'ArrowUp' ? -1 : 1));
                }
              }}
            >
              <div class="step-head">
                <span class="grip" aria-hidden="true">⋮⋮</span>
                <strong>{label}</strong>
                <span class="spacer" />
                <button type="button" aria-label={`Move step ${index + 1} up`} disabled={index === 0} onClick={() => move(index, index - 1)}>
                  ↑
                </button>
                <button type="button" aria-label={`Move step ${index + 1} down`} disabled={index === items.length - 1} onClick={() => move(index, index + 1)}>
                  ↓
                </button>
                <button type="button" aria-label={`Remove step ${index + 1}`} onClick={() => change(items.filter((i) => i.key !== key))}>
                  Remove
                </button>
              </div>
              <StepBody step={step} number={index + 1} columns={columns} onChange={(next) => update(key, next)} />
            </li>
          );
        })}
      </ol>
      {items.length === 0 && <p class="muted">No step yet: add a message to start the sequence.</p>}
      <div class="row-form">
        <button type="button" onClick={() => add({ type: 'message', data: { segments: [{ type: 'static', text: '' }] } })}>Add message</button>
        <button type="button" onClick={() => add({ type: 'delay', data: { delaySeconds: 86_400, unit: 'days' } })}>Add delay</button>
        <button type="button" onClick={() => add({ type: 'likeTweet' })}>Add like</button>
        <span class="spacer" />
        <span role="status" class="muted">{status}</span>
        <button type="button" class="primary" onClick={() => void save()}>
          Save sequence
        </button>
      </div>
      <div role="alert" class="form-error">
        {problems.length > 0 && (
          <ul class="problems">
            {problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        )}
      </div>
      <Versions campaignId={campaignId} version={version} onEdit={(old) => change(itemsOf(editable(old)))} />
    </div>
  );
}

function StepBody({ step, number, columns, onChange }: { step: EditStep; number: number; columns: Column[]; onChange: (step: EditStep) => void }) {
  if (step.type === 'likeTweet') return <p class="muted small">Likes the lead's latest post.</p>;
  if (step.type === 'delay') {
    const { unit, delaySeconds } = step.data;
    return (
      <div class="row-form">
        <label>
          Wait{' '}
          <input
            type="number"
            class="narrow"
            min={1}
            aria-label={`Step ${number} wait`}
            value={delaySeconds / UNIT_SECONDS[unit]}
            onChange={(e) => onChange({ type: 'delay', data: { unit, delaySeconds: Math.round(Number((e.target as HTMLInputElement).value) * UNIT_SECONDS[unit]) } })}
          />
        </label>
        <select
          aria-label={`Step ${number} unit`}
          value={unit}
          onChange={(e) => {
            const next = (e.target as HTMLSelectElement).value as Unit;
            onChange({ type: 'delay', data: { unit: next, delaySeconds: Math.round((delaySeconds / UNIT_SECONDS[unit]) * UNIT_SECONDS[next]) } });
          }}
        >
          {Object.keys(UNIT_SECONDS).map((u) => (
            <option key={u} value={u}>
              {u}
            </option>
          ))}
        </select>
        <span class="muted small">after the previous step</span>
      </div>
    );
  }
  const segments = step.data.segments;
  const set = (next: Segment[]) => onChange({ type: 'message', data: { segments: next } });
  const setAt = (index: number, segment: Segment) => set(segments.map((s, i) => (i === index ? segment : s)));
  const where = (index: number) => `step ${number}, part ${index + 1}`;
  return (
    <div class="segments">
      {segments.map((segment, index) => (
        <div class={`segment segment-${segment.type}`} key={index}>
          {segment.type === 'static' && (
            <textarea aria-label={`Text, ${where(index)}`} rows={2} value={segment.text} onInput={(e) => setAt(index, { type: 'static', text: (e.target as HTMLTextAreaElement).value })} />
          )}
          {segment.type === 'variable' && (
            <>
              <select aria-label={`Variable, ${where(index)}`} value={segment.name} onChange={(e) => setAt(index, { ...segment, name: (e.target as HTMLSelectElement).value })}>
                {BUILTIN_VARIABLES.map((name) => (
                  <option key={name} value={name}>
                    {name}
                  </option>
                ))}
                {columns.map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name}
                  </option>
                ))}
              </select>
              <input
                aria-label={`Fallback, ${where(index)}`}
                placeholder="fallback when empty"
                value={segment.fallback ?? ''}
                onInput={(e) => setAt(index, { ...segment, fallback: (e.target as HTMLInputElement).value })}
              />
            </>
          )}
          {segment.type === 'variation' && (
            <div class="variation">
              {segment.options.map((option, o) => (
                <span class="option" key={o}>
                  <input
                    aria-label={`Option ${o + 1}, ${where(index)}`}
                    value={option}
                    onInput={(e) => setAt(index, { type: 'variation', options: segment.options.map((x, j) => (j === o ? (e.target as HTMLInputElement).value : x)) })}
                  />
                  <button type="button" aria-label={`Remove option ${o + 1}, ${where(index)}`} onClick={() => setAt(index, { type: 'variation', options: segment.options.filter((_, j) => j !== o) })}>
                    ×
                  </button>
                </span>
              ))}
              <button type="button" onClick={() => setAt(index, { type: 'variation', options: [...segment.options, ''] })}>
                Add option
              </button>
            </div>
          )}
          <button type="button" class="link" aria-label={`Remove ${where(index)}`} onClick={() => set(segments.filter((_, i) => i !== index))}>
            ×
          </button>
        </div>
      ))}
      <div class="row-form small">
        <button type="button" aria-label={`Add text to step ${number}`} onClick={() => set([...segments, { type: 'static', text: '' }])}>+ Text</button>
        <button type="button" aria-label={`Add variable to step ${number}`} onClick={() => set([...segments, { type: 'variable', name: 'first-name', fallback: '' }])}>+ Variable</button>
        <button type="button" aria-label={`Add variation to step ${number}`} onClick={() => set([...segments, { type: 'variation', options: ['', ''] }])}>+ Variation</button>
      </div>
    </div>
  );
}

function Versions({ campaignId, version, onEdit }: { campaignId: string; version: number; onEdit: (steps: SequenceVersion['steps']) => void }) {
  const [versions, setVersions] = useState<SequenceVersion[]>([]);
  useEffect(() => {
    api<SequenceVersion[]>('GET', campaignPath(campaignId, '/sequence/versions')).then(setVersions, () => undefined);
  }, [campaignId, version]);
  if (versions.length === 0) return null;
  return (
    <details class="versions">
      <summary>Saved versions ({versions.length})</summary>
      <ul class="plain" aria-label="Saved versions">
        {versions.map((v) => (
          <li key={v.version}>
            Version {v.version} · {new Date(v.createdAt).toLocaleString()} · {v.steps.length} steps{v.version === version ? ' (current)' : ''}{' '}
            <button type="button" onClick={() => onEdit(v.steps)}>
              Edit a copy of version {v.version}
            </button>
          </li>
        ))}
      </ul>
    </details>
  );
}

/** How long typing pauses before a draft is previewed: one request per pause, not per key. */
const DRAFT_PREVIEW_DELAY_MS = 300;

/**
 * The sequence rendered for one of the campaign's first leads (or a sample lead), as it will be sent: the draft
 * being edited when there is one, else the saved version. The last rendering stays in place while the next is
 * fetched, and an answer that a later request overtook is dropped.
 */
export function SequencePreviewPanel({ campaignId, version, leadsKey, draft }: { campaignId: string; version: number; leadsKey: string; draft: EditStep[] | null }) {
  const [leads, setLeads] = useState<CampaignLeadPage['leads']>([]);
  const [platformId, setPlatformId] = useState('');
  const [preview, setPreview] = useState<SequencePreview | null>(null);
  const [problems, setProblems] = useState<string[]>([]);
  const latest = useRef(0);
  const draftKey = draft ? JSON.stringify(draft) : '';
  useEffect(() => {
    api<CampaignLeadPage>('GET', campaignPath(campaignId, '/leads?limit=5')).then((page) => setLeads(page.leads), () => undefined);
  }, [campaignId, version, leadsKey]);
  useEffect(() => {
    const request = ++latest.current;
    const body = { ...(platformId ? { platformId } : {}), ...(draft ? { steps: draft } : {}) };
    const run = () =>
      api<SequencePreview>('POST', campaignPath(campaignId, '/sequence/preview'), body).then(
        (p) => request === latest.current && (setPreview(p), setProblems([])),
        (caught: unknown) => request === latest.current && setProblems(sequenceProblems(caught)),
      );
    if (!draft) {
      void run();
      return;
    }
    const timer = setTimeout(() => void run(), DRAFT_PREVIEW_DELAY_MS);
    return () => clearTimeout(timer);
  }, [campaignId, version, platformId, leadsKey, draftKey]);
  const of = !preview ? '' : preview.version === null ? ' of the unsaved draft' : ` of version ${preview.version}`;
  return (
    <section class="preview-panel" aria-labelledby="preview-title">
      <h3 id="preview-title">Preview{of}</h3>
      <label>
        As{' '}
        <select value={platformId} onChange={(e) => setPlatformId((e.target as HTMLSelectElement).value)}>
          <option value="">{leads.length ? 'the first lead' : 'a sample lead (Jane Doe)'}</option>
          {leads.map((lead) => (
            <option key={lead.id} value={lead.prospect.platformId}>
              {lead.prospect.displayName || lead.prospect.username} (@{lead.prospect.username})
            </option>
          ))}
        </select>
      </label>
      {preview && preview.messages.length === 0 && <p class="muted">Save a sequence with a message to see it here.</p>}
      <ol class="plain preview-messages" aria-label="Preview messages">
        {preview?.messages.map((m) => (
          <li key={m.rank}>
            <span class="muted small">Step {m.rank + 1} to @{preview.lead.username}</span>
            <div class="bubble ours-preview">{m.text}</div>
          </li>
        ))}
      </ol>
      <div role="alert" class="form-error">
        {problems.length > 0 && (
          <>
            {draft ? 'The draft cannot be previewed yet:' : 'No preview:'}
            <ul class="problems">
              {problems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          </>
        )}
      </div>
    </section>
  );
}
