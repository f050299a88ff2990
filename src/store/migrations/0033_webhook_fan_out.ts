import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // Deliveries are no longer written by the request that emits an event (one row per webhook in its transaction
  // cost a send a quarter of its throughput with 60 webhooks, BENCHMARKS.md): the webhook dispatcher fans the event
  // log out to each webhook (app/events/webhook-fan-out.ts). Each webhook keeps how far it has been fanned out, in
  // the team's seq, updated in the transaction that writes the deliveries. A new webhook starts at its team's seq
  // when it is created, and so do the existing ones here: their deliveries so far were written by the emitters
  // (an emitter of an older process still running writes its own; webhook_deliveries' unique (webhook_id,
  // event_seq) keeps the fan-out from writing one twice).
  await sql`
    alter table webhooks add column fanned_out_seq bigint not null default 0;
    update webhooks w set fanned_out_seq = c.last_seq from event_counters c where c.team_id = w.team_id;
  `.execute(db);
}
