import { Migrator, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { migrateToLatest } from '../src/store/db.js';
import { migrationProvider } from '../src/store/migrations/index.js';
import { newTeam, testApp } from './helpers/app.js';
import { emptyStore } from './helpers/fresh-store.js';
import { ok, randomPlatformId } from './helpers/sandbox.js';
import { browser, ownerCredentials } from './helpers/session.js';
import { sharedStore } from './helpers/store.js';

/** API v2's foundation beyond the contract walk: the contacts-and-profiles model, sessions, the served documents. */

describe('contacts and profiles', () => {
  // Migrating an empty store step by step takes a while on a busy machine.
  it('0023 gives every existing prospect its profile, and the store gives each new one its own however it is inserted', { timeout: 120_000 }, async () => {
    const store = await emptyStore('profiles');
    try {
      const { db } = store;
      const { error } = await new Migrator({ db, provider: migrationProvider }).migrateTo('0022_prospect_table');
      expect(error).toBeUndefined();
      await sql`insert into teams (id, name, slug) values ('team1', 'Team', 'team')`.execute(db);
      await sql`
        insert into prospects (id, team_id, platform, platform_id, username, display_name, created_at, updated_at, notes) values
          ('p1', 'team1', 'sandbox', '11', 'ada', 'Ada', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'kept'),
          ('p2', 'team1', 'twitter', '22', 'bob', 'Bob', '2026-01-02T00:00:00Z', '2026-01-02T00:00:00Z', null)`.execute(db);
      await migrateToLatest(db);
      const backfilled = await db.selectFrom('profiles').select(['contact_id', 'platform', 'platform_id', 'created_at']).orderBy('contact_id').execute();
      expect(backfilled.map((p) => [p.contact_id, p.platform, p.platform_id, p.created_at.toISOString()])).toEqual([
        ['p1', 'sandbox', '11', '2026-01-01T00:00:00.000Z'],
        ['p2', 'twitter', '22', '2026-01-02T00:00:00.000Z'],
      ]);
      // The CRM fields stay where they were: one copy, on the contact.
      expect((await db.selectFrom('prospects').select('notes').where('id', '=', 'p1').executeTakeFirstOrThrow()).notes).toBe('kept');

      // Several prospects in one statement (as bulk lead adds insert them) get a profile each.
      await sql`
        insert into prospects (id, team_id, platform, platform_id, username, display_name) values
          ('p3', 'team1', 'sandbox', '33', 'cy', 'Cy'), ('p4', 'team1', 'sandbox', '44', 'di', 'Di')`.execute(db);
      const all = await db.selectFrom('profiles').select(['id', 'contact_id']).orderBy('contact_id').execute();
      expect(all.map((p) => p.contact_id)).toEqual(['p1', 'p2', 'p3', 'p4']);
      expect(new Set(all.map((p) => p.id)).size).toBe(4);
      // A deleted contact takes its profiles with it.
      await sql`delete from prospects where id = 'p4'`.execute(db);
      expect(await db.selectFrom('profiles').select('contact_id').where('contact_id', '=', 'p4').execute()).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('shows prospects added through v1 lists as contacts with one profile each, ids apart', async () => {
    const team = await newTeam();
    const list = await ok(team.request('POST', '/api/v1/lists', { name: 'Leads' }));
    const ids = [randomPlatformId(), randomPlatformId()];
    await ok(team.request('POST', `/api/v1/lists/${list.id}/leads`, { platformIds: ids }));
    const query = ids.map((id) => `platformId=${id}`).join('&');
    const contacts = (await team.request('GET', `/api/v2/contacts?platform=sandbox&${query}`)).json();
    expect(contacts.data.map((c: any) => c.profiles.map((p: any) => p.platformId)).sort()).toEqual([[ids[0]], [ids[1]]].sort());
    const { db } = await sharedStore();
    const rows = await db.selectFrom('profiles').select(['id', 'contact_id']).where('contact_id', 'in', contacts.data.map((c: any) => c.id)).execute();
    expect(rows).toHaveLength(2);
    for (const contact of contacts.data) expect(contact.profiles[0].id).not.toBe(contact.id);
  });
});

describe('API v2 sessions', () => {
  it('takes the web app session cookie like v1; a signed-in write from another origin is unauthorized', async () => {
    const app = await testApp();
    const team = await newTeam();
    const page = browser(app);
    const credentials = await ownerCredentials(team.ownerMemberId);
    expect((await page.request('POST', '/api/v1/auth/sign-in', credentials)).statusCode).toBe(200);
    const shown = await page.request('GET', '/api/v2/team');
    expect(shown.statusCode).toBe(200);
    expect(shown.json().id).toBe(team.teamId);
    expect((await page.request('POST', '/api/v2/tags', { name: 'From the page' })).statusCode).toBe(201);
    const foreign = await page.request('POST', '/api/v2/tags', { name: 'From elsewhere' }, { origin: 'http://evil.example' });
    expect(foreign.statusCode).toBe(401);
    expect(foreign.json()).toMatchObject({ code: 'unauthorized', details: null });
    // v1 answers the same refusal as it always has.
    const v1 = await page.request('POST', '/api/v1/tags', { name: 'From elsewhere' }, { origin: 'http://evil.example' });
    expect(v1.json().error.code).toBe('CSRF_REJECTED');
  });
});

describe('served OpenAPI documents', () => {
  it('serves one document per version: v1 at /openapi.json, v2 at /openapi/v2.json', async () => {
    const app = await testApp();
    const v1 = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const v2 = (await app.inject({ method: 'GET', url: '/openapi/v2.json' })).json();
    expect(Object.keys(v1.paths).some((p) => p.startsWith('/api/v2'))).toBe(false);
    expect(v1.paths['/api/v1/threads']).toBeDefined();
    expect(v2.servers).toEqual([{ url: '/api/v2' }]);
    expect(Object.keys(v2.paths).every((p) => !p.startsWith('/api/'))).toBe(true);
    expect(v2.paths['/threads'].get).toBeDefined();
    expect(v2.paths['/tags/{tagRef}'].patch).toBeDefined();
    expect(v2.components.schemas.Thread.properties.contactId).toBeDefined();
    // v1's Thread is v1's.
    expect(v1.components.schemas.Thread.properties.prospect).toBeDefined();
  });
});
