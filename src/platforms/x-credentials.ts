import type { Clock } from '../core/clock.js';
import { newId } from '../core/ids.js';
import { open, seal } from '../core/secret-box.js';
import { PlatformError } from './platform.js';
import type { XAccessTokens } from './x.js';
import type { XApi, XTokenResponse } from './x-api.js';
import type { Db } from '../store/db.js';
import type { XCredentialsRow } from '../store/schema-x.js';
import { markAccountOffline } from '../store/account-links.js';

/** Refresh this long before expiry, so a token never lapses in the middle of a call. */
const REFRESH_MARGIN_MS = 5 * 60_000;
/** A refresh claim lapses after this (the refresher crashed); well above the token endpoint's timeout. */
const LEASE_MS = 30_000;
const WAIT_STEP_MS = 50;

// Sealing binds each value to its column and account, so sealed values cannot be swapped around.
const accessContext = (accountLinkId: string) => `x_credentials.access:${accountLinkId}`;
const refreshContext = (accountLinkId: string) => `x_credentials.refresh:${accountLinkId}`;

function sealedTokens(key: Buffer, accountLinkId: string, tokens: XTokenResponse, now: Date) {
  return {
    access_token_sealed: seal(key, tokens.access_token, accessContext(accountLinkId)),
    refresh_token_sealed: tokens.refresh_token ? seal(key, tokens.refresh_token, refreshContext(accountLinkId)) : null,
    expires_at: new Date(now.getTime() + tokens.expires_in * 1000),
    scopes: tokens.scope,
    refresh_lease_id: null,
    refresh_lease_until: null,
    updated_at: now,
  };
}

/** Stores a fresh grant for an account link (linking again replaces the old one). */
export async function saveXCredentials(db: Db, key: Buffer, accountLinkId: string, tokens: XTokenResponse, now: Date): Promise<void> {
  const values = sealedTokens(key, accountLinkId, tokens, now);
  await db
    .insertInto('x_credentials')
    .values({ account_link_id: accountLinkId, ...values })
    .onConflict((oc) => oc.column('account_link_id').doUpdateSet(values))
    .execute();
}

/**
 * User access tokens of linked X accounts, refreshed shortly before they expire. Refresh tokens rotate, so
 * only one refresh per account may run at a time, across processes: the refresher leases the row and the
 * others wait for its result. A refused refresh takes the account offline until it is linked again.
 */
export class XTokenStore implements XAccessTokens {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly key: Buffer,
    private readonly api: XApi,
  ) {}

  async accessToken(accountLinkId: string): Promise<string> {
    for (let waited = 0; waited <= LEASE_MS; waited += WAIT_STEP_MS) {
      const row = await this.db.selectFrom('x_credentials').selectAll().where('account_link_id', '=', accountLinkId).executeTakeFirst();
      if (!row) throw new PlatformError('auth_revoked', 'The X account has no stored credentials; link it again');
      const now = this.clock.now();
      if (row.expires_at.getTime() - now.getTime() > REFRESH_MARGIN_MS) return open(this.key, row.access_token_sealed, accessContext(accountLinkId));
      const leaseId = newId();
      const claimed = await this.db
        .updateTable('x_credentials')
        .set({ refresh_lease_id: leaseId, refresh_lease_until: new Date(now.getTime() + LEASE_MS) })
        .where('account_link_id', '=', accountLinkId)
        .where('expires_at', '=', row.expires_at)
        .where((eb) => eb.or([eb('refresh_lease_until', 'is', null), eb('refresh_lease_until', '<=', now)]))
        .executeTakeFirst();
      if (claimed.numUpdatedRows > 0n) return this.#refresh(row, leaseId, now);
      await new Promise((resolve) => setTimeout(resolve, WAIT_STEP_MS));
    }
    throw new PlatformError('transient', 'Another process is still refreshing this X account’s token');
  }

  async #refresh(row: XCredentialsRow, leaseId: string, now: Date): Promise<string> {
    const id = row.account_link_id;
    let tokens: XTokenResponse;
    try {
      if (!row.refresh_token_sealed) throw new PlatformError('auth_revoked', 'The X grant has no refresh token (offline.access missing)');
      tokens = await this.api.token({ grant_type: 'refresh_token', refresh_token: open(this.key, row.refresh_token_sealed, refreshContext(id)) });
    } catch (error) {
      await this.db
        .updateTable('x_credentials')
        .set({ refresh_lease_id: null, refresh_lease_until: null })
        .where('account_link_id', '=', id)
        .where('refresh_lease_id', '=', leaseId)
        .execute();
      if (error instanceof PlatformError && error.kind === 'auth_revoked') await markAccountOffline(this.db, id, now);
      throw error;
    }
    await this.db
      .updateTable('x_credentials')
      .set(sealedTokens(this.key, id, tokens, this.clock.now()))
      .where('account_link_id', '=', id)
      .where('refresh_lease_id', '=', leaseId)
      .execute();
    return tokens.access_token;
  }
}
