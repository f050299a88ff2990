import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type AccountLink, type CampaignPage } from '../api.js';
import { percent, type Campaign } from '../components/campaign-api.js';
import { useCampaignEvents } from '../components/campaign-events.js';
import { navigate } from '../router.js';

/** Every campaign of the team with its counters, kept current by the event stream. */
export function Campaigns() {
  const [list, setList] = useState<Campaign[] | null>(null);
  const [accounts, setAccounts] = useState<Map<string, string>>(new Map());
  const [error, setError] = useState('');
  const load = () =>
    api<CampaignPage>('GET', '/campaigns?limit=100').then(
      (page) => (setList(page.campaigns), setError('')),
      (caught: Error) => setError(caught.message),
    );
  useEffect(() => {
    void load();
    api<AccountLink[]>('GET', '/account-links').then((links) => setAccounts(new Map(links.map((a) => [a.id, `@${a.username}`]))), () => undefined);
  }, []);
  useCampaignEvents(() => void load());

  return (
    <main class="page">
      <div class="page-head">
        <h1>Campaigns</h1>
        <NewCampaign />
      </div>
      <div role="alert" class="form-error">{error}</div>
      {list && !list.length && <p class="muted">No campaign yet. Create one, give it an account, leads and a sequence, then enable it.</p>}
      {list && list.length > 0 && (
        <table class="table campaigns-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Status</th>
              <th>Pause reason</th>
              <th>Accounts</th>
              <th class="num">Targets</th>
              <th class="num">Contacted</th>
              <th class="num">Replied</th>
              <th class="num">Completed sequence</th>
              <th class="num">Reply rate</th>
            </tr>
          </thead>
          <tbody>
            {list.map((campaign) => (
              <tr key={campaign.id} aria-label={campaign.name}>
                <td>
                  <a
                    href={`/app/campaigns/${campaign.id}`}
                    onClick={(event) => {
                      event.preventDefault();
                      navigate(`/app/campaigns/${campaign.id}`);
                    }}
                  >
                    {campaign.name}
                  </a>
                </td>
                <td><span class={`chip campaign-status status-${campaign.status}`}>{campaign.status}</span></td>
                <td>{campaign.pauseReason ?? ''}</td>
                <td>{campaign.accountLinkIds.map((id) => accounts.get(id) ?? '…').join(', ')}</td>
                <td class="num" data-counter="targets">{campaign.targetsCount}</td>
                <td class="num" data-counter="contacted">{campaign.contactedCount}</td>
                <td class="num" data-counter="replied">{campaign.repliedCount}</td>
                <td class="num">{percent(campaign.completionRate)}</td>
                <td class="num">{percent(campaign.replyRate)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}

/** "New campaign": a name, then the new draft's own page. */
function NewCampaign() {
  const [open, setOpen] = useState(false);
  const [error, setError] = useState('');
  if (!open) {
    return (
      <button class="primary" onClick={() => setOpen(true)}>
        New campaign
      </button>
    );
  }
  return (
    <form
      class="inline-form new-campaign"
      onSubmit={async (event) => {
        event.preventDefault();
        const name = String(new FormData(event.currentTarget).get('name') ?? '');
        try {
          const created = await api<Campaign>('POST', '/campaigns/v2', { name });
          navigate(`/app/campaigns/${created.id}`);
        } catch (caught) {
          setError(caught instanceof ApiError ? caught.message : String(caught));
        }
      }}
    >
      <label>
        Campaign name <input name="name" required maxLength={255} autoFocus />
      </label>
      <button class="primary">Create</button>
      <button type="button" onClick={() => setOpen(false)}>
        Cancel
      </button>
      <span role="alert" class="form-error">{error}</span>
    </form>
  );
}
