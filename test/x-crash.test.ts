import { spawn } from 'node:child_process';
import path from 'node:path';
import pino from 'pino';
import { expect, it } from 'vitest';
import type { AppContext } from '../src/app/context.js';
import { createTeam } from '../src/app/team/teams.js';
import { createToken } from '../src/app/team/tokens.js';
import { systemClock } from '../src/core/clock.js';
import { loadConfig } from '../src/config.js';
import { buildServer } from '../src/http/server.js';
import { createPlatformRegistry } from '../src/platforms/registry.js';
import { FakeX } from './fixtures/fake-x/server.js';
import { freshStore } from './helpers/fresh-store.js';
import { FAKE_X_CLIENT, xEnv } from './helpers/x.js';
import { leadWaits } from '../src/engine/lead-waits.js';
import { compiledCli } from './helpers/compiled.js';

/**
 * The crash the send-intent protocol exists for, with real processes: an `inbox worker` is killed after X has
 * accepted a DM and before the worker could record it; a restarted worker must find the DM on X and record
 * it, not send it again. Needs a PostgreSQL server (CI's second pass): the test reads the store while
 * workers run.
 */
const server = process.env.DATABASE_URL;
const root = path.resolve(import.meta.dirname, '..');
const allWeek = Object.fromEntries(['0', '1', '2', '3', '4', '5', '6'].map((d) => [d, { start: 0, end: 1440 }]));

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

it.skipIf(!server)('a worker killed between X accepting a DM and recording it does not send it again', async () => {
  const store = await freshStore();
  const fake = await new FakeX(FAKE_X_CLIENT).start();
  const env = xEnv(fake.url);
  const config = loadConfig(env);
  const ctx: AppContext = {
    db: store.db,
    clock: systemClock,
    config,
    logger: pino({ level: 'silent' }),
    platforms: createPlatformRegistry(store.db, systemClock, config),
    leadWaits,
  };
  const workers: ReturnType<typeof spawn>[] = [];
  try {
    // A team with an X account linked through OAuth, and a one-message campaign to one lead.
    const app = await buildServer(ctx);
    const { team, owner } = await createTeam(store.db, 'Crash test', new Date());
    const { token } = await createToken(store.db, { teamId: team.id, memberId: owner.id, name: 'test' }, new Date());
    const call = async (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) => {
      const response = await app.inject({ method, url, payload, headers: { authorization: `Bearer ${token}` } });
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBe(200);
      return response.json();
    };
    const sender = fake.addUser({ username: 'our_sender' });
    const { url } = await call('POST', '/api/v1/account-links/x/authorize', {});
    const { code, state } = fake.consent(url, sender.id);
    const link = (await app.inject({ method: 'GET', url: `/api/v1/account-links/x/callback?${new URLSearchParams({ code, state })}` })).json();
    const lead = fake.addUser({ username: 'crash_lead' });
    const campaign = await call('POST', '/api/v1/campaigns/v2', { name: 'Once', accountLinkIds: [link.id], schedule: allWeek });
    await call('PUT', `/api/v1/campaigns/v2/${campaign.id}/sequence`, {
      steps: [{ type: 'message', data: { segments: [{ type: 'static', text: 'Hello, exactly once' }] } }],
    });
    await call('POST', `/api/v1/campaigns/v2/${campaign.id}/leads`, { platformIds: [lead.id] });
    await call('POST', `/api/v1/campaigns/v2/${campaign.id}/enable`, {});
    await app.close();

    const startWorker = () => {
      const child = spawn(process.execPath, [compiledCli(), 'worker'], {
        cwd: root,
        env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', DATABASE_URL: store.url!, ...env },
      });
      workers.push(child);
      return { child, exited: new Promise<number | null>((resolve) => child.on('close', resolve)) };
    };

    // X accepts the DM and holds its answer; the worker dies waiting for it.
    let accepted!: () => void;
    const dmAccepted = new Promise<void>((resolve) => (accepted = resolve));
    let answer!: () => void;
    fake.beforeDmAnswer = async () => {
      accepted();
      await new Promise<void>((resolve) => (answer = resolve));
    };
    const first = startWorker();
    await dmAccepted;
    first.child.kill('SIGKILL');
    await first.exited;
    answer();
    fake.beforeDmAnswer = undefined;

    const toLead = () => fake.events.filter((e) => e.dm_conversation_id.split('-').includes(lead.id));
    expect(toLead()).toHaveLength(1);
    const intents = () => store.db.selectFrom('send_intents').select(['status', 'platform_message_id']).execute();
    expect((await intents()).map((i) => i.status)).toEqual(['pending']);
    expect(await store.db.selectFrom('messages').select('id').where('campaign_id', '=', campaign.id).execute()).toEqual([]);

    // The dead worker's lease on the send runs out, and a new worker starts.
    await store.db.updateTable('send_intents').set({ claimed_until: new Date(0) }).where('campaign_id', '=', campaign.id).execute();
    const second = startWorker();
    const recorded = await until('the DM to be recorded', async () => {
      const rows = await store.db.selectFrom('messages').select(['platform_id']).where('campaign_id', '=', campaign.id).execute();
      return rows.length > 0 ? rows : undefined;
    });
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);

    expect(toLead()).toHaveLength(1);
    expect(recorded).toEqual([{ platform_id: toLead()[0]!.id }]);
    expect(await intents()).toEqual([{ status: 'sent', platform_message_id: toLead()[0]!.id }]);
    const leadRow = await store.db.selectFrom('campaign_leads').select(['contacted_at', 'state']).where('campaign_id', '=', campaign.id).executeTakeFirstOrThrow();
    expect(leadRow.contacted_at).not.toBeNull();
  } finally {
    for (const child of workers) child.kill('SIGKILL');
    await fake.stop();
    await store.close();
  }
}, 120_000);
