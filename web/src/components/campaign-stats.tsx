import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { campaignPath, percent, type CampaignStats } from './campaign-api.js';

/** Sent, replied after and reply rate per message step and per variation option (GET .../stats). */
export function StatsTable({ campaignId, refreshKey }: { campaignId: string; refreshKey: string }) {
  const [stats, setStats] = useState<CampaignStats | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    api<CampaignStats>('GET', campaignPath(campaignId, '/stats')).then((s) => (setStats(s), setError('')), (caught: Error) => setError(caught.message));
  }, [campaignId, refreshKey]);
  return (
    <>
      <div role="alert" class="form-error">{error}</div>
      {stats && stats.steps.length === 0 && <p class="muted">No message step yet.</p>}
      {stats && stats.steps.length > 0 && (
        <table class="table compact" aria-label="Results per step">
          <thead>
            <tr>
              <th>Step</th>
              <th>Variation</th>
              <th class="num">Sent</th>
              <th class="num">Replied after</th>
              <th class="num">Reply rate</th>
            </tr>
          </thead>
          <tbody>
            {stats.steps.map((step) => {
              const name = `Step ${step.rank + 1}${step.current ? '' : ` (version ${step.version})`}`;
              return [
                <tr key={`${step.version}:${step.stepId}`} class="step-total">
                  <th scope="row">{name}</th>
                  <td class="muted">all</td>
                  <td class="num">{step.sent}</td>
                  <td class="num">{step.replied}</td>
                  <td class="num">{percent(step.replyRate)}</td>
                </tr>,
                ...step.variations.flatMap((variation) =>
                  variation.options.map((option) => (
                    <tr key={`${step.stepId}:${variation.segment}:${option.option}`}>
                      <td />
                      <td>“{option.text}”</td>
                      <td class="num">{option.sent}</td>
                      <td class="num">{option.replied}</td>
                      <td class="num">{percent(option.replyRate)}</td>
                    </tr>
                  )),
                ),
              ];
            })}
          </tbody>
        </table>
      )}
    </>
  );
}
