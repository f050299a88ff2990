import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../src/http/server.js';
import { newTeam, serverWithMemoryLog, testApp, testContext, type TeamClient } from './helpers/app.js';
import { fails, ok } from './helpers/sandbox.js';

/** Regression tests for requests that once answered 500 or outside the error envelope (issue 23). */

/** Sends raw bytes to a listening server and reads its answer until it closes the connection (or after one answer). */
async function raw(port: number, request: string): Promise<{ status: number; headers: string; body: string }> {
  const text = await new Promise<string>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
  const split = text.indexOf('\r\n\r\n');
  return { status: Number(text.slice(9, 12)), headers: text.slice(0, split), body: text.slice(split + 4) };
}

function expectEnvelope(response: { statusCode: number; body: string }, status: number, code?: string) {
  expect(response.statusCode, response.body).toBe(status);
  const { error } = JSON.parse(response.body);
  expect(error).toMatchObject({ status, code: code ?? expect.any(String), message: expect.any(String) });
}

let app: FastifyInstance;
let team: TeamClient;
beforeAll(async () => {
  app = await testApp();
  team = await newTeam();
});

const send = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: string | Buffer, headers: Record<string, string> = {}) =>
  app.inject({ method, url, headers: { authorization: `Bearer ${team.token}`, ...headers }, ...(payload === undefined ? {} : { payload }) });

describe('multipart imports that cannot be read', () => {
  const form = (boundary: string, parts: string[], end = `--${boundary}--\r\n`) => parts.map((part) => `--${boundary}\r\n${part}\r\n`).join('') + end;
  const file = (csv: string) => `Content-Disposition: form-data; name="file"; filename="leads.csv"\r\nContent-Type: text/csv\r\n\r\n${csv}`;

  it('are 400 in the envelope, and leave no job behind', async () => {
    const list = await ok(team.request('POST', '/api/v1/lists', { name: 'Multipart' }));
    const query = `?listId=${list.id}&idColumn=id`;
    const body = form('right', [file('id\n1001\n')]);
    // The boundary of the Content-Type is not the one the body uses; the Content-Type has none; the form is cut short.
    expectEnvelope(await send('POST', `/api/v1/import-jobs${query}`, body, { 'content-type': 'multipart/form-data; boundary=wrong' }), 400, 'BAD_REQUEST');
    expectEnvelope(await send('POST', `/api/v1/import-jobs${query}`, body, { 'content-type': 'multipart/form-data' }), 400, 'BAD_REQUEST');
    const cut = `--right\r\n${file('id\n1001\n1002\n')}`;
    expectEnvelope(await send('POST', `/api/v1/import-jobs${query}`, cut, { 'content-type': 'multipart/form-data; boundary=right' }), 400, 'BAD_REQUEST');
    // A form with fields and no file part.
    const fieldsOnly = form('right', [`Content-Disposition: form-data; name="listId"\r\n\r\n${list.id}`]);
    expectEnvelope(await send('POST', '/api/v1/import-jobs', fieldsOnly, { 'content-type': 'multipart/form-data; boundary=right' }), 400, 'VALIDATION_ERROR');
    expect((await ok(team.request('GET', `/api/v1/import-jobs?listId=${list.id}`))).importJobs).toEqual([]);
    // The same form with its own boundary is imported.
    expect((await send('POST', `/api/v1/import-jobs${query}`, body, { 'content-type': 'multipart/form-data; boundary=right' })).statusCode).toBe(200);
  });
});

describe('compressed bodies', () => {
  it('are 415 UNSUPPORTED_MEDIA_TYPE with Accept-Encoding: identity, on JSON and CSV routes alike', async () => {
    const json = JSON.stringify({ name: 'Compressed' });
    for (const [coding, payload] of [
      ['gzip', gzipSync(json)],
      ['br', brotliCompressSync(json)],
      ['x-unknown', Buffer.from(json)],
      ['identity, gzip', gzipSync(json)],
    ] as const) {
      const response = await send('POST', '/api/v1/tags', payload, { 'content-type': 'application/json', 'content-encoding': coding });
      expectEnvelope(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
      expect(response.headers['accept-encoding']).toBe('identity');
    }
    const list = await ok(team.request('POST', '/api/v1/lists', { name: 'Gzipped CSV' }));
    expectEnvelope(await send('POST', `/api/v1/import-jobs?listId=${list.id}&idColumn=id`, gzipSync('id\n1\n'), { 'content-type': 'text/csv', 'content-encoding': 'gzip' }), 415);
    // Nothing was created from them; identity is no encoding at all.
    expect((await ok(team.request('GET', '/api/v1/tags'))).map((t: { name: string }) => t.name)).not.toContain('Compressed');
    expect((await send('POST', '/api/v1/tags', json, { 'content-type': 'application/json', 'content-encoding': 'identity' })).statusCode).toBe(200);
  });
});

const ODD_IDS = ['%2e%2e', '..%2F..', '__proto__', 'constructor', '1e400', '-1', 'a%3Fb%3Dc', 'undefined', '%2e', '.'];
const ID_ROUTES: Array<['GET' | 'DELETE' | 'PATCH' | 'PUT', string]> = [
  ['GET', '/api/v1/threads/{id}'],
  ['DELETE', '/api/v1/threads/{id}'],
  ['DELETE', '/api/v1/tokens/{id}'],
  ['GET', '/api/v1/lists/{id}/leads'],
  ['DELETE', '/api/v1/lists/{id}'],
  ['PATCH', '/api/v1/tags/{id}'],
  ['GET', '/api/v1/campaigns/v2/{id}'],
  ['GET', '/api/v1/webhooks/{id}'],
  ['GET', '/api/v1/prospects/{id}'],
  ['PUT', '/api/v1/sandbox/profiles/{id}'],
  ['GET', '/api/v1/import-jobs/{id}'],
];

describe('odd path ids', () => {
  it('are 4xx in the envelope, through inject and as raw bytes on a socket (no path normalisation)', async () => {
    const server = await buildServer(await testContext());
    await server.listen({ port: 0, host: '127.0.0.1' });
    const { port } = server.server.address() as AddressInfo;
    try {
      for (const [method, route] of ID_ROUTES) {
        for (const id of ODD_IDS) {
          const url = route.replace('{id}', id);
          const body = method === 'PATCH' || method === 'PUT' ? '{"name":"x"}' : undefined;
          const injected = await send(method, url, body, body ? { 'content-type': 'application/json' } : {});
          expect(injected.statusCode, `${method} ${url}`).toBeGreaterThanOrEqual(400);
          expectEnvelope(injected, injected.statusCode);
          expect(injected.statusCode, `${method} ${url}: ${injected.body}`).toBeLessThan(500);
          const head = `${method} ${url} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${team.token}\r\nConnection: close\r\n`;
          const answer = await raw(port, body ? `${head}Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}` : `${head}\r\n`);
          expect(answer.status, `${method} ${url}: ${answer.body}`).toBeGreaterThanOrEqual(400);
          expect(answer.status, `${method} ${url}: ${answer.body}`).toBeLessThan(500);
          expect(JSON.parse(answer.body).error.status).toBe(answer.status);
        }
      }
    } finally {
      await server.close();
    }
  });

  it('DELETE /tokens/undefined with junk cursors is a 404 or 400, never a 500', async () => {
    for (const query of ['', '?cursor=junk', '?cursor[id]=x&cursor[timestamp]=y', '?cursorId=undefined&cursorTimestamp=null', '?cursor[__proto__][x]=1']) {
      const response = await send('DELETE', `/api/v1/tokens/undefined${query}`);
      expect(response.statusCode, query).toBeLessThan(500);
      expectEnvelope(response, response.statusCode);
    }
    await fails(send('DELETE', '/api/v1/tokens/undefined'), 404, 'TOKEN_NOT_FOUND');
  });
});

describe('over-long query strings', () => {
  it('are refused in the envelope over HTTP, and thousands of parameters are no 500', async () => {
    const server = await buildServer(await testContext());
    await server.listen({ port: 0, host: '127.0.0.1' });
    const { port } = server.server.address() as AddressInfo;
    try {
      const long = await raw(port, `GET /api/v1/threads?q=${'a'.repeat(40_000)} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${team.token}\r\n\r\n`);
      expect(long.status).toBe(431);
      expect(JSON.parse(long.body).error).toMatchObject({ code: 'HEADERS_TOO_LARGE', status: 431 });
    } finally {
      await server.close();
    }
    const many = Array.from({ length: 5_000 }, (_, i) => `k${i}[a][b]=v`).join('&');
    for (const url of [`/api/v1/threads?${many}`, `/api/v1/lists?${'x'.repeat(100_000)}=1`, `/api/v1/threads?limit=${'9'.repeat(5_000)}`, `/api/v1/threads?cursorId=${'a'.repeat(50_000)}&cursorTimestamp=2026-01-01T00:00:00Z`]) {
      const response = await send('GET', url);
      expect(response.statusCode, `${url.slice(0, 60)}: ${response.body.slice(0, 200)}`).toBeLessThan(500);
      if (response.statusCode >= 400) expectEnvelope(response, response.statusCode);
    }
  });
});

describe('a known path with a method it does not serve', () => {
  it('is 405 METHOD_NOT_ALLOWED with Allow naming the methods it does serve; an unknown path stays 404', async () => {
    const tags = await send('PATCH', '/api/v1/tags');
    expectEnvelope(tags, 405, 'METHOD_NOT_ALLOWED');
    expect(tags.headers.allow).toBe('GET, HEAD, POST');
    const list = await ok(team.request('POST', '/api/v1/lists', { name: 'Methods' }));
    const leads = await send('PUT', `/api/v1/lists/${list.id}/leads`);
    expectEnvelope(leads, 405, 'METHOD_NOT_ALLOWED');
    expect(leads.headers.allow).toBe('GET, HEAD, POST, DELETE');
    expect((await send('GET', '/api/v1/tokens/abc')).headers.allow).toBe('DELETE');
    expectEnvelope(await send('GET', '/api/v1/no-such-thing'), 404, 'NOT_FOUND');
  });
});

describe('validation errors', () => {
  it('name every problem of the request at once: path, body and query together', async () => {
    const error = await fails(send('GET', '/api/v1/lists/-1/leads?limit=0&cursorTimestamp=yesterday'), 400, 'VALIDATION_ERROR');
    expect((error.details as Array<{ field: string }>).map((d) => d.field)).toEqual(['params.listId', 'querystring.cursorTimestamp', 'querystring.limit']);
    const patch = await fails(send('PATCH', '/api/v1/tags/-1', JSON.stringify({ name: 5, color: [] }), { 'content-type': 'application/json' }), 400, 'VALIDATION_ERROR');
    expect((patch.details as Array<{ field: string }>).map((d) => d.field).sort()).toEqual(['body.color', 'body.name', 'params.tagId']);
    expect(patch.message).toMatch(/params\.tagId: .*; body\./);
  });
});

describe('text the store cannot keep as sent', () => {
  it('is refused in JSON bodies (bytes that are not UTF-8, lone surrogates in values and keys), naming the field', async () => {
    const json = { 'content-type': 'application/json' };
    for (const bad of [[0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xff]]) {
      const body = Buffer.concat([Buffer.from('{"name":"Bad'), Buffer.from(bad), Buffer.from('"}')]);
      const error = await fails(send('POST', '/api/v1/tags', body, json), 400, 'VALIDATION_ERROR');
      expect(error.details).toEqual([{ field: 'body', message: 'is not valid UTF-8' }]);
    }
    const lone = await fails(send('POST', '/api/v1/tags', '{"name":"Bad \\ud800 tag"}', json), 400, 'VALIDATION_ERROR');
    expect(lone.details).toEqual([{ field: 'body.name', message: expect.stringMatching(/lone surrogate/) }]);
    const list = await ok(team.request('POST', '/api/v1/lists', { name: 'Surrogates' }));
    const key = await fails(send('POST', `/api/v1/lists/${list.id}/leads`, '{"leads":[{"platformId":"1","data":{"a\\udc00":"x"}}]}', json), 400, 'VALIDATION_ERROR');
    expect((key.details as Array<{ field: string }>)[0]!.field).toMatch(/^body\.leads\.0\.data\.a/);
    // A pair is one character, and fine.
    expect((await send('POST', '/api/v1/tags', '{"name":"Pile \\ud83d\\udca9"}', json)).json().name).toBe('Pile 💩');
    expect((await ok(team.request('GET', '/api/v1/tags'))).map((t: { name: string }) => t.name).filter((n: string) => n.startsWith('Bad'))).toEqual([]);
  });
});

describe('refused requests', () => {
  it('are logged at info with their status and error code, whoever refused them', async () => {
    const { server, log } = await serverWithMemoryLog();
    const auth = { authorization: `Bearer ${team.token}` };
    await server.inject({ method: 'GET', url: '/api/v1/tags', headers: { authorization: 'Bearer wrong' } });
    await server.inject({ method: 'POST', url: '/api/v1/tags', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"name":5}' });
    await server.inject({ method: 'GET', url: '/api/v1/nothing-here', headers: auth });
    await server.inject({ method: 'GET', url: '/api/v1/tags', headers: auth });
    await server.close();
    const written = log();
    const refused = written
      .split('\n')
      .filter((line) => line.includes('"msg":"request refused"'))
      .map((line) => JSON.parse(line) as { level: number; statusCode: number; code: string });
    expect(refused.map(({ level, statusCode, code }) => [level, statusCode, code])).toEqual([
      [30, 401, 'UNAUTHORIZED'],
      [30, 400, 'VALIDATION_ERROR'],
      [30, 404, 'NOT_FOUND'],
    ]);
    expect(written).not.toContain(team.token);
  });
});
