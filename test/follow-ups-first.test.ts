import { describe, expect, it } from 'vitest';
import { allWeek, delay, message, runScenario, type SimResult } from './helpers/simulation.js';

/**
 * A sender's due follow-ups go before its first touches: with a backlog of new leads, a sequence's next step
 * still goes out when it falls due (at the sender's next slot), not after every new lead has had its first.
 */
const scenario = {
  start: '2026-03-05T00:00:00Z',
  until: '2026-03-08T00:00:00Z',
  seed: 5,
  accounts: [{ username: 'alice', hourlyLimit: 6, dailyLimit: 100 }],
  campaign: {
    name: 'Backlog',
    messagesPerHour: 6,
    schedule: allWeek,
    sequence: { steps: [message('Hi'), delay(3_600), message('Following up')] },
    leads: { count: 40, firstId: '8200' },
  },
};

function firstTouchesWhileAFollowUpWasDue(run: SimResult): string[] {
  const contacted = new Map(run.targets.filter((t) => t.type === 'target.contacted').map((t) => [t.platformId, t.at.getTime()]));
  const followedUp = new Map(run.targets.filter((t) => t.type === 'target.followUpSent').map((t) => [t.platformId, t.at.getTime()]));
  const late: string[] = [];
  for (const [lead, at] of contacted) {
    for (const [other, contactedAt] of contacted) {
      const due = contactedAt + 3_600_000;
      if (other !== lead && due <= at && (followedUp.get(other) ?? Infinity) > at) late.push(`${lead} first while ${other}'s follow-up was due`);
    }
  }
  return late;
}

describe('follow-ups first', { timeout: 120_000 }, () => {
  for (const stepwise of [false, true]) {
    it(`sends a due follow-up before any first touch of the backlog (${stepwise ? 'a pass per instant' : 'spans of virtual time'})`, async () => {
      const run = await runScenario(scenario, { stepwise });
      expect(run.targets.filter((t) => t.type === 'target.followUpSent')).toHaveLength(40);
      expect(firstTouchesWhileAFollowUpWasDue(run)).toEqual([]);
      // The first follow-up goes out at the first slot after its delay, long before the backlog of first touches ends.
      const lastFirstTouch = Math.max(...run.targets.filter((t) => t.type === 'target.contacted').map((t) => t.at.getTime()));
      const firstFollowUp = Math.min(...run.targets.filter((t) => t.type === 'target.followUpSent').map((t) => t.at.getTime()));
      expect(firstFollowUp).toBeLessThan(lastFirstTouch);
    });
  }
});
