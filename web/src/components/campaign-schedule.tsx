import { useState } from 'preact/hooks';
import type { Schedule } from './campaign-api.js';
import { nextDateOn, timeZones, viewerZone, weekdayTime, zonedInstant } from './campaign-zones.js';

/** Monday first, as people read a week; the API keys days "0" (Sunday) to "6". */
const DAYS = [
  ['1', 'Monday'],
  ['2', 'Tuesday'],
  ['3', 'Wednesday'],
  ['4', 'Thursday'],
  ['5', 'Friday'],
  ['6', 'Saturday'],
  ['0', 'Sunday'],
] as const;
type Day = (typeof DAYS)[number][0];

const WEEKDAYS_NINE_TO_FIVE: Schedule = Object.fromEntries(['1', '2', '3', '4', '5'].map((d) => [d, { start: 540, end: 1020 }]));
const ALL_WEEK: Schedule = Object.fromEntries(DAYS.map(([d]) => [d, { start: 0, end: 1440 }]));

const pad = (n: number) => String(n).padStart(2, '0');
/** Minutes after midnight as a time input's value; the end of the day (1440) reads 00:00 as the next midnight. */
const asTime = (minutes: number) => `${pad(Math.floor((minutes % 1440) / 60))}:${pad(minutes % 60)}`;
const fromTime = (value: string, isEnd: boolean) => {
  const [h, m] = value.split(':').map(Number);
  const minutes = (h ?? 0) * 60 + (m ?? 0);
  return isEnd && minutes === 0 ? 1440 : minutes;
};

/** Where a window in the campaign's zone falls in the viewer's, this week. */
function inViewerZone(day: Day, window: { start: number; end: number }, campaignZone: string, zone: string): string {
  const date = nextDateOn(Number(day));
  const start = zonedInstant(date, window.start, campaignZone);
  const end = zonedInstant(date, window.end, campaignZone);
  return `${weekdayTime(start, zone)}–${weekdayTime(end, zone)}`;
}

/**
 * The week grid of sending windows: per weekday a switch and its start and end in the campaign's zone, a bar
 * over the day's 24 hours, and the same window in the viewer's own zone beside it.
 */
export function ScheduleEditor({
  schedule,
  timezone,
  onSave,
}: {
  schedule: Schedule;
  timezone: string;
  onSave: (change: { schedule: Schedule; timezone: string }) => Promise<void>;
}) {
  const [days, setDays] = useState<Schedule>(schedule);
  const [zone, setZone] = useState(timezone);
  const [error, setError] = useState('');
  const [saved, setSaved] = useState('');
  const mine = viewerZone();
  const validZone = (() => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  })();
  const setDay = (day: Day, window: { start: number; end: number } | undefined) => {
    setSaved('');
    setDays((current) => {
      const next = { ...current };
      if (window) next[day] = window;
      else delete next[day];
      return next;
    });
  };

  return (
    <form
      class="schedule"
      onSubmit={async (event) => {
        event.preventDefault();
        try {
          await onSave({ schedule: days, timezone: zone });
          setError('');
          setSaved('Schedule saved');
        } catch (caught) {
          setError((caught as Error).message);
        }
      }}
    >
      <div class="row-form">
        <label>
          Time zone{' '}
          <input list="time-zones" value={zone} onInput={(e) => (setZone((e.target as HTMLInputElement).value), setSaved(''))} required aria-invalid={!validZone} />
        </label>
        <datalist id="time-zones">
          {['UTC', ...timeZones()].map((name) => (
            <option key={name} value={name} />
          ))}
        </datalist>
        <button type="button" onClick={() => (setDays(WEEKDAYS_NINE_TO_FIVE), setSaved(''))}>Weekdays 9:00–17:00</button>
        <button type="button" onClick={() => (setDays(ALL_WEEK), setSaved(''))}>Every day, all day</button>
      </div>
      <table class="week" aria-label="Sending windows">
        <thead>
          <tr>
            <th>Day</th>
            <th>From</th>
            <th>To</th>
            <th aria-hidden="true">
              <div class="hours">
                <span>0</span><span>6</span><span>12</span><span>18</span><span>24</span>
              </div>
            </th>
            <th>In your zone ({mine})</th>
          </tr>
        </thead>
        <tbody>
          {DAYS.map(([day, name]) => {
            const window = days[day];
            return (
              <tr key={day}>
                <th scope="row">
                  <label>
                    <input type="checkbox" checked={!!window} onChange={(e) => setDay(day, (e.target as HTMLInputElement).checked ? { start: 540, end: 1020 } : undefined)} />{' '}
                    {name}
                  </label>
                </th>
                <td>
                  <input
                    type="time"
                    aria-label={`${name} from`}
                    disabled={!window}
                    value={window ? asTime(window.start) : ''}
                    onChange={(e) => window && setDay(day, { ...window, start: fromTime((e.target as HTMLInputElement).value, false) })}
                  />
                </td>
                <td>
                  <input
                    type="time"
                    aria-label={`${name} to`}
                    disabled={!window}
                    value={window ? asTime(window.end) : ''}
                    onChange={(e) => window && setDay(day, { ...window, end: fromTime((e.target as HTMLInputElement).value, true) })}
                  />
                </td>
                <td class="day-bar" aria-hidden="true">
                  {window && <span style={{ left: `${(window.start / 1440) * 100}%`, width: `${(Math.max(0, window.end - window.start) / 1440) * 100}%` }} />}
                </td>
                <td class="muted">{window ? (validZone ? inViewerZone(day, window, zone, mine) : '') : 'no sending'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <div class="row-form">
        <button class="primary">Save schedule</button>
        <span role="status" class="muted">{saved}</span>
        <span role="alert" class="form-error">{error}</span>
      </div>
    </form>
  );
}
