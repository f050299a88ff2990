import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // API v2's POST /messages with an Idempotency-Key goes through the send-intent protocol the engine uses
  // (store/send-intents.ts): its intent is reserved before the platform call and settled after it, and one a crash
  // left pending is reconciled with the platform. Such an intent is no lead's step: it has no lead, step, sequence
  // version or campaign, and is no slot in a campaign's send log.
  //
  // send_keys is the key's record, scoped per team: the request it was first given with (a hash, to refuse the
  // key with another body), its intent (a released intent takes its key with it), the id the message gets, and
  // what recording the message needs if a retry reconciles the send. Kept at least 24 hours after the send
  // settled (Maintenance prunes older ones, with their intents).
  await sql`
    alter table send_intents
      alter column lead_id drop not null,
      alter column step_id drop not null,
      alter column sequence_version drop not null,
      alter column campaign_id drop not null,
      add constraint send_intents_lead_step check (
        (lead_id is null) = (campaign_id is null) and (lead_id is null) = (step_id is null) and (lead_id is null) = (sequence_version is null));

    create table send_keys (
      team_id text not null references teams(id) on delete cascade,
      key text not null,
      request_hash text not null,
      intent_id text not null unique references send_intents(id) on delete cascade,
      message_id text not null,
      user_id text,
      recipient_platform_id text not null,
      recipient jsonb not null,
      reply_to_message_id text,
      outcome_unknown boolean not null default false,
      created_at timestamptz not null,
      primary key (team_id, key)
    );
    create index send_keys_created on send_keys (created_at);
  `.execute(db);
}
