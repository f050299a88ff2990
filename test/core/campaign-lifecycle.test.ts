import { describe, expect, it } from 'vitest';
import { deleteRefusal, transition, type CampaignStatus, type LifecycleAction } from '../../src/core/campaign-lifecycle.js';

const STATUSES: CampaignStatus[] = ['draft', 'active', 'paused', 'completed'];
const ACTIONS: LifecycleAction[] = ['enable', 'disable', 'complete'];

describe('campaign lifecycle', () => {
  it('starts a draft and resumes a paused campaign', () => {
    expect(transition('draft', 'enable')).toEqual({ allowed: true, to: 'active', events: ['campaign.started'] });
    expect(transition('paused', 'enable')).toEqual({
      allowed: true,
      to: 'active',
      events: ['campaign.started', 'campaign.resumed'],
    });
  });

  it('pauses and completes only an active campaign', () => {
    expect(transition('active', 'disable')).toEqual({ allowed: true, to: 'paused', events: ['campaign.paused'] });
    expect(transition('active', 'complete')).toEqual({ allowed: true, to: 'completed', events: ['campaign.completed'] });
    for (const from of ['draft', 'paused'] as const) {
      expect(transition(from, 'disable').allowed).toBe(false);
      expect(transition(from, 'complete').allowed).toBe(false);
    }
  });

  it('refuses enabling an active campaign', () => {
    expect(transition('active', 'enable')).toEqual({ allowed: false, reason: 'the campaign is already active' });
  });

  it('keeps a completed campaign completed whatever is asked', () => {
    for (const action of ACTIONS) {
      const result = transition('completed', action);
      expect(result.allowed).toBe(false);
      if (!result.allowed) expect(result.reason).toContain('completed');
    }
  });

  it('allows exactly the transitions of the diagram', () => {
    const allowed = STATUSES.flatMap((from) =>
      ACTIONS.flatMap((action) => {
        const result = transition(from, action);
        return result.allowed ? [`${from} -${action}-> ${result.to}`] : [];
      }),
    );
    expect(allowed).toEqual(['draft -enable-> active', 'active -disable-> paused', 'active -complete-> completed', 'paused -enable-> active']);
  });

  it('deletes anything but an active campaign', () => {
    expect(STATUSES.filter((status) => deleteRefusal(status) !== null)).toEqual(['active']);
  });
});
