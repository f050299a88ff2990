import { useEffect, useRef, useState } from 'preact/hooks';
import type uPlot from 'uplot';
import { api } from '../api.js';
import { campaignPath, type Forecast } from './campaign-api.js';

/** One colour per account, told apart by the legend's names too (colour is never the only signal). */
const PALETTE = ['#4f46e5', '#0ea5e9', '#f59e0b', '#10b981', '#ef4444', '#8b5cf6', '#64748b', '#ec4899'];

const dayStart = (date: string) => Date.parse(`${date}T00:00:00Z`) / 1000;

/** The forecast names only days with sends; the days between (a closed weekend) are drawn as zero. */
function withQuietDays(days: Forecast['sendsPerDay']): Forecast['sendsPerDay'] {
  if (days.length === 0) return days;
  const byDate = new Map(days.map((d) => [d.date, d]));
  const all: Forecast['sendsPerDay'] = [];
  for (let t = dayStart(days[0]!.date); t <= dayStart(days.at(-1)!.date); t += 86_400) {
    const date = new Date(t * 1000).toISOString().slice(0, 10);
    all.push(byDate.get(date) ?? { date, sends: 0, byAccount: {} });
  }
  return all;
}

/**
 * The forecast (GET .../forecast), on request, as a chart of sends per day, one line per account and the total,
 * until the projected finish. Drawn with uPlot: about 50 KB, canvas, fast with long series (see README).
 */
export function ForecastChart({
  campaignId,
  accounts,
  leads,
  refreshKey,
}: {
  campaignId: string;
  accounts: Map<string, string>;
  /** the campaign's targets, to say what asking for a forecast costs */
  leads: number;
  refreshKey: string;
}) {
  const [forecast, setForecast] = useState<Forecast | null>(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  // A forecast is an engine run in the server process (seconds per few thousand leads): it runs when asked for,
  // then again whenever the plan changes while the page is open.
  const [attempt, setAttempt] = useState(0);
  const host = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (attempt === 0) return;
    let current = true;
    setBusy(true);
    api<Forecast>('GET', campaignPath(campaignId, '/forecast')).then(
      (f) => current && (setForecast(f), setError(''), setBusy(false)),
      (caught: Error) => current && (setError(caught.message), setBusy(false)),
    );
    return () => {
      current = false;
    };
  }, [campaignId, refreshKey, attempt]);

  const days = withQuietDays(forecast?.sendsPerDay ?? []);
  const accountIds = [...new Set(days.flatMap((d) => Object.keys(d.byAccount)))];

  useEffect(() => {
    const element = host.current;
    if (!element || days.length === 0) return;
    let chart: uPlot | undefined;
    let mounted = true;
    const data: uPlot.AlignedData = [
      days.map((d) => dayStart(d.date)),
      days.map((d) => d.sends),
      ...accountIds.map((id) => days.map((d) => d.byAccount[id] ?? 0)),
    ];
    void import('uplot').then(({ default: UPlot }) => {
      if (!mounted) return;
      chart = new UPlot(
        {
          width: Math.max(320, element.clientWidth),
          height: 220,
          scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
          // A tick a day while the days fit; beyond two weeks uPlot spaces them itself.
          axes: [days.length <= 14 ? { splits: () => data[0] as number[], values: (_u, splits) => splits.map((t) => new Date(t * 1000).toISOString().slice(5, 10)) } : {}, { label: 'sends' }],
          series: [
            { label: 'Day', value: (_u, v) => (v == null ? '' : new Date(v * 1000).toISOString().slice(0, 10)) },
            { label: 'All accounts', stroke: '#1b1d22', width: 2, dash: [4, 4] },
            ...accountIds.map((id, i) => ({ label: accounts.get(id) ?? id, stroke: PALETTE[i % PALETTE.length], width: 2, points: { show: true } })),
          ],
        },
        data,
        element,
      );
    });
    return () => {
      mounted = false;
      chart?.destroy();
    };
  }, [forecast, accounts]);

  const total = days.reduce((n, d) => n + d.sends, 0);
  return (
    <figure class="forecast" aria-labelledby="forecast-caption">
      {attempt === 0 && (
        <button type="button" onClick={() => setAttempt(1)}>
          Work out the forecast{leads > 5_000 ? ` (${leads.toLocaleString()} leads: this takes the server a while)` : ''}
        </button>
      )}
      <figcaption id="forecast-caption">
        {busy && 'Working out the forecast…'}
        {!busy && forecast && (forecast.completedAt ? `Projected finish: ${new Date(forecast.completedAt).toLocaleString()}` : days.length ? 'Does not finish within a year' : 'Nothing to send')}
        {!busy && forecast && days.length > 0 && ` · ${total} sends over ${days.length} days`}
      </figcaption>
      <div role="alert" class="form-error">
        {error}
        {error && (
          <button type="button" onClick={() => setAttempt((n) => n + 1)}>
            Try the forecast again
          </button>
        )}
      </div>
      <div ref={host} class="chart" role="img" aria-label="Sends per day by account" hidden={days.length === 0} />
      {days.length > 0 && (
        <details>
          <summary>Sends per day as a table</summary>
          <table class="table compact" aria-label="Forecast sends per day">
            <thead>
              <tr>
                <th>Day</th>
                <th class="num">All</th>
                {accountIds.map((id) => (
                  <th key={id} class="num">{accounts.get(id) ?? id}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {days.map((d) => (
                <tr key={d.date}>
                  <td>{d.date}</td>
                  <td class="num">{d.sends}</td>
                  {accountIds.map((id) => (
                    <td key={id} class="num">{d.byAccount[id] ?? 0}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      )}
    </figure>
  );
}
