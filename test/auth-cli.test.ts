import { describe, expect, it } from 'vitest';
import { cliHarness, freePort, waitFor } from './helpers/cli.js';

const { tempDir, inbox } = cliHarness('inbox-auth-cli-', 'info');

const json = { 'content-type': 'application/json' };

describe('first start and members from the command line', () => {
  it('prints a one-time link for the owner to set a password, and `member invite` prints an invite link', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env = { INBOX_DATA_DIR: dataDir, PORT: String(port) };
    const server = inbox(['serve'], env);
    const link = await waitFor(async () => new RegExp(`\\n(http://127\\.0\\.0\\.1:${port}/app/accept/[\\w-]+)\\n`).exec(server.stdoutSoFar())?.[1]);
    const secret = link.split('/').at(-1)!;
    // the link a person opens: the page, then its API lookup
    expect((await waitFor(async () => fetch(link).catch(() => undefined))).status).toBe(200);
    const lookup = await waitFor(async () => {
      const response = await fetch(`${base}/api/v1/invites/accept/${secret}`);
      return response.ok ? ((await response.json()) as { email: string; kind: string; teamName: string }) : undefined;
    });
    expect(lookup).toEqual({ email: 'owner@default-team.localhost', teamName: 'Default team', kind: 'password' });
    const accepted = await fetch(`${base}/api/v1/invites/accept/${secret}`, { method: 'POST', headers: json, body: JSON.stringify({ password: 'the owners password' }) });
    expect(accepted.status).toBe(200);
    expect(((await accepted.json()) as { member: { role: string } }).member.role).toBe('owner');
    const again = await fetch(`${base}/api/v1/invites/accept/${secret}`);
    expect(again.status).toBe(404);
    const signIn = await fetch(`${base}/api/v1/auth/sign-in`, { method: 'POST', headers: json, body: JSON.stringify({ email: lookup.email, password: 'the owners password' }) });
    expect(signIn.status).toBe(200);
    server.kill('SIGTERM');
    const { stderr } = await server.result;
    // nothing about the session or the password reaches the logs
    expect(stderr).not.toContain('the owners password');
    expect(stderr).not.toContain(signIn.headers.get('set-cookie')!.split(';')[0]!.split('=')[1]!);
    // nor the one-time link's secret, which the request log shows redacted
    expect(stderr).toContain('/app/accept/[redacted]');
    expect(stderr).toContain('/api/v1/invites/accept/[redacted]');
    expect(stderr).not.toContain(secret);

    const invite = await inbox(['member', 'invite', 'new.person@example.com', '--role', 'admin'], env).result;
    expect(invite.code).toBe(0);
    expect(invite.stdout).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/app/accept/[\\w-]{43}\\n$`));
    const badRole = await inbox(['member', 'invite', 'x@example.com', '--role', 'king'], env).result;
    expect(badRole.code).toBe(1);
    expect(badRole.stderr).toContain('--role must be admin or user');

    const restarted = inbox(['serve'], env);
    const inviteSecret = invite.stdout.trim().split('/').at(-1)!;
    expect((await waitFor(async () => fetch(invite.stdout.trim()).catch(() => undefined))).status).toBe(200);
    const invited = await waitFor(async () => {
      const response = await fetch(`${base}/api/v1/invites/accept/${inviteSecret}`);
      return response.ok ? ((await response.json()) as { email: string; kind: string }) : undefined;
    });
    expect(invited).toMatchObject({ email: 'new.person@example.com', kind: 'invite' });
    restarted.kill('SIGTERM');
    const afterRestart = await restarted.result;
    expect(afterRestart.stdout).toBe(''); // no second team, token or link
    expect(afterRestart.stderr).toContain('/app/accept/[redacted]');
    expect(afterRestart.stderr).not.toContain(inviteSecret);
  }, 90_000);

  it('takes the owner’s e-mail and password from INBOX_BOOTSTRAP_OWNER_EMAIL and _PASSWORD instead of printing a link', async () => {
    const port = await freePort();
    const server = inbox(['serve'], {
      INBOX_DATA_DIR: tempDir(),
      PORT: String(port),
      INBOX_BOOTSTRAP_OWNER_EMAIL: 'Boss@Example.com',
      INBOX_BOOTSTRAP_OWNER_PASSWORD: 'a long bootstrap pw',
    });
    const signedIn = await waitFor(async () => {
      const response = await fetch(`http://127.0.0.1:${port}/api/v1/auth/sign-in`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ email: 'boss@example.com', password: 'a long bootstrap pw' }),
      });
      return response.status === 200 ? ((await response.json()) as { member: { email: string; role: string } }) : undefined;
    });
    expect(signedIn.member).toMatchObject({ email: 'boss@example.com', role: 'owner' });
    server.kill('SIGTERM');
    const { stdout } = await server.result;
    expect(stdout).toMatch(/inbox_/);
    expect(stdout).not.toContain('/app/accept/');
  }, 60_000);

  it('refuses a short bootstrap password or a bad e-mail, naming the variable', async () => {
    const dataDir = tempDir();
    const short = await inbox(['serve'], { INBOX_DATA_DIR: dataDir, INBOX_BOOTSTRAP_OWNER_PASSWORD: 'short' }).result;
    expect(short.code).toBe(1);
    expect(short.stderr).toContain('INBOX_BOOTSTRAP_OWNER_PASSWORD: must be at least 12 characters');
    const email = await inbox(['serve'], { INBOX_DATA_DIR: dataDir, INBOX_BOOTSTRAP_OWNER_EMAIL: 'nobody' }).result;
    expect(email.code).toBe(1);
    expect(email.stderr).toContain('INBOX_BOOTSTRAP_OWNER_EMAIL: must be an e-mail address');
  }, 60_000);
});
