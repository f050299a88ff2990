import { sql, type Kysely } from 'kysely';

/**
 * Each campaign's lead counts kept as data, so a campaign read no longer counts its leads (96 ms at 100,000 leads
 * and 900 ms at 1,000,000 on PGlite): per state, and how many leads were contacted and replied (contacted_at,
 * replied_at set), everything the campaign shapes show (targets = all but excluded, completion and reply rates).
 *
 * Triggers on campaign_leads keep them, not explicit updates in the lead applier (store/campaign-leads.ts): the
 * applier writes state columns only, while leads are also inserted and updated by the rules' upserts, deleted by
 * the scope, and deleted by the cascades of prospect, campaign and team deletes, which no code of ours sees; a
 * trigger sees them all. Statement-level triggers with transition tables: one set-based statement per changing
 * statement, whatever its number of rows: they cost the writers 0.84-1.10 of no counts, while row-level ones
 * adding to the counts row at once cost 14-18 times for a statement changing 20,000 leads' state and 43-51 times
 * for deleting them, growing with the square of the rows (bench/lead-count-upkeep.ts; BENCHMARKS.md, 2026-12-03).
 *
 * Why not add to campaign_lead_counts right in the statement: that locks a campaign's counts row from the
 * statement to the commit, so two writers touching campaigns A and B in opposite orders (engine workers on
 * PostgreSQL whose batches span campaigns, an API write beside them) deadlock, and every writer of a campaign
 * waits for the others' whole transactions. Instead:
 * - a statement adds its deltas to campaign_lead_count_changes, in a row of its own transaction per campaign
 *   (keyed by the transaction id): no two transactions ever write the same row, so this never waits;
 * - at commit, a deferred constraint trigger takes the transaction's changes and adds them to campaign_lead_counts
 *   one campaign at a time in campaign id order. Counts rows are locked only there (and by the delete of a
 *   campaign, after all its leads, see below), for an instant, always in one order: writers cannot deadlock on
 *   them, and wait on each other only for that instant.
 * The changes of other transactions are never visible (uncommitted, then deleted before commit), so a reader
 * adds the changes it sees to the counts (store/lead-counts.ts) and gets the counts as of its own writes: the
 * engine's event summaries are read in the transaction that moved the leads.
 *
 * A campaign's counts row is inserted with the campaign and deleted by a trigger after the campaign's delete
 * statement, so after its cascaded lead deletes: a writer still holding one of its leads has committed by then.
 * Nothing may `SET CONSTRAINTS ALL IMMEDIATE`, which would take the counts locks mid-transaction; the forecast's
 * scratch store runs with triggers off (session_replication_role = replica), so its counts are not kept.
 */

const STATES = ['pending', 'active', 'replied', 'completed', 'cancelled', 'failed', 'excluded'] as const;
const COUNTS = [...STATES.map((state) => `state_${state}`), 'contacted', 'replied'];

/** Each count of a set of lead rows `source` with columns (campaign_id, state, contacted_at, replied_at, sign). */
const sums = (source: string) => `
  select campaign_id,
    ${STATES.map((state) => `coalesce(sum(sign) filter (where state = '${state}'), 0) as state_${state}`).join(',\n    ')},
    coalesce(sum(sign) filter (where contacted_at is not null), 0) as contacted,
    coalesce(sum(sign) filter (where replied_at is not null), 0) as replied
  from ${source}
  group by campaign_id`;

/** A statement trigger function adding what `source` (over the transition tables) changed to this transaction's row. */
const recordChanges = (name: string, source: string) => `
  create function ${name}() returns trigger language plpgsql as $$
  begin
    insert into campaign_lead_count_changes as c (campaign_id, ${COUNTS.join(', ')})
    select * from (${sums(source)}) d
    where ${COUNTS.map((count) => `d.${count} <> 0`).join(' or ')}
    on conflict (campaign_id, xact) do update set
      ${COUNTS.map((count) => `${count} = c.${count} + excluded.${count}`).join(',\n      ')};
    return null;
  end $$;`;

const ROW = 'campaign_id, state, contacted_at, replied_at';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql
    .raw(
      `
    create table campaign_lead_counts (
      campaign_id text primary key,
      ${COUNTS.map((count) => `${count} bigint not null default 0`).join(',\n      ')}
    );
    -- Rows live only inside the transaction that wrote them (deleted at its commit): unlogged, nothing to recover.
    create unlogged table campaign_lead_count_changes (
      campaign_id text not null,
      xact xid8 not null default pg_current_xact_id(),
      ${COUNTS.map((count) => `${count} bigint not null`).join(',\n      ')},
      primary key (campaign_id, xact)
    );

    insert into campaign_lead_counts (campaign_id, ${COUNTS.join(', ')})
    select c.id, ${COUNTS.map((count) => `coalesce(l.${count}, 0)`).join(', ')}
    from campaigns c left join (${sums(`(select ${ROW}, 1 as sign from campaign_leads) l`)}) l on l.campaign_id = c.id;

    ${recordChanges('campaign_lead_counts_inserted', `(select ${ROW}, 1 as sign from new_leads) l`)}
    ${recordChanges('campaign_lead_counts_deleted', `(select ${ROW}, -1 as sign from old_leads) l`)}
    ${recordChanges(
      'campaign_lead_counts_updated',
      `(select ${ROW}, 1 as sign from new_leads union all select ${ROW}, -1 as sign from old_leads) l`,
    )}
    create trigger campaign_lead_counts_inserted after insert on campaign_leads
      referencing new table as new_leads for each statement execute function campaign_lead_counts_inserted();
    create trigger campaign_lead_counts_deleted after delete on campaign_leads
      referencing old table as old_leads for each statement execute function campaign_lead_counts_deleted();
    create trigger campaign_lead_counts_updated after update on campaign_leads
      referencing old table as old_leads new table as new_leads for each statement execute function campaign_lead_counts_updated();

    -- Fires at commit, once for each campaign the transaction changed: the first call takes all the changes (and
    -- the others find none), then adds them to the counts one campaign at a time, in campaign id order, so the
    -- counts rows are locked in that order.
    create function campaign_lead_counts_apply() returns trigger language plpgsql as $$
    declare
      changes campaign_lead_count_changes[];
      change campaign_lead_count_changes;
    begin
      with taken as (delete from campaign_lead_count_changes returning *)
      select array_agg(taken order by campaign_id) into changes from taken;
      if changes is null then return null; end if;
      foreach change in array changes loop
        update campaign_lead_counts set
          ${COUNTS.map((count) => `${count} = ${count} + change.${count}`).join(',\n          ')}
        where campaign_id = change.campaign_id;
      end loop;
      return null;
    end $$;
    create constraint trigger campaign_lead_counts_apply after insert on campaign_lead_count_changes
      deferrable initially deferred for each row execute function campaign_lead_counts_apply();

    create function campaign_lead_counts_open() returns trigger language plpgsql as $$
    begin
      insert into campaign_lead_counts (campaign_id) select id from new_campaigns;
      return null;
    end $$;
    create function campaign_lead_counts_close() returns trigger language plpgsql as $$
    begin
      delete from campaign_lead_counts where campaign_id in (select id from old_campaigns);
      return null;
    end $$;
    create trigger campaign_lead_counts_open after insert on campaigns
      referencing new table as new_campaigns for each statement execute function campaign_lead_counts_open();
    create trigger campaign_lead_counts_close after delete on campaigns
      referencing old table as old_campaigns for each statement execute function campaign_lead_counts_close();
  `,
    )
    .execute(db);
}
