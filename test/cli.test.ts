import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliHarness, freePort, waitFor } from './helpers/cli.js';
import { DataDirLockedError, lockDataDir } from '../src/store/lock.js';
import { startReceiver } from './helpers/receiver.js';

const { tempDir, inbox } = cliHarness('inbox-cli-', 'warn');
const run = (args: string[], env: Record<string, string>) => inbox(args, env).result;

describe('data directory lock', () => {
  it('refuses a second holder, naming the first, and takes over a stale lock', () => {
    const dir = tempDir();
    const release = lockDataDir(dir);
    expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
    fs.writeFileSync(path.join(dir, 'inbox.lock'), '999999999'); // a PID that does not exist
    const again = lockDataDir(dir);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'inbox.lock'), 'utf8')).pid).toBe(process.pid);
    again();
    release();
    expect(fs.existsSync(path.join(dir, 'inbox.lock'))).toBe(false);
  });
});

describe('inbox CLI on the embedded store', () => {
  it('serves with a printed bootstrap token, guards the data dir, and manages tokens and teams', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const env = { INBOX_DATA_DIR: dataDir, PORT: String(port) };
    const server = inbox(['serve'], env);
    const token = await waitFor(async () => /\n(inbox_\S+)\n/.exec(server.stdoutSoFar())?.[1]);
    const base = `http://127.0.0.1:${port}`;
    const team = await waitFor(async () => {
      const response = await fetch(`${base}/api/v1/team`, { headers: { authorization: `Bearer ${token}` } });
      return response.ok ? ((await response.json()) as { name: string }) : undefined;
    });
    expect(team.name).toBe('Default team');

    const locked = await run(['token', 'list'], env);
    expect(locked.code).not.toBe(0);
    expect(locked.stderr).toContain(`in use by process ${server.pid}`);

    server.kill('SIGTERM');
    expect((await server.result).code).toBe(0);
    expect(fs.existsSync(path.join(dataDir, 'inbox.lock'))).toBe(false);

    const created = await run(['token', 'create', '--name', 'ci'], env);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^inbox_\S+\n$/);
    const teamId = (await run(['team', 'create', 'Second Team'], env)).stdout.trim();
    expect(teamId).toMatch(/^[0-9a-z]{24}$/);
    const secondToken = (await run(['token', 'create', '--name', 'two', '--team', teamId], env)).stdout.trim();
    const list = await run(['token', 'list'], env);
    expect(list.stdout).toContain('\tci\t');
    expect(list.stdout).not.toContain(created.stdout.trim());
    const tokenId = list.stdout.split('\n').find((l) => l.includes('\tci\t'))!.split('\t')[0]!;
    expect((await run(['token', 'revoke', tokenId], env)).code).toBe(0);
    expect((await run(['token', 'list'], env)).stdout).toMatch(/\tci\t.*revoked/);

    // Restarted: the store persisted, no new bootstrap token is printed, the second team's token works.
    const restarted = inbox(['serve'], env);
    const second = await waitFor(async () => {
      const response = await fetch(`${base}/api/v1/team`, { headers: { authorization: `Bearer ${secondToken}` } });
      return response.ok ? ((await response.json()) as { id: string }) : undefined;
    });
    expect(second.id).toBe(teamId);
    restarted.kill('SIGTERM');
    const final = await restarted.result;
    expect(final.stdout).toBe('');
  }, 90_000);

  it('registers INBOX_BOOTSTRAP_TOKEN instead of printing one', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const bootstrap = 'inbox_bootstrap_for_tests_0123456789';
    const server = inbox(['serve'], { INBOX_DATA_DIR: dataDir, PORT: String(port), INBOX_BOOTSTRAP_TOKEN: bootstrap });
    const status = await waitFor(async () => {
      const response = await fetch(`http://127.0.0.1:${port}/api/v1/team`, { headers: { authorization: `Bearer ${bootstrap}` } });
      return response.status === 200 ? response.status : undefined;
    });
    expect(status).toBe(200);
    server.kill('SIGTERM');
    expect((await server.result).stdout).not.toMatch(/inbox_/); // only the owner's password link
  }, 60_000);

  it('delivers webhooks while serving and stops cleanly on SIGTERM', async () => {
    const receiver = await startReceiver();
    const port = await freePort();
    const token = 'inbox_bootstrap_for_webhooks_0123456789';
    const server = inbox(['serve'], {
      INBOX_DATA_DIR: tempDir(),
      PORT: String(port),
      INBOX_BOOTSTRAP_TOKEN: token,
      INBOX_WEBHOOK_ALLOW_PRIVATE: '1',
    });
    const post = (path: string, body: unknown) =>
      fetch(`http://127.0.0.1:${port}/api/v1${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    await waitFor(async () => ((await post('/webhooks', { url: receiver.url, eventTypes: ['tag'] })).ok ? true : undefined));
    expect((await post('/tags', { name: 'Hot' })).status).toBe(200);
    await waitFor(async () => (receiver.received.length > 0 ? true : undefined));
    expect(JSON.parse(receiver.received[0]!.body)).toMatchObject({ seq: 1, type: 'tag.created', data: { tag: { name: 'Hot' } } });
    server.kill('SIGTERM');
    expect((await server.result).code).toBe(0);
    await receiver.close();
  }, 60_000);

  it('exits non-zero with a clear message on bad configuration', async () => {
    const dataDir = tempDir();
    const badPort = await run(['serve'], { INBOX_DATA_DIR: dataDir, PORT: 'eighty' });
    expect(badPort.code).toBe(1);
    expect(badPort.stderr).toContain('PORT');
    const unknownOption = await run(['serve', '--bogus'], { INBOX_DATA_DIR: dataDir });
    expect(unknownOption.code).not.toBe(0);
    expect(unknownOption.stderr).toContain("unknown option '--bogus'");
    const badUrl = await run(['migrate'], { DATABASE_URL: 'mysql://x' });
    expect(badUrl.code).toBe(1);
    expect(badUrl.stderr).toContain('DATABASE_URL');
    const port = await freePort();
    const unreachable = await run(['migrate'], { DATABASE_URL: `postgres://nobody@127.0.0.1:${port}/none` });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain('Cannot connect to the PostgreSQL server in DATABASE_URL');
  }, 60_000);
});
