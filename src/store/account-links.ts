import type { Db } from './db.js';

/** The platform signed the account out: it stays offline until reconnected. */
export async function markAccountOffline(db: Db, accountLinkId: string, now: Date): Promise<void> {
  await db.updateTable('account_links').set({ status: 'offline', updated_at: now }).where('id', '=', accountLinkId).execute();
}
