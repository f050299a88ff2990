import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { buildServer } from '../src/http/server.js';
import { testContext } from './helpers/app.js';

/** Sends raw bytes to a listening server and reads everything it answers until it closes the connection. */
async function raw(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

describe('requests refused before fastify sees them', () => {
  it('answer in the error envelope and close the connection', async () => {
    const app = await buildServer(await testContext());
    await app.listen({ port: 0, host: '127.0.0.1' });
    onTestFinished(() => app.close());
    const { port } = app.server.address() as AddressInfo;

    const huge = await raw(port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`);
    expect(huge).toMatch(/^HTTP\/1\.1 431 /);
    expect(huge).toMatch(/connection: close/i);
    expect(JSON.parse(huge.slice(huge.indexOf('\r\n\r\n') + 4))).toEqual({ error: { code: 'HEADERS_TOO_LARGE', message: expect.any(String), status: 431 } });

    for (const request of ['GARBAGE\r\n\r\n', 'GET / HTTP/9.9\r\n\r\n', 'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n']) {
      const answer = await raw(port, request);
      expect(answer, request).toMatch(/^HTTP\/1\.1 400 /);
      expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual({ error: { code: 'BAD_REQUEST', message: 'The request is not valid HTTP', status: 400 } });
    }
  });
});

describe('over-large uploads', () => {
  it('are refused on their declared length before the body is sent, and the connection is closed after any 413', async () => {
    const { newTeam } = await import('./helpers/app.js');
    const team = await newTeam();
    const app = await buildServer(await testContext({ env: { INBOX_IMPORT_LIMIT_BYTES: '1000' } }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    onTestFinished(() => app.close());
    const { port } = app.server.address() as AddressInfo;
    const list = (await team.request('POST', '/api/v1/lists', { name: 'Uploads' })).json() as { id: string };
    const head = (length: number) =>
      `POST /api/v1/import-jobs?listId=${list.id}&idColumn=id HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${team.token}\r\nContent-Type: text/csv\r\nContent-Length: ${length}\r\n\r\n`;

    // Only the headers go out: the answer comes without waiting for the 10 MB they announce.
    const early = await raw(port, head(10_000_000));
    expect(early).toMatch(/^HTTP\/1\.1 413 /);
    expect(early).toMatch(/connection: close/i);
    expect(early).toContain('"code":"PAYLOAD_TOO_LARGE"');

    // A body that runs past the limit without declaring it (chunked) is cut off by the streamed check.
    const rows = `id\n${Array.from({ length: 500 }, (_, i) => String(1_000_000 + i)).join('\n')}\n`;
    const chunked =
      `POST /api/v1/import-jobs?listId=${list.id}&idColumn=id HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${team.token}\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n` +
      `${rows.length.toString(16)}\r\n${rows}\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`;
    const late = await raw(port, chunked);
    expect(late).toMatch(/^HTTP\/1\.1 413 /);
    expect(late).toMatch(/connection: close/i);
    // The request queued behind it on the same connection is not answered as if the stream were in step.
    expect(late).not.toContain('"status":"ok"');
  });
});

describe('requests that cannot hold the server', () => {
  /**
   * Opens a connection that sends an authenticated request's head, then one byte of its body every `everyMs`, and
   * resolves with what it was answered once the server closed it.
   */
  async function slowBody(port: number, everyMs: number): Promise<{ answer: string; afterMs: number }> {
    const { newTeam } = await import('./helpers/app.js');
    const { token } = await newTeam();
    const started = Date.now();
    return new Promise((resolve) => {
      const head = `POST /api/v1/tags HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`;
      const socket = net.connect(port, '127.0.0.1', () => socket.write(head));
      const drip = setInterval(() => socket.writable && socket.write(' '), everyMs);
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', () => {});
      socket.on('close', () => {
        clearInterval(drip);
        resolve({ answer: Buffer.concat(chunks).toString('utf8'), afterMs: Date.now() - started });
      });
    });
  }

  it('cut off a body that trickles in slower than the request timeout allows, with a 408 in the envelope', async () => {
    const app = await buildServer(await testContext({ env: { INBOX_REQUEST_TIMEOUT_SECONDS: '1', INBOX_IDLE_TIMEOUT_SECONDS: '30' } }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    onTestFinished(() => app.close());
    const { port } = app.server.address() as AddressInfo;
    // A byte every 200 ms never lets the connection go idle; only the request timeout ends it.
    const results = await Promise.all(Array.from({ length: 5 }, () => slowBody(port, 200)));
    for (const { answer, afterMs } of results) {
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(answer).toContain('"code":"REQUEST_TIMEOUT"');
      expect(afterMs).toBeLessThan(10_000);
    }
  });

  it('close a connection that goes silent in the middle of a request after the idle timeout', async () => {
    const app = await buildServer(await testContext({ env: { INBOX_IDLE_TIMEOUT_SECONDS: '1' } }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    onTestFinished(() => app.close());
    const { port } = app.server.address() as AddressInfo;
    const { afterMs } = await slowBody(port, 60_000);
    expect(afterMs).toBeLessThan(10_000);
  });

  it('refuse connections from one address past the cap, and take new ones once others close', async () => {
    const app = await buildServer(await testContext({ env: { INBOX_MAX_CONNECTIONS_PER_ADDRESS: '3' } }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    onTestFinished(() => app.close());
    const { port } = app.server.address() as AddressInfo;
    const open = async () => {
      const socket = net.connect(port, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      return socket;
    };
    const held = [await open(), await open(), await open()];
    const closed = (socket: net.Socket) => new Promise<boolean>((resolve) => socket.once('close', () => resolve(true)));
    const fourth = await open();
    await expect(closed(fourth)).resolves.toBe(true);
    held[0]!.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await raw(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1\.1 200 /);
    for (const socket of held) socket.destroy();
  });
});
