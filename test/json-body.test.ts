import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH } from '../src/http/json-body.js';
import { newTeam, testApp } from './helpers/app.js';

const deepArray = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
const deepObject = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);

describe('JSON bodies', () => {
  it('refuses bodies nested deeper than the limit with a validation error, before anything recursive sees them', async () => {
    const app = await testApp();
    const team = await newTeam();
    const post = (url: string, payload: string) =>
      app.inject({ method: 'POST', url, payload, headers: { authorization: `Bearer ${team.token}`, 'content-type': 'application/json' } });
    for (const url of ['/api/v1/tags', '/api/v1/lists', '/api/v1/campaigns/v2', '/api/v1/webhooks']) {
      for (const body of [deepArray(10_000), deepArray(100_000), deepObject(10_000), `{"name":${deepArray(MAX_JSON_DEPTH)}}`]) {
        const response = await post(url, body);
        expect(response.statusCode, `${url} ${body.slice(0, 20)}`).toBe(400);
        expect(response.json().error).toMatchObject({ code: 'VALIDATION_ERROR', status: 400, details: [{ field: 'body' }] });
      }
    }
    // At the limit the body is parsed and judged by its schema; brackets inside strings do not count.
    const atLimit = await post('/api/v1/tags', `{"name":${deepArray(MAX_JSON_DEPTH - 1)}}`);
    expect(atLimit.statusCode).toBe(400);
    expect(atLimit.json().error.details[0].field).toBe('body.name');
    const brackets = await post('/api/v1/tags', JSON.stringify({ name: '['.repeat(80) + '{'.repeat(20) }));
    expect(brackets.statusCode, brackets.body).toBe(200);
  });

  it('reads an empty body sent with a JSON content type as no body', async () => {
    const app = await testApp();
    const team = await newTeam();
    const tag = (await team.request('POST', '/api/v1/tags', { name: 'Empty body' })).json() as { id: string };
    const response = await app.inject({
      method: 'DELETE',
      url: `/api/v1/tags/${tag.id}`,
      headers: { authorization: `Bearer ${team.token}`, 'content-type': 'application/json' },
      payload: '',
    });
    expect(response.statusCode, response.body).toBeLessThan(300);
    // A route that needs a body still says so, in the envelope.
    const noBody = await app.inject({ method: 'POST', url: '/api/v1/tags', headers: { authorization: `Bearer ${team.token}`, 'content-type': 'application/json' }, payload: ' ' });
    expect(noBody.statusCode).toBe(400);
    expect(noBody.json().error.code).toBe('VALIDATION_ERROR');
  });
});
