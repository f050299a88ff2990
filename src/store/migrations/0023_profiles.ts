import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // API v2 separates a profile (one person's account on one platform) from a contact (the team's record of the
  // person, with the CRM fields). A prospect is a contact: its row keeps the CRM fields (one copy, for v1 and v2)
  // and the platform data of its first profile, the one with its own platform and platform id. `profiles` lists
  // a contact's profiles, so a contact can gain profiles on other platforms without a second prospect.
  //
  // Every prospect has its profile: the existing ones get one here, and new ones get it from the statement that
  // inserts them (one trigger per statement, so a bulk insert of leads adds one statement, not one per row),
  // whichever use case inserts them. A profile's id is derived from its prospect's, so it is the same everywhere.
  await sql`
    create table profiles (
      id text primary key,
      team_id text not null references teams(id) on delete cascade,
      contact_id text not null references prospects(id) on delete cascade,
      platform text not null check (platform in ('twitter', 'sandbox')),
      platform_id text not null,
      created_at timestamptz not null default now(),
      unique (team_id, platform, platform_id)
    );
    create index profiles_contact on profiles (contact_id, created_at, id);

    insert into profiles (id, team_id, contact_id, platform, platform_id, created_at)
      select substr(md5('profile:' || id), 1, 24), team_id, id, platform, platform_id, created_at from prospects;

    create function prospects_add_profiles() returns trigger language plpgsql as $$
    begin
      insert into profiles (id, team_id, contact_id, platform, platform_id, created_at)
        select substr(md5('profile:' || n.id), 1, 24), n.team_id, n.id, n.platform, n.platform_id, n.created_at from inserted n
        on conflict do nothing;
      return null;
    end
    $$;
    create trigger prospects_profiles after insert on prospects referencing new table as inserted
      for each statement execute function prospects_add_profiles();
  `.execute(db);
}
