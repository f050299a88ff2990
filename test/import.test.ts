import net, { type AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { createJobRunner } from '../src/app/workers/background-jobs.js';
import type { JobRunnerOptions } from '../src/app/workers/jobs.js';
import { newTeam, serverWithMemoryLog, testApp, testContext, type TeamClient } from './helpers/app.js';
import { allLeads, fails, ok, randomPlatformId } from './helpers/sandbox.js';

const TERMINAL = ['completed', 'failed', 'canceled'];

async function upload(team: TeamClient, query: string, body: string | Buffer | Readable, contentType = 'text/csv') {
  const app = await testApp();
  return app.inject({
    method: 'POST',
    url: `/api/v1/import-jobs${query}`,
    headers: { authorization: `Bearer ${team.token}`, 'content-type': contentType },
    payload: body,
  });
}

function multipart(fields: Record<string, string>, csv: string) {
  const boundary = `----inbox${Math.random().toString(36).slice(2)}`;
  const parts = Object.entries(fields).map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`);
  parts.push(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="leads.csv"\r\nContent-Type: text/csv\r\n\r\n${csv}\r\n--${boundary}--\r\n`);
  return { body: Buffer.from(parts.join('')), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** Runs due jobs until this one is done, as `serve`'s runner would. */
async function runUntilDone(team: TeamClient, jobId: string, options: JobRunnerOptions = {}) {
  const runner = createJobRunner(await testContext(), options);
  for (;;) {
    const job = await ok(team.request('GET', `/api/v1/import-jobs/${jobId}`));
    if (TERMINAL.includes(job.status)) return job;
    if ((await runner.runOnce()) === 0) await new Promise((r) => setTimeout(r, 20));
  }
}

async function listWithColumns(team: TeamClient) {
  const list = await ok(team.request('POST', '/api/v1/lists', { name: 'Imported' }));
  const column = async (name: string, type: string) => (await ok(team.request('POST', `/api/v1/lists/${list.id}/columns`, { name, type }))).id as string;
  return { list, company: await column('Company', 'text'), employees: await column('Employees', 'number') };
}

describe('CSV import jobs', () => {
  it('streams 20,000 rows with bad ones mixed in, and imports them in resumable batches', async () => {
    const team = await newTeam();
    const { list, company, employees } = await listWithColumns(team);
    const base = 4_000_000_000_000 + Math.floor(Math.random() * 1e12);
    const suspended = String(base + 5);
    await ok(team.request('PUT', `/api/v1/sandbox/profiles/${suspended}`, { accountStatus: 'suspended' }));

    const ROWS = 20_000;
    const expectedErrors = new Map<number, RegExp>();
    const rejectedCells = new Map<number, RegExp>();
    const good = new Set<string>();
    const lineOf = (row: number): string => {
      const id = String(base + row);
      if (row % 997 === 0) return expectedErrors.set(row, /missing X user id/), `,Acme ${row},10`;
      // One bad optional cell leaves that cell out, not the lead, and says so (issue 23).
      if (row % 991 === 0) return good.add(id), rejectedCells.set(row, /^column 'size' must be a number: the cell was left out, the lead imported$/), `${id},Acme ${row},many`;
      if (row === 5) return expectedErrors.set(row, /could not be resolved/), `${id},Acme,1`;
      if (row === 7) return expectedErrors.set(row, /could not be resolved/), `not-an-id,Acme,1`;
      good.add(id);
      return row === 3 ? `${id},"Acme, Inc.\nEurope",7` : `${id},Acme ${row},${row % 50}`;
    };
    // A generator feeds the request: the file is never built in memory, here or in the server.
    const csv = Readable.from(
      (function* () {
        yield '\ufeffuser id,company name,size,ignored\r\n';
        for (let row = 1; row <= ROWS; row++) yield `${lineOf(row)}\r\n`;
        yield `${base + 1},Duplicate,1\r\n`; // row 20,001: already added by row 1
      })(),
    );
    const query = `?listId=${list.id}&idColumn=user%20id&columns[company%20name]=${company}&columns[size]=${employees}`;
    const created = await upload(team, query, csv);
    expect(created.statusCode, created.body).toBe(200);
    const job = created.json();
    expect(job).toMatchObject({ type: 'csv', listId: list.id, status: 'queued', total: ROWS + 1, processed: 0, errors: [], startedAt: null });

    const done = await runUntilDone(team, job.id, { batchesPerTurn: 3 });
    expect(done).toMatchObject({
      status: 'completed',
      total: ROWS + 1,
      processed: ROWS + 1,
      added: good.size,
      skipped: 1,
      failed: expectedErrors.size,
      startedAt: expect.any(String),
      completedAt: expect.any(String),
    });
    const reported = new Map([...expectedErrors, ...rejectedCells]);
    expect(done.errors.map((e: { row: number }) => e.row)).toEqual([...reported.keys()].sort((a, b) => a - b));
    for (const e of done.errors) expect(e.reason).toMatch(reported.get(e.row)!);

    const leads = await allLeads(team, list.id);
    expect(leads).toHaveLength(good.size);
    expect(new Set(leads.map((l) => l.prospect.platformId))).toEqual(good);
    const third = leads.find((l) => l.prospect.platformId === String(base + 3))!;
    expect(third.data).toEqual({ [company]: 'Acme, Inc.\nEurope', [employees]: 7 });
    expect(leads.find((l) => l.prospect.platformId === String(base + 50))!.data).toEqual({ [company]: 'Acme 50', [employees]: 0 });
    expect(leads.find((l) => l.prospect.platformId === String(base + 991))!.data).toEqual({ [company]: 'Acme 991' });
    expect((await ok(team.request('GET', '/api/v1/lists'))).find((l: { id: string }) => l.id === list.id).leadsCount).toBe(good.size);
  }, 180_000);

  it('takes a multipart upload by username and lists the team’s jobs', async () => {
    const team = await newTeam();
    const { list, company } = await listWithColumns(team);
    const [a, b] = [randomPlatformId(), randomPlatformId()];
    const { body, contentType } = multipart(
      { listId: list.id, usernameColumn: 'handle', [`columns[Company]`]: company },
      `handle,Company\n@user${a},Acme\nuser${b},\n,Nobody\n`,
    );
    const created = await upload(team, '', body, contentType);
    expect(created.statusCode, created.body).toBe(200);
    expect(created.json()).toMatchObject({ total: 3, status: 'queued' });
    const done = await runUntilDone(team, created.json().id);
    expect(done).toMatchObject({ status: 'completed', added: 2, skipped: 0, failed: 1, errors: [{ row: 3, reason: 'missing username' }] });
    const leads = await allLeads(team, list.id);
    // One batch shares its addedAt, so the order within it is by prospect id.
    expect(new Map(leads.map((l) => [l.prospect.platformId, l.data]))).toEqual(
      new Map<string, object>([
        [a, { [company]: 'Acme' }],
        [b, {}],
      ]),
    );

    const page = await ok(team.request('GET', '/api/v1/import-jobs?limit=1'));
    expect(page.importJobs.map((j: { id: string }) => j.id)).toEqual([done.id]);
    expect(page.nextCursor).toBeNull();
    expect((await ok(team.request('GET', `/api/v1/import-jobs?listId=${list.id}`))).importJobs).toHaveLength(1);
  });

  it('cancels a running import at its next batch, keeping what was added', async () => {
    const team = await newTeam();
    const { list } = await listWithColumns(team);
    const base = 5_000_000_000_000 + Math.floor(Math.random() * 1e12);
    const csv = ['id', ...Array.from({ length: 5_000 }, (_, i) => String(base + i))].join('\n');
    const job = (await upload(team, `?listId=${list.id}&idColumn=id`, csv)).json();

    const runner = createJobRunner(await testContext(), { batchesPerTurn: 2 });
    while ((await ok(team.request('GET', `/api/v1/import-jobs/${job.id}`))).processed === 0) await runner.runOnce();
    const midway = await ok(team.request('GET', `/api/v1/import-jobs/${job.id}`));
    expect(midway).toMatchObject({ status: 'running', processed: 2000, added: 2000 });

    const canceled = await ok(team.request('POST', `/api/v1/import-jobs/${job.id}/cancel`, {}));
    expect(canceled).toMatchObject({ status: 'canceled', processed: 2000, completedAt: expect.any(String) });
    await runner.runOnce();
    expect(await ok(team.request('GET', `/api/v1/import-jobs/${job.id}`))).toEqual(canceled);
    expect(await ok(team.request('POST', `/api/v1/import-jobs/${job.id}/cancel`, {}))).toEqual(canceled);
    expect((await ok(team.request('GET', `/api/v1/lists/${list.id}`))).leadsCount).toBe(2000);
  });

  it('rejects bad uploads with a clear 400 and leaves no job behind', async () => {
    const team = await newTeam();
    const { list, company } = await listWithColumns(team);
    const other = await ok(team.request('POST', '/api/v1/lists', { name: 'Other' }));
    const otherColumn = (await ok(team.request('POST', `/api/v1/lists/${other.id}/columns`, { name: 'X' }))).id;
    const csv = 'id,Company\n1,Acme\n';
    const cases: Array<[string, string]> = [
      ['', csv],
      [`?listId=${list.id}`, csv],
      [`?listId=${list.id}&idColumn=id&usernameColumn=Company`, csv],
      [`?listId=${list.id}&idColumn=missing`, csv],
      [`?listId=${list.id}&idColumn=id&columns[Nope]=${company}`, csv],
      [`?listId=${list.id}&idColumn=id&columns[Company]=${otherColumn}`, csv],
      [`?listId=${list.id}&idColumn=id&columns[Company]=not-a-column`, csv],
      [`?listId=${list.id}&idColumn=id`, ''],
      [`?listId=${list.id}&idColumn=id`, 'id,Comp\u0000any\n1,Acme\n'],
    ];
    for (const [query, body] of cases) {
      const response = await upload(team, query, body);
      expect(response.statusCode, `${query}: ${response.body}`).toBe(400);
      expect(response.json().error.code).toBe('VALIDATION_ERROR');
    }
    await fails(upload(team, `?listId=unknownlist&idColumn=id`, csv), 404, 'LIST_NOT_FOUND');
    const [contacted] = await ok(team.request('GET', '/api/v1/lists'));
    await fails(upload(team, `?listId=${contacted.id}&idColumn=id`, csv), 409, 'CONFLICT');
    await fails(upload(team, `?listId=${list.id}&idColumn=id`, '{"a":1}', 'application/json'), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expect((await ok(team.request('GET', '/api/v1/import-jobs'))).importJobs).toEqual([]);
  });

  it('reports rows carrying the NUL character, which the store cannot hold, and imports the rest', async () => {
    const team = await newTeam();
    const { list, company } = await listWithColumns(team);
    const base = 5_000_000_000_000 + Math.floor(Math.random() * 1e12);
    // The NUL in an unmapped column is never stored, so that row is fine.
    const csv = `id,Company,notes\n${base},Ac\u0000me,\n${base + 1},Good,n\u0000\n${base + 2}\u0000,Acme,\n`;
    const created = await upload(team, `?listId=${list.id}&idColumn=id&columns[Company]=${company}`, csv);
    expect(created.statusCode, created.body).toBe(200);
    const done = await runUntilDone(team, created.json().id);
    expect(done).toMatchObject({ status: 'completed', processed: 3, added: 1, failed: 2 });
    expect(done.errors).toEqual([
      { row: 1, reason: 'contains the NUL character (U+0000)' },
      { row: 3, reason: 'contains the NUL character (U+0000)' },
    ]);
    expect((await allLeads(team, list.id)).map((l) => l.data)).toEqual([{ [company]: 'Good' }]);
  });

  it('refuses a file over the configured limit without keeping any of it', async () => {
    const team = await newTeam();
    const ctx = await testContext({ env: { INBOX_IMPORT_LIMIT_BYTES: '1000' } });
    const { buildServer } = await import('../src/http/server.js');
    const app = await buildServer(ctx);
    const { list } = await listWithColumns(team);
    const big = `id\n${Array.from({ length: 500 }, (_, i) => String(1_000_000 + i)).join('\n')}\n`;
    const response = await app.inject({
      method: 'POST',
      url: `/api/v1/import-jobs?listId=${list.id}&idColumn=id`,
      headers: { authorization: `Bearer ${team.token}`, 'content-type': 'text/csv' },
      payload: big,
    });
    expect(response.statusCode).toBe(413);
    expect(response.json().error.code).toBe('PAYLOAD_TOO_LARGE');
    expect((await ok(team.request('GET', '/api/v1/import-jobs'))).importJobs).toEqual([]);
    await app.close();
  });

  it('hides another team’s import jobs', async () => {
    const [a, b] = [await newTeam(), await newTeam()];
    const { list } = await listWithColumns(a);
    const job = (await upload(a, `?listId=${list.id}&idColumn=id`, 'id\n1\n')).json();
    await fails(b.request('GET', `/api/v1/import-jobs/${job.id}`), 404, 'IMPORT_JOB_NOT_FOUND');
    await fails(b.request('POST', `/api/v1/import-jobs/${job.id}/cancel`, {}), 404, 'IMPORT_JOB_NOT_FOUND');
    expect((await ok(b.request('GET', '/api/v1/import-jobs'))).importJobs).toEqual([]);
    await fails(upload(b, `?listId=${list.id}&idColumn=id`, 'id\n1\n'), 404, 'LIST_NOT_FOUND');
  });

  it('drops the stored upload of an import it gives up on', async () => {
    const team = await newTeam();
    const { list } = await listWithColumns(team);
    const job = (await upload(team, `?listId=${list.id}&idColumn=id`, 'id\n1\n2\n')).json();
    const { db } = await testContext();
    const chunks = () => db.selectFrom('import_chunks').select('seq').where('job_id', '=', job.id).execute();
    expect(await chunks()).toHaveLength(1);
    // The list vanishes under the queued job (behind the API's back, which would cancel the job): every
    // attempt fails, and the last one gives up.
    await db.deleteFrom('lists').where('id', '=', list.id).execute();
    const ended = await runUntilDone(team, job.id, { maxAttempts: 1 });
    expect(ended.status).toBe('failed');
    expect(await chunks()).toEqual([]);
  });
  it('fails a row whose mapped cell is not UTF-8, naming the column, and refuses a header that is not', async () => {
    const team = await newTeam();
    const { list, company } = await listWithColumns(team);
    const base = 5_100_000_000_000 + Math.floor(Math.random() * 1e12);
    // A lone continuation byte and an encoded surrogate: decoding would store them as U+FFFD.
    const csv = Buffer.concat([
      Buffer.from(`id,Company,notes\n${base},Ac`),
      Buffer.from([0x80]),
      Buffer.from(`me,\n${base + 1},Good,n`),
      Buffer.from([0xed, 0xa0, 0x80]),
      Buffer.from(`\n${base + 2},"Caf\u00e9, ""Ltd""",\n`),
    ]);
    const created = await upload(team, `?listId=${list.id}&idColumn=id&columns[Company]=${company}`, csv);
    expect(created.statusCode, created.body).toBe(200);
    const done = await runUntilDone(team, created.json().id);
    expect(done).toMatchObject({ status: 'completed', processed: 3, added: 2, failed: 1 });
    expect(done.errors).toEqual([{ row: 1, reason: "column 'Company' is not valid UTF-8" }]);
    expect((await allLeads(team, list.id)).map((l) => l.data).sort((a, b) => String(a[company]).localeCompare(String(b[company])))).toEqual([
      { [company]: 'Café, "Ltd"' },
      { [company]: 'Good' },
    ]);
    const header = Buffer.concat([Buffer.from('id,Comp'), Buffer.from([0xff]), Buffer.from(`any\n${base}\n`)]);
    const refused = await fails(upload(team, `?listId=${list.id}&idColumn=id`, header), 400, 'VALIDATION_ERROR');
    expect(refused.message).toMatch(/not valid UTF-8/);
  });

  it('counts a 3 MB row as one failed row and imports the rows after it', { timeout: 120_000 }, async () => {
    const team = await newTeam();
    const { list, company } = await listWithColumns(team);
    const base = 5_200_000_000_000 + Math.floor(Math.random() * 1e12);
    const half = 'x'.repeat(1_500_000);
    // Quoted (with a line break inside) and unquoted: neither may swallow the rows that follow.
    const csv = `id,Company\n${base},A\n${base + 1},"${half}\n${half}"\n${base + 2},B\n${base + 3},${'y'.repeat(200_000)}\n${base + 4},C\n`;
    const created = await upload(team, `?listId=${list.id}&idColumn=id&columns[Company]=${company}`, Readable.from([csv]));
    expect(created.statusCode, created.body).toBe(200);
    expect(created.json().total).toBe(5);
    const done = await runUntilDone(team, created.json().id);
    expect(done).toMatchObject({ status: 'completed', processed: 5, added: 3, failed: 2 });
    expect(done.errors).toEqual([
      { row: 2, reason: 'unreadable row: the row is larger than 65536 bytes' },
      { row: 4, reason: 'unreadable row: the row is larger than 65536 bytes' },
    ]);
    expect((await allLeads(team, list.id)).map((l) => l.data[company]).sort()).toEqual(['A', 'B', 'C']);
  });

  it('logs an upload the client abandons half way at info, not as an unhandled error, and keeps no job', async () => {
    const team = await newTeam();
    const { list } = await listWithColumns(team);
    const { server, ctx, log } = await serverWithMemoryLog();
    await server.listen({ port: 0, host: '127.0.0.1' });
    const { port } = server.server.address() as AddressInfo;
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`POST /api/v1/import-jobs?listId=${list.id}&idColumn=id HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${team.token}\r\nContent-Type: text/csv\r\nContent-Length: 1000000\r\n\r\nid\n1\n2\n`);
    await vi.waitFor(async () => expect(await ctx.db.selectFrom('jobs').select('id').where('team_id', '=', team.teamId).execute()).toHaveLength(1), { timeout: 10_000 });
    socket.destroy();
    await vi.waitFor(() => expect(log()).toContain('the client closed the connection before its request body arrived'), { timeout: 10_000 });
    await server.close();
    expect(log()).not.toContain('unhandled error');
    expect(log().split('\n').filter((line) => line.includes('"level":50'))).toEqual([]);
    expect((await ok(team.request('GET', '/api/v1/import-jobs'))).importJobs).toEqual([]);
  });
});
