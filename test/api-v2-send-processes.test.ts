import { afterAll, expect, it } from 'vitest';
import { createTeam } from '../src/app/team/teams.js';
import { createToken } from '../src/app/team/tokens.js';
import { cliHarness, freePort, waitFor } from './helpers/cli.js';
import { expectV2Contract } from './helpers/contract-v2.js';
import { freshStore, type FreshStore } from './helpers/fresh-store.js';
import { randomPlatformId, randomUsername } from './helpers/sandbox.js';

/**
 * One Idempotency-Key across two `inbox serve` processes sharing a PostgreSQL store: requests with one key sent
 * to both at once make one platform send, and both answer as the contract documents. Needs a PostgreSQL server
 * (CI's second pass); the embedded store serves one process only.
 */
const server = process.env.DATABASE_URL;
const cli = cliHarness('inbox-send-processes-', 'warn');
let store: FreshStore | undefined;
afterAll(() => store?.close());

it.skipIf(!server)('two server processes on one PostgreSQL store send once per key', async () => {
  store = await freshStore();
  const { team, owner } = await createTeam(store.db, 'Two servers', new Date());
  const { token } = await createToken(store.db, { teamId: team.id, memberId: owner.id, name: 'test' }, new Date());
  const ports = [await freePort(), await freePort()];
  for (const port of ports) cli.inbox(['serve', '--no-engine'], { DATABASE_URL: store.url!, PORT: String(port), INBOX_RATE_LIMIT_PER_MINUTE: '100000' });
  const call = (port: number, method: string, path: string, body?: unknown, key?: string) =>
    fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  for (const port of ports) await waitFor(async () => ((await call(port, 'GET', '/api/v2/team')).ok ? true : undefined), 60_000);
  const account = await (await call(ports[0]!, 'POST', '/api/v1/account-links/sandbox', { username: randomUsername('two') })).json();

  const recipient = randomPlatformId();
  for (let i = 0; i < 10; i++) {
    const body = { target: { type: 'profile', accountLinkId: account.id, platform: 'sandbox', platformId: recipient }, content: `Across processes ${i}` };
    const key = `across-${i}`;
    const answers = await Promise.all(
      ports.map(async (port) => {
        const response = await call(port, 'POST', '/api/v2/messages', body, key);
        const json = await response.json();
        expectV2Contract('POST', '/messages', response.status, json);
        return { status: response.status, json };
      }),
    );
    expect(answers.filter((a) => a.status === 201), JSON.stringify(answers)).toHaveLength(1);
    const sent = answers.find((a) => a.status === 201)!.json;
    for (const other of answers.filter((a) => a.status !== 201)) {
      expect([200, 409], JSON.stringify(other)).toContain(other.status);
      expect(other.status === 200 ? other.json.message.id : other.json.details.messageId).toBe(sent.message.id);
    }
    // Whichever process is asked next replays the same send.
    const replay = await call(ports[(i + 1) % 2]!, 'POST', '/api/v2/messages', body, key);
    expect(replay.status).toBe(200);
    expect((await replay.json()).message.id).toBe(sent.message.id);
  }
  const dms = await store.db.selectFrom('sandbox_dm_events').select('text').where('recipient_id', '=', recipient).execute();
  expect(dms.map((d) => d.text).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `Across processes ${i}`).sort());
  const messages = await store.db.selectFrom('messages').select('content').where('team_id', '=', team.id).execute();
  expect(messages).toHaveLength(10);
}, 180_000);
