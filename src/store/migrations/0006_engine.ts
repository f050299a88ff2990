import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- Due work: the leads of one (campaign, account) still to step through, soonest first. The dispatcher
    -- looks up the head of each sender's queue here, so a pass costs what is due, not what exists.
    -- Ties go by prospect, whose id (unlike a lead's) a simulation reproduces.
    create index campaign_leads_due on campaign_leads (campaign_id, account_link_id, next_step_at, prospect_id)
      where state in ('pending', 'active');
    -- Leads waiting for a sender (new, or whose account left the campaign).
    create index campaign_leads_unplanned on campaign_leads (campaign_id, created_at, prospect_id)
      where state = 'pending' and account_link_id is null;
    -- A claimed lead is leased, so a crashed worker's leads come back.
    alter table campaign_leads add column claimed_until timestamptz;

    -- Per (campaign, account): the earliest instant the pair may send again (pace, caps and window). A lower
    -- bound the dispatcher re-checks; null = not computed yet.
    alter table campaign_accounts add column next_send_at timestamptz;

    -- The sequence version the engine has moved the campaign's leads in flight to; behind sequence_version
    -- right after a PUT sequence, until the next pass reschedules them.
    alter table campaigns add column applied_sequence_version integer not null default 0;

    -- Set after the platform rate-limits the account: nothing is sent from it before then.
    alter table account_links add column held_until timestamptz;

    -- Written before the platform is called, so a send is never repeated blindly after a crash.
    create table send_intents (
      id text primary key,
      lead_id text not null references campaign_leads(id) on delete cascade,
      step_id text not null,
      sequence_version integer not null,
      account_link_id text not null references account_links(id) on delete cascade,
      kind text not null check (kind in ('message', 'like')),
      content text,
      status text not null default 'pending' check (status in ('pending', 'sent', 'failed')),
      platform_message_id text,
      created_at timestamptz not null,
      completed_at timestamptz,
      unique (lead_id, step_id, sequence_version)
    );

    -- Every send and like per account, for the sliding-window caps across campaigns and processes.
    create table account_sends (
      intent_id text primary key references send_intents(id) on delete cascade,
      account_link_id text not null references account_links(id) on delete cascade,
      campaign_id text not null references campaigns(id) on delete cascade,
      sent_at timestamptz not null,
      kind text not null check (kind in ('message', 'like'))
    );
    create index account_sends_account on account_sends (account_link_id, sent_at desc);
    create index account_sends_campaign on account_sends (campaign_id, account_link_id, sent_at desc);
  `.execute(db);
}
