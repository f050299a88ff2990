import { useEffect, useState } from 'preact/hooks';
import { api, type CampaignPage } from '../api.js';

type Campaign = CampaignPage['campaigns'][number];

export function Campaigns() {
  const [list, setList] = useState<Campaign[] | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    api<CampaignPage>('GET', '/campaigns?limit=100').then((page) => setList(page.campaigns), (caught: Error) => setError(caught.message));
  }, []);
  return (
    <main class="page">
      <h1>Campaigns</h1>
      <div role="alert" class="form-error">{error}</div>
      {list && !list.length && <p class="muted">No campaign yet. Create one through the API (POST /api/v1/campaigns/v2).</p>}
      {list && list.length > 0 && (
        <table class="table">
          <thead>
            <tr><th>Name</th><th>Status</th><th>Pause reason</th><th>Targets</th><th>Contacted</th><th>Replied</th><th>Per hour</th></tr>
          </thead>
          <tbody>
            {list.map((campaign) => (
              <tr key={campaign.id}>
                <td>{campaign.name}</td>
                <td><span class={`chip status-${campaign.status}`}>{campaign.status}</span></td>
                <td>{campaign.pauseReason ?? ''}</td>
                <td>{campaign.targetsCount}</td>
                <td>{campaign.contactedCount}</td>
                <td>{campaign.repliedCount}</td>
                <td>{campaign.messagesPerHour}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}
