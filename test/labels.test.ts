import { describe, expect, it } from 'vitest';
import { newTeam } from './helpers/app.js';
import { expectContract } from './helpers/contract.js';

describe.each([
  { path: '/tags', contract: '/tags', idKey: '{tagId}', notFound: 'TAG_NOT_FOUND', event: 'tag' },
  { path: '/statuses', contract: '/statuses', idKey: '{statusId}', notFound: 'STATUS_NOT_FOUND', event: 'status' },
])('$path', ({ path, contract, idKey, notFound, event }) => {
  const api = `/api/v1${path}`;

  it('creates, lists, gets, updates and deletes, matching the contract', async () => {
    const team = await newTeam();
    const created = await team.request('POST', api, { name: 'High Priority', color: 'red' });
    expect(created.statusCode).toBe(200);
    const label = created.json();
    expect(label).toMatchObject({ name: 'High Priority', color: '#ef4444' });
    expectContract('POST', contract, label);

    const list = await team.request('GET', api);
    expect(list.json()).toEqual([label]);
    expectContract('GET', contract, list.json());

    const got = await team.request('GET', `${api}/${label.id}`);
    expectContract('GET', `${contract}/${idKey}`, got.json());

    const patched = await team.request('PATCH', `${api}/${label.id}`, { name: 'VIP', color: '#3B82F6' });
    expect(patched.json()).toMatchObject({ id: label.id, name: 'VIP', color: '#3b82f6' });
    expectContract('PATCH', `${contract}/${idKey}`, patched.json());

    const deleted = await team.request('DELETE', `${api}/${label.id}`);
    expect(deleted.statusCode).toBe(200);
    expect(deleted.body).toBe('');
    expect((await team.request('GET', `${api}/${label.id}`)).json().error.code).toBe(notFound);

    const events = (await team.request('GET', '/api/v1/events')).json().events.map((e: { type: string }) => e.type);
    expect(events).toEqual([`${event}.created`, `${event}.updated`, `${event}.deleted`]);
  });

  it('rejects a duplicate name (case-insensitive) with 409 and keeps the first', async () => {
    const team = await newTeam();
    await team.request('POST', api, { name: 'Warm' });
    const dup = await team.request('POST', api, { name: 'warm' });
    expect(dup.statusCode).toBe(409);
    expect(dup.json()).toEqual({ error: { code: 'CONFLICT', message: expect.any(String), status: 409 } });
    const other = (await team.request('POST', api, { name: 'Cold' })).json();
    const rename = await team.request('PATCH', `${api}/${other.id}`, { name: 'WARM' });
    expect(rename.statusCode).toBe(409);
    expect((await team.request('GET', api)).json().map((l: { name: string }) => l.name)).toEqual(['Warm', 'Cold']);
  });

  it('validates names and colors', async () => {
    const team = await newTeam();
    for (const body of [{}, { name: '' }, { name: 'x'.repeat(256) }, { name: 5 }, { name: 'ok', color: 'mauve-ish' }, { name: '   ' }]) {
      const response = await team.request('POST', api, body);
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      expect(response.json().error.code).toBe('VALIDATION_ERROR');
    }
    expect((await team.request('GET', api)).json()).toEqual([]);
    const bad = await team.request('GET', `${api}/NOT-AN-ID`);
    expect(bad.statusCode).toBe(400);
    expect((await team.request('GET', `${api}/abc123`)).json().error).toMatchObject({ code: notFound, status: 404 });
  });

  it('hides another team’s labels', async () => {
    const [a, b] = [await newTeam(), await newTeam()];
    const label = (await a.request('POST', api, { name: 'Mine' })).json();
    expect((await b.request('GET', api)).json()).toEqual([]);
    for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
      const response = await b.request(method, `${api}/${label.id}`, method === 'PATCH' ? { name: 'Stolen' } : undefined);
      expect(response.statusCode).toBe(404);
    }
    expect((await a.request('GET', `${api}/${label.id}`)).json().name).toBe('Mine');
  });

  it('offers the color palette', async () => {
    const team = await newTeam();
    const colors = await team.request('GET', `${api}/colors`);
    expectContract('GET', `${contract}/colors`, colors.json());
    expect(colors.json()).toContainEqual({ name: 'blue', hex: '#3b82f6' });
  });
});

it('GET /colors lists the palette', async () => {
  const team = await newTeam();
  const response = await team.request('GET', '/api/v1/colors');
  expectContract('GET', '/colors', response.json());
  expect(response.json()).toContainEqual({ name: 'green', hex: '#22c55e' });
});
