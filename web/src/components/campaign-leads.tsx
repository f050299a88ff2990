import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, query } from '../api.js';
import { campaignPath, LEAD_STATES, type CampaignLead, type CampaignLeadPage, type Column, type WaitingFor } from './campaign-api.js';

const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : '');

/** Where the lead is in the sequence, in words. */
function stepReached(lead: CampaignLead): string {
  if (lead.state === 'pending') return 'not started';
  if (lead.currentStep !== null) return `at step ${lead.currentStep + 1}`;
  return lead.contactedAt ? 'finished' : '';
}

/** Why the lead waits, in words: the reason the engine's plan names, and until when. */
function waitingWords(wait: WaitingFor): string {
  switch (wait.reason) {
    case 'window':
      return wait.until ? `the sending window opens ${when(wait.until)}` : 'the schedule never opens';
    case 'accountPace':
      return `the account's pace of ${wait.messagesPerHour} an hour, until ${when(wait.until)}`;
    case 'accountLimit':
      return `the account's ${wait.limit} limit of ${wait.max}, until ${when(wait.until)}`;
    case 'delay':
      return `a delay step, until ${when(wait.until)}`;
    case 'accountUnavailable': {
      const status = { offline: 'offline', paused: 'paused', rateLimited: 'rate-limited by the platform' }[wait.accountStatus];
      return wait.until ? `the account is ${status}, until ${when(wait.until)}` : `the account is ${status}`;
    }
    case 'campaignPaused':
      return 'the campaign is paused';
    case 'queued':
      return wait.ahead > 0 ? `${wait.ahead} ${wait.ahead === 1 ? 'lead' : 'leads'} ahead of it on its account` : 'about to be given an account';
  }
}

const waiting = (lead: CampaignLead) => (lead.waitingFor ? waitingWords(lead.waitingFor) : '');

/** The campaign's leads: filtered by state, paged by cursor, each cancellable and with editable column values. */
export function LeadsTable({
  campaignId,
  columns,
  accounts,
  refreshKey,
  onChanged,
}: {
  campaignId: string;
  columns: Column[];
  accounts: Map<string, string>;
  refreshKey: string;
  onChanged: () => void;
}) {
  const [state, setState] = useState('');
  const [leads, setLeads] = useState<CampaignLead[]>([]);
  const [next, setNext] = useState<CampaignLeadPage['nextCursor']>(null);
  const [error, setError] = useState('');
  const [editing, setEditing] = useState<string | null>(null);
  const [reload, setReload] = useState(0);
  const page = (cursor: CampaignLeadPage['nextCursor']) =>
    api<CampaignLeadPage>('GET', campaignPath(campaignId, `/leads${query({ state, limit: 50, cursorId: cursor?.id, cursorTimestamp: cursor?.timestamp })}`));
  useEffect(() => {
    page(null).then((p) => (setLeads(p.leads), setNext(p.nextCursor), setError('')), (caught: Error) => setError(caught.message));
  }, [campaignId, state, refreshKey, reload]);
  const act = async (action: () => Promise<unknown>) => {
    try {
      await action();
      setError('');
      setReload((n) => n + 1);
      onChanged();
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.message : String(caught));
    }
  };

  return (
    <div class="leads">
      <div class="row-form">
        <label>
          State{' '}
          <select value={state} onChange={(e) => setState((e.target as HTMLSelectElement).value)}>
            <option value="">all</option>
            {LEAD_STATES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div role="alert" class="form-error">{error}</div>
      {leads.length === 0 ? (
        <p class="muted">{state ? `No ${state} lead.` : 'No lead yet: add some above, or sync a list in the lead rules.'}</p>
      ) : (
        <table class="table compact" aria-label="Leads">
          <thead>
            <tr>
              <th>Prospect</th>
              <th>Account</th>
              <th>State</th>
              <th>Step reached</th>
              <th>Last send</th>
              <th>Next send</th>
              <th>Waiting for</th>
              <th>Failure reason</th>
              {columns.map((c) => (
                <th key={c.id}>{c.name}</th>
              ))}
              <th>
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {leads.map((lead) => {
              const who = `@${lead.prospect.username}`;
              return (
                <tr key={lead.id} aria-label={who}>
                  <td>
                    {lead.prospect.displayName} <span class="muted">{who}</span>
                  </td>
                  <td>{lead.accountLinkId ? (accounts.get(lead.accountLinkId) ?? '') : ''}</td>
                  <td><span class={`chip lead-state state-${lead.state}`}>{lead.state}</span></td>
                  <td>{stepReached(lead)}</td>
                  <td>{when(lead.lastContactAt)}</td>
                  <td>{when(lead.nextSendAt)}</td>
                  <td>{waiting(lead)}</td>
                  <td>{lead.failureReason ?? ''}</td>
                  {columns.map((c) =>
                    editing === lead.id ? (
                      <td key={c.id}>
                        <input
                          form={`values-${lead.id}`}
                          name={c.id}
                          aria-label={`${c.name} of ${who}`}
                          defaultValue={lead.data[c.id] == null ? '' : String(lead.data[c.id])}
                        />
                      </td>
                    ) : (
                      <td key={c.id}>{lead.data[c.id] == null ? '' : String(lead.data[c.id])}</td>
                    ),
                  )}
                  <td class="actions">
                    {editing === lead.id ? (
                      <form
                        id={`values-${lead.id}`}
                        onSubmit={(event) => {
                          event.preventDefault();
                          const form = new FormData(event.currentTarget);
                          const data = Object.fromEntries(columns.map((c) => [c.id, String(form.get(c.id) ?? '') || null]));
                          void act(() => api('PATCH', campaignPath(campaignId, `/leads/${encodeURIComponent(lead.prospect.platformId)}`), { data })).then(() => setEditing(null));
                        }}
                      >
                        <button class="primary">Save values</button>{' '}
                        <button type="button" onClick={() => setEditing(null)}>
                          Cancel editing
                        </button>
                      </form>
                    ) : (
                      columns.length > 0 && (
                        <button type="button" aria-label={`Edit values of ${who}`} onClick={() => setEditing(lead.id)}>
                          Edit
                        </button>
                      )
                    )}{' '}
                    {(lead.state === 'pending' || lead.state === 'active') && (
                      <button type="button" aria-label={`Cancel ${who}`} onClick={() => void act(() => api('POST', campaignPath(campaignId, `/leads/${encodeURIComponent(lead.prospect.platformId)}/cancel`), {}))}>
                        Cancel lead
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {next && (
        <button type="button" onClick={() => page(next).then((p) => (setLeads((all) => [...all, ...p.leads]), setNext(p.nextCursor)), (caught: Error) => setError(caught.message))}>
          Load more leads
        </button>
      )}
    </div>
  );
}
