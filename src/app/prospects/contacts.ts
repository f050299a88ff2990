import { notFound } from '../../core/errors.js';
import { isAnyOf, type Db } from '../../store/db.js';
import type { Platform as PlatformName, ProfileRow, ProspectRow } from '../../store/schema.js';
import { tagsOf } from '../inbox/presenters.js';

/**
 * Contacts and profiles (API v2's model): a contact is a prospect row (the team's record of a person, with the CRM
 * fields v1 shows as a prospect's context) and groups the person's profiles, one per account on a platform
 * (table `profiles`, migration 0023). A contact's first profile is the one with the prospect's own platform
 * identity, and its platform data is the prospect row's. Reads never create a contact.
 */
export interface ContactRecord {
  row: ProspectRow;
  tagIds: string[];
  /** oldest link first */
  profiles: ProfileRow[];
}

/** The profiles of many contacts, oldest link first. */
export async function profilesOf(db: Db, contactIds: readonly string[]): Promise<Map<string, ProfileRow[]>> {
  const ids = [...new Set(contactIds)];
  const byContact = new Map<string, ProfileRow[]>(ids.map((id) => [id, []]));
  if (ids.length === 0) return byContact;
  const rows = await db.selectFrom('profiles').selectAll().where(isAnyOf('contact_id', ids)).orderBy('created_at').orderBy('id').execute();
  for (const row of rows) byContact.get(row.contact_id)!.push(row);
  return byContact;
}

/** Contacts with their tags and profiles, for prospect rows already read. */
export async function contactRecords(db: Db, rows: readonly ProspectRow[]): Promise<ContactRecord[]> {
  const ids = rows.map((r) => r.id);
  const [tags, profiles] = await Promise.all([tagsOf(db, ids), profilesOf(db, ids)]);
  return rows.map((row) => ({ row, tagIds: tags.get(row.id)!, profiles: profiles.get(row.id)! }));
}

/** Contacts by id (the team's only; missing ones are left out). */
export async function contactRecordsById(db: Db, teamId: string, ids: readonly string[]): Promise<Map<string, ContactRecord>> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  const rows = await db.selectFrom('prospects').selectAll().where('team_id', '=', teamId).where(isAnyOf('id', unique)).execute();
  return new Map((await contactRecords(db, rows)).map((c) => [c.row.id, c]));
}

export async function getContact(db: Db, teamId: string, contactId: string): Promise<ContactRecord> {
  const found = (await contactRecordsById(db, teamId, [contactId])).get(contactId);
  if (!found) throw notFound('PROSPECT_NOT_FOUND', 'Contact', contactId);
  return found;
}

export interface ContactIdentity {
  platform: PlatformName;
  platformIds?: readonly string[];
  /** without the display prefix; compared case-insensitively, as platforms do */
  usernames?: readonly string[];
}

/**
 * The team's contacts with a profile of this platform identity, oldest first (by creation, then id). Only
 * contacts the team has are found: nobody is looked up on the platform.
 */
export async function findContacts(db: Db, teamId: string, identity: ContactIdentity): Promise<ContactRecord[]> {
  let query = db
    .selectFrom('prospects as p')
    .selectAll('p')
    .where('p.team_id', '=', teamId)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('profiles as pr')
          .select('pr.id')
          .whereRef('pr.contact_id', '=', 'p.id')
          .where('pr.platform', '=', identity.platform)
          .where((w) => (identity.platformIds ? w('pr.platform_id', 'in', [...identity.platformIds]) : w.val(true))),
      ),
    );
  if (identity.usernames) {
    const lowered = identity.usernames.map((u) => u.toLowerCase());
    query = query.where('p.platform', '=', identity.platform).where((eb) => eb(eb.fn('lower', ['p.username']), 'in', lowered));
  }
  const rows = await query.orderBy('p.created_at').orderBy('p.id').execute();
  return contactRecords(db, rows);
}

/** The profile a contact's threads are with: the one with the prospect's own platform identity. */
export const primaryProfile = (contact: ContactRecord): ProfileRow =>
  contact.profiles.find((p) => p.platform === contact.row.platform && p.platform_id === contact.row.platform_id) ?? contact.profiles[0]!;

/** What presenting threads needs besides their rows: their contacts and the text of their last messages. */
export interface ThreadRecords {
  contacts: Map<string, ContactRecord>;
  lastContent: Map<string, string>;
}

export async function threadRecords(db: Db, teamId: string, threads: ReadonlyArray<{ prospect_id: string; last_message_id: string | null }>): Promise<ThreadRecords> {
  const lastIds = threads.flatMap((t) => (t.last_message_id ? [t.last_message_id] : []));
  const [contacts, lasts] = await Promise.all([
    contactRecordsById(db, teamId, threads.map((t) => t.prospect_id)),
    lastIds.length === 0 ? [] : db.selectFrom('messages').select(['id', 'content']).where(isAnyOf('id', lastIds)).execute(),
  ]);
  return { contacts, lastContent: new Map(lasts.map((m) => [m.id, m.content])) };
}
