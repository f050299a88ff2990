import { useEffect, useRef } from 'preact/hooks';
import { EVENT_TYPES } from '../../../src/core/event-types.js';

/** The events after which campaign counters, statuses or leads may read differently. */
const CAMPAIGN_EVENTS = EVENT_TYPES.filter((type) => /^(campaign|target)\./.test(type));

/**
 * Follows the team's event stream while the component is mounted and calls `refresh` once per burst of campaign
 * or lead events (a send writes a few), and after a reconnect, since events may have been missed meanwhile.
 */
export function useCampaignEvents(refresh: () => void): void {
  const latest = useRef(refresh);
  latest.current = refresh;
  useEffect(() => {
    const source = new EventSource('/api/v1/events/stream', { withCredentials: true });
    let failed = false;
    let pending: ReturnType<typeof setTimeout> | undefined;
    const soon = () => {
      clearTimeout(pending);
      pending = setTimeout(() => latest.current(), 150);
    };
    source.onopen = () => {
      if (failed) soon();
      failed = false;
    };
    source.onerror = () => {
      failed = true;
    };
    for (const type of CAMPAIGN_EVENTS) source.addEventListener(type, soon);
    return () => {
      clearTimeout(pending);
      source.close();
    };
  }, []);
}
