import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { openRuntime } from '../src/cli/runtime.js';
import { loadConfig } from '../src/config.js';
import { seededRandom } from '../src/core/random.js';
import { sendingEngine } from '../src/runtimes/engine.js';
import { platformRegistry, type Platform } from '../src/platforms/platform.js';
import { SandboxPlatform } from '../src/platforms/sandbox.js';
import { setUpCampaigns } from './helpers/engine.js';
import { expectLeadCountsAgree } from './helpers/fresh-store.js';

/**
 * A process on an embedded data directory dies between reserving a send and calling the platform. The next
 * process to open the directory holds its lock, so no one else can be sending: it reconciles the send at once
 * instead of leaving the lead stalled for the rest of the five-minute lease.
 */
it('a process that opens the data directory after a crash sends what the crash left pending at once', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inbox-restart-'));
  const config = loadConfig({ INBOX_DATA_DIR: dir });
  try {
    const crashed = await openRuntime(config);
    let recipient: string;
    try {
      const { leadIds } = await setUpCampaigns(crashed.ctx, {});
      recipient = leadIds[0]![0]!;
      const sandbox = new SandboxPlatform(crashed.ctx.db, crashed.ctx.clock);
      const dying: Platform = Object.assign(Object.create(sandbox) as SandboxPlatform, {
        sendDmBatch: undefined,
        sendDm: async () => {
          throw new Error('process died before the request');
        },
      });
      const engine = sendingEngine({ ...crashed.ctx, platforms: platformRegistry([dying]) }, seededRandom(1));
      await expect(engine.runOnce()).rejects.toThrow(/process died/);
      const intents = await crashed.ctx.db.selectFrom('send_intents').select(['status', 'claimed_until']).execute();
      expect(intents).toMatchObject([{ status: 'pending' }]);
      expect(intents[0]!.claimed_until.getTime()).toBeGreaterThan(Date.now() + 60_000);
    } finally {
      await crashed.close();
    }

    const restarted = await openRuntime(config);
    try {
      await sendingEngine(restarted.ctx, seededRandom(2)).runOnce();
      const dms = await restarted.ctx.db.selectFrom('sandbox_dm_events').select('id').where('recipient_id', '=', recipient).execute();
      expect(dms).toHaveLength(1);
      const messages = await restarted.ctx.db.selectFrom('messages').select('platform_id').where('outbound', '=', true).execute();
      expect(messages).toEqual([{ platform_id: dms[0]!.id }]);
      expect(await restarted.ctx.db.selectFrom('send_intents').select('status').execute()).toEqual([{ status: 'sent' }]);
      await expectLeadCountsAgree(restarted.ctx.db);
    } finally {
      await restarted.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
