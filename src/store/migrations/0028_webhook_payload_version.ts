import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // A webhook endpoint chooses the version of its payloads: '1' (v1's envelope, Standard Webhooks signing, v1
  // event types in event_types) or '2' (API v2's event envelope signed in X-Inbox-Signature, v2 event types in
  // event_types). Every endpoint so far is a v1 one. A v2 endpoint's deliveries record the v2 type they carry.
  await sql`
    alter table webhooks add column payload_version text not null default '1' check (payload_version in ('1', '2'));
  `.execute(db);
}
