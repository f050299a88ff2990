import fc from 'fast-check';
import { Migrator, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../src/core/ids.js';
import { migrateToLatest, type Db } from '../src/store/db.js';
import { leadCountsOf, type LeadCounts } from '../src/store/lead-counts.js';
import { migrationProvider } from '../src/store/migrations/index.js';
import type { LeadState } from '../src/store/schema-campaigns.js';
import { emptyStore, freshStore, type FreshStore } from './helpers/fresh-store.js';
import { leadCountMismatches } from './helpers/lead-counts.js';

/**
 * The lead counts the store keeps with the leads (migration 0032): computed for existing campaigns by the
 * migration, seen by a transaction as of its own writes, untouched by what rolls back, equal to a recount after
 * any mix of writes, and kept by concurrent writers on PostgreSQL without deadlocks. (After every test of every
 * file, the test setup compares them with a recount as well: test/lead-counts.setup.ts.)
 */

const STATES: LeadState[] = ['pending', 'active', 'replied', 'completed', 'cancelled', 'failed', 'excluded'];
const server = process.env.DATABASE_URL;

let store: FreshStore;

beforeAll(async () => {
  store = await freshStore();
});

afterAll(async () => {
  await store?.close();
});

interface World {
  teamId: string;
  campaignIds: string[];
  /** lead ids by campaign, in insertion order */
  leadIds: string[][];
}

/** A team with `campaigns` campaigns of `leads` pending leads each, written in SQL (the triggers count them). */
async function world(db: Db, campaigns: number, leads: number): Promise<World> {
  const teamId = newId();
  await sql`insert into teams (id, name, slug) values (${teamId}, 'Counts', ${teamId})`.execute(db);
  const campaignIds = Array.from({ length: campaigns }, () => newId());
  for (const id of campaignIds) await sql`insert into campaigns (id, team_id, name, schedule) values (${id}, ${teamId}, 'Counted', '{}')`.execute(db);
  await sql`
    insert into prospects (id, team_id, platform, platform_id, username, display_name)
    select ${teamId} || '-p' || g, ${teamId}, 'sandbox', ${teamId} || g, 'u' || g, 'U' || g from generate_series(1, ${leads}::int) g`.execute(db);
  const leadIds = campaignIds.map((campaignId) => Array.from({ length: leads }, (_, i) => `${campaignId}-l${i + 1}`));
  for (const campaignId of campaignIds) {
    await sql`
      insert into campaign_leads (id, campaign_id, team_id, prospect_id, data)
      select ${campaignId} || '-l' || g, ${campaignId}, ${teamId}, ${teamId} || '-p' || g, '{}' from generate_series(1, ${leads}::int) g`.execute(db);
  }
  return { teamId, campaignIds, leadIds };
}

const counts = (byState: Partial<Record<LeadState, number>>, contacted = 0, replied = 0): LeadCounts => ({
  byState: Object.fromEntries(STATES.map((state) => [state, byState[state] ?? 0])) as Record<LeadState, number>,
  contacted,
  replied,
});

const setState = (db: Db, ids: readonly string[], state: LeadState, contacted = false) =>
  db
    .updateTable('campaign_leads')
    .set({ state, ...(contacted ? { contacted_at: new Date() } : {}) })
    .where('id', 'in', ids)
    .execute();

it('the migration counts the leads of the campaigns already stored', async () => {
  const old = await emptyStore('lead_counts');
  try {
    const { db } = old;
    expect((await new Migrator({ db, provider: migrationProvider }).migrateTo('0031_follow_ups_first')).error).toBeUndefined();
    const { campaignIds, leadIds } = await world(db, 3, 10);
    const [first, second] = leadIds as [string[], string[]];
    await setState(db, first.slice(0, 4), 'active', true);
    await setState(db, first.slice(4, 5), 'excluded');
    await db.updateTable('campaign_leads').set({ state: 'replied', contacted_at: new Date(), replied_at: new Date() }).where('id', 'in', second.slice(0, 2)).execute();
    await setState(db, second.slice(2, 3), 'completed', true);

    await migrateToLatest(db);
    const kept = await leadCountsOf(db, campaignIds);
    expect(kept.get(campaignIds[0]!)).toEqual(counts({ pending: 5, active: 4, excluded: 1 }, 4));
    expect(kept.get(campaignIds[1]!)).toEqual(counts({ pending: 7, replied: 2, completed: 1 }, 3, 2));
    expect(kept.get(campaignIds[2]!)).toEqual(counts({ pending: 10 }));
    expect(await leadCountMismatches(db)).toEqual([]);
  } finally {
    await old.close();
  }
});

it('the recount the test setup runs notices counts that differ from the leads', async () => {
  const { db } = store;
  const { campaignIds } = await world(db, 1, 2);
  const [id] = campaignIds as [string];
  await db.updateTable('campaign_lead_counts').set({ state_pending: 3 }).where('campaign_id', '=', id).execute();
  expect(await leadCountMismatches(db)).toMatchObject([{ campaign_id: id, kept: { pending: 3 }, counted: { pending: 2 } }]);
  await db.updateTable('campaign_lead_counts').set({ state_pending: 2 }).where('campaign_id', '=', id).execute();
  expect(await leadCountMismatches(db)).toEqual([]);
});

it('a campaign created has zero counts, and one deleted takes its counts row with it', async () => {
  const { db } = store;
  const { campaignIds, teamId } = await world(db, 2, 3);
  const empty = newId();
  await sql`insert into campaigns (id, team_id, name, schedule) values (${empty}, ${teamId}, 'Empty', '{}')`.execute(db);
  expect((await leadCountsOf(db, [empty])).get(empty)).toEqual(counts({}));
  await db.deleteFrom('campaigns').where('id', '=', campaignIds[0]!).execute();
  expect(await db.selectFrom('campaign_lead_counts').select('campaign_id').where('campaign_id', '=', campaignIds[0]!).execute()).toEqual([]);
  expect((await leadCountsOf(db, [campaignIds[1]!])).get(campaignIds[1]!)).toEqual(counts({ pending: 3 }));
  // A team deleted takes its campaigns, their leads and their counts.
  await db.deleteFrom('teams').where('id', '=', teamId).execute();
  expect(await db.selectFrom('campaign_lead_counts').select('campaign_id').where('campaign_id', 'in', [...campaignIds, empty]).execute()).toEqual([]);
});

it('a transaction reads the counts as of its own writes; what rolls back (a savepoint, a transaction) changes nothing', async () => {
  const { db } = store;
  const { campaignIds, leadIds } = await world(db, 2, 5);
  const [a, b] = campaignIds as [string, string];
  await expect(
    db.transaction().execute(async (trx) => {
      await setState(trx, leadIds[0]!.slice(0, 2), 'active', true);
      await setState(trx, leadIds[1]!.slice(0, 1), 'failed');
      await sql`savepoint before_delete`.execute(trx);
      await trx.deleteFrom('campaign_leads').where('id', 'in', leadIds[0]!.slice(2)).execute();
      expect((await leadCountsOf(trx, [a])).get(a)).toEqual(counts({ active: 2 }, 2));
      await sql`rollback to savepoint before_delete`.execute(trx);
      const seen = await leadCountsOf(trx, [a, b]);
      expect(seen.get(a)).toEqual(counts({ pending: 3, active: 2 }, 2));
      expect(seen.get(b)).toEqual(counts({ pending: 4, failed: 1 }));
      throw new Error('roll back');
    }),
  ).rejects.toThrow('roll back');
  const after = await leadCountsOf(db, [a, b]);
  expect(after.get(a)).toEqual(counts({ pending: 5 }));
  expect(after.get(b)).toEqual(counts({ pending: 5 }));
  expect(await db.selectFrom('campaign_lead_count_changes').select('campaign_id').execute()).toEqual([]);
});

/** One set-based write to the leads of a world, as the store's writers make them. */
type Write =
  | { kind: 'state'; campaign: number; leads: number[]; state: LeadState; contacted: boolean; replied: boolean }
  | { kind: 'delete'; campaign: number; leads: number[] }
  | { kind: 'upsert'; campaign: number; leads: number[]; state: LeadState }
  | { kind: 'prospect deleted'; lead: number };

const LEADS = 8;
const leadSet = fc.uniqueArray(fc.integer({ min: 1, max: LEADS }), { minLength: 1, maxLength: LEADS });
const write: fc.Arbitrary<Write> = fc.oneof(
  fc.record({ kind: fc.constant('state' as const), campaign: fc.nat(2), leads: leadSet, state: fc.constantFrom(...STATES), contacted: fc.boolean(), replied: fc.boolean() }),
  fc.record({ kind: fc.constant('delete' as const), campaign: fc.nat(2), leads: leadSet }),
  fc.record({ kind: fc.constant('upsert' as const), campaign: fc.nat(2), leads: leadSet, state: fc.constantFrom(...STATES) }),
  fc.record({ kind: fc.constant('prospect deleted' as const), lead: fc.integer({ min: 1, max: LEADS }) }),
);

/**
 * Applies a write in one statement. `part` of `parts`: the write's lead numbers name the part's own prospects
 * (every `parts`-th one), so writers of different parts never touch the same lead.
 */
async function apply(db: Db, w: World, change: Write, part = 0, parts = 1): Promise<void> {
  const own = (n: number) => (n - 1) * parts + part + 1;
  if (change.kind === 'prospect deleted') {
    await db.deleteFrom('prospects').where('id', '=', `${w.teamId}-p${own(change.lead)}`).execute();
    return;
  }
  const campaignId = w.campaignIds[change.campaign]!;
  const leads = change.leads.map(own);
  const ids = leads.map((n) => `${campaignId}-l${n}`);
  if (change.kind === 'state') {
    const at = new Date();
    await db
      .updateTable('campaign_leads')
      .set({ state: change.state, contacted_at: change.contacted ? at : null, replied_at: change.replied ? at : null })
      .where('id', 'in', ids)
      .execute();
  } else if (change.kind === 'delete') {
    await db.deleteFrom('campaign_leads').where('id', 'in', ids).execute();
  } else {
    // The rules' way: insert the missing leads, change the others in the same statement.
    await sql`
      insert into campaign_leads as l (id, campaign_id, team_id, prospect_id, state, data)
      select ${campaignId} || '-l' || n, ${campaignId}, ${w.teamId}, p.id, ${change.state}, '{}'
      from unnest(${leads}::int[]) n join prospects p on p.id = ${w.teamId} || '-p' || n
      on conflict (campaign_id, prospect_id) do update set state = excluded.state`.execute(db);
  }
}

it('any mix of inserts, updates, upserts, deletes and cascades, committed or rolled back, keeps the counts equal to a recount', async () => {
  const { db } = store;
  await fc.assert(
    fc.asyncProperty(fc.array(fc.record({ writes: fc.array(write, { minLength: 1, maxLength: 4 }), commit: fc.boolean() }), { minLength: 1, maxLength: 4 }), async (transactions) => {
      const w = await world(db, 3, LEADS);
      for (const { writes, commit } of transactions) {
        await db
          .transaction()
          .execute(async (trx) => {
            for (const change of writes) await apply(trx, w, change);
            if (!commit) throw new Error('roll back');
          })
          .catch((error: Error) => {
            if (error.message !== 'roll back') throw error;
          });
      }
      expect(await leadCountMismatches(db)).toEqual([]);
    }),
    { numRuns: 25 },
  );
});

/** Resolves for everyone once `parties` have arrived. */
function barrier(parties: number): () => Promise<void> {
  let arrived = 0;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return () => {
    if (++arrived === parties) open();
    return opened;
  };
}

describe.skipIf(!server)('concurrent writers on PostgreSQL', () => {
  it('writers changing the same campaigns in opposite orders, each statement waiting for the others, neither deadlock nor lose a change', async () => {
    const { db } = store;
    const writers = 4;
    const w = await world(db, 3, writers * 3);
    // Each writer moves leads of its own (no lead is locked by two), one campaign a statement, in its own order:
    // counts rows locked from the statement on would deadlock here at once.
    const orders = [
      [0, 1, 2],
      [2, 1, 0],
      [1, 2, 0],
      [0, 2, 1],
    ];
    for (let round = 0; round < 3; round++) {
      const step = [barrier(writers), barrier(writers)];
      const state: LeadState = (['active', 'completed', 'failed'] as const)[round]!;
      await Promise.all(
        orders.map((order, writer) =>
          db.transaction().execute(async (trx) => {
            for (const [index, campaign] of order.entries()) {
              const own = w.leadIds[campaign]!.slice(writer * 3, writer * 3 + 3);
              await setState(trx, own, state, true);
              if (index < step.length) await step[index]!();
            }
          }),
        ),
      );
    }
    const kept = await leadCountsOf(db, w.campaignIds);
    for (const id of w.campaignIds) expect(kept.get(id)).toEqual(counts({ failed: writers * 3 }, writers * 3));
    expect(await leadCountMismatches(db)).toEqual([]);
  });

  it('random writers racing on shared campaigns, each on leads of its own, all commit and keep the counts equal to a recount', async () => {
    const { db } = store;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(write, { minLength: 1, maxLength: 4 }), { minLength: 2, maxLength: 4 }), async (writers) => {
        const w = await world(db, 3, LEADS * writers.length);
        const outcomes = await Promise.allSettled(
          writers.map((writes, part) =>
            db.transaction().execute(async (trx) => {
              for (const change of writes) await apply(trx, w, change, part, writers.length);
            }),
          ),
        );
        // The writers share campaigns, so counts rows, and no lead: none may fail, as a deadlock would fail one.
        expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
        expect(await leadCountMismatches(db)).toEqual([]);
      }),
      { numRuns: 25 },
    );
  });

  it('a campaign deleted while another transaction holds some of its leads waits for that one, then removes its counts', async () => {
    const { db } = store;
    const w = await world(db, 2, 4);
    const [gone, kept] = w.campaignIds as [string, string];
    let deleting: Promise<unknown> | undefined;
    await db.transaction().execute(async (trx) => {
      await setState(trx, [...w.leadIds[0]!.slice(0, 2), ...w.leadIds[1]!.slice(0, 2)], 'active', true);
      deleting = db.deleteFrom('campaigns').where('id', '=', gone).execute();
      // The delete reaches the leads this transaction holds and waits there, before it touches any counts row.
      for (;;) {
        const { rows } = await sql<{ waiting: number }>`
          select count(*)::int as waiting from pg_stat_activity where wait_event_type = 'Lock' and query like 'delete from "campaigns"%'`.execute(db);
        if (rows[0]!.waiting > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    });
    await deleting;
    expect(await db.selectFrom('campaign_lead_counts').select('campaign_id').where('campaign_id', '=', gone).execute()).toEqual([]);
    expect((await leadCountsOf(db, [kept])).get(kept)).toEqual(counts({ pending: 2, active: 2 }, 2));
  });
});
