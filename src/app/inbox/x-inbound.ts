import { AppError } from '../../core/errors.js';
import { accountOf, type Platform, type PlatformDm } from '../../platforms/platform.js';
import { dmsOfAccountActivity, type AccountActivity } from '../../platforms/x.js';
import type { AccountLinkRow } from '../../store/schema.js';
import { markAccountOffline } from '../../store/account-links.js';
import type { AppContext } from '../context.js';
import { ingestInboundMessage } from './inbound.js';
import { PollingLoop } from '../../lib/polling-loop.js';

/**
 * Ingests DMs in order; returns how many were taken in. A DM the use case refuses for good (its user is
 * gone from X) is skipped with a warning; any other failure stops here, so the caller keeps its cursor
 * before the DM and the next attempt retries it.
 */
async function ingestAll(ctx: AppContext, account: AccountLinkRow, dms: PlatformDm[]): Promise<number> {
  let done = 0;
  for (const dm of dms) {
    try {
      await ingestInboundMessage(ctx, account, dm);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      ctx.logger.warn({ accountLinkId: account.id, platformMessageId: dm.platformMessageId, err: error }, 'skipped an X DM');
    }
    done++;
  }
  return done;
}

export interface XPollerOptions {
  /** accounts polled per pass */
  batch?: number;
  /** how often a pass looks for accounts due */
  passIntervalMs?: number;
}

/**
 * Reads each active linked X account's new DMs (Platform.readDms) every poll interval and feeds them to the
 * inbound use case, oldest first. Accounts are claimed with FOR UPDATE SKIP LOCKED and their
 * next poll moved forward in the same step, so processes sharing a store never poll one account twice.
 */
export class XPoller {
  readonly #ctx: AppContext;
  readonly #batch: number;
  readonly #loop: PollingLoop;

  constructor(ctx: AppContext, options: XPollerOptions = {}) {
    this.#ctx = ctx;
    this.#batch = options.batch ?? 10;
    const onError = (error: unknown) => ctx.logger.error({ err: error }, 'X polling failed');
    this.#loop = new PollingLoop(async () => (await this.runOnce()) === this.#batch, options.passIntervalMs ?? 5_000, onError);
  }

  start(): void {
    this.#loop.start();
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  /** Polls the accounts that are due; resolves with how many it polled. */
  async runOnce(): Promise<number> {
    const platform = this.#ctx.platforms.get('twitter');
    const readDms = platform?.readDms?.bind(platform);
    if (!readDms) return 0;
    const claimed = await this.#claimDue();
    for (const { account, cursor } of claimed) await this.#poll(readDms, account, cursor);
    return claimed.length;
  }

  async #claimDue(): Promise<Array<{ account: AccountLinkRow; cursor: string | null }>> {
    const { db, clock, config } = this.#ctx;
    const now = clock.now();
    return db.transaction().execute(async (trx) => {
      const due = await trx
        .selectFrom('x_poll_cursors as c')
        .innerJoin('account_links as al', 'al.id', 'c.account_link_id')
        .select(['c.account_link_id', 'c.newest_event_id'])
        .where('al.platform', '=', 'twitter')
        .where('al.status', '=', 'active')
        .where('c.next_poll_at', '<=', now)
        .orderBy('c.next_poll_at')
        .limit(this.#batch)
        .forUpdate('c')
        .skipLocked()
        .execute();
      if (due.length === 0) return [];
      const ids = due.map((d) => d.account_link_id);
      await trx
        .updateTable('x_poll_cursors')
        .set({ next_poll_at: new Date(now.getTime() + config.x.pollIntervalMs) })
        .where('account_link_id', 'in', ids)
        .execute();
      const accounts = await trx.selectFrom('account_links').selectAll().where('id', 'in', ids).execute();
      return due.map((d) => ({ account: accounts.find((a) => a.id === d.account_link_id)!, cursor: d.newest_event_id }));
    });
  }

  async #poll(readDms: NonNullable<Platform['readDms']>, account: AccountLinkRow, cursor: string | null): Promise<void> {
    const { db, clock, logger } = this.#ctx;
    const read = await readDms(accountOf(account), cursor);
    const { failure } = read;
    if (!failure) {
      if (!read.caughtUp) logger.warn({ accountLinkId: account.id, read: read.dms.length }, 'X DM backlog deeper than one poll reads');
      // The first poll that reads the stream completes the account's initial sync.
      await db.updateTable('account_links').set({ synced_at: clock.now() }).where('id', '=', account.id).where('synced_at', 'is', null).execute();
    } else {
      const now = clock.now();
      if (failure.kind === 'auth_revoked') await markAccountOffline(db, account.id, now);
      if (failure.kind === 'rate_limited' && failure.resetAt) {
        await db.updateTable('x_poll_cursors').set({ next_poll_at: failure.resetAt }).where('account_link_id', '=', account.id).execute();
      }
      logger.warn({ accountLinkId: account.id, kind: failure.kind, err: failure.message }, 'X DM poll failed');
    }
    const ingested = await ingestAll(this.#ctx, account, read.dms).catch((error: unknown) => {
      logger.error({ accountLinkId: account.id, err: error }, 'ingesting X DMs failed');
      return -1;
    });
    // The cursor moves only past a gap-free run: everything newer than it has been read and taken in.
    const through = ingested < 0 || !read.caughtUp ? null : read.newest;
    if (through) await db.updateTable('x_poll_cursors').set({ newest_event_id: through }).where('account_link_id', '=', account.id).execute();
  }
}

/**
 * Takes in the DMs of an Account Activity delivery for every team that has linked the account the
 * delivery is for. Returns how many DMs it ingested.
 */
export async function receiveAccountActivity(ctx: AppContext, body: AccountActivity): Promise<number> {
  const dms = dmsOfAccountActivity(body);
  if (!body.for_user_id || dms.length === 0) return 0;
  const accounts = await ctx.db
    .selectFrom('account_links')
    .selectAll()
    .where('platform', '=', 'twitter')
    .where('platform_id', '=', body.for_user_id)
    .where('status', '=', 'active')
    .execute();
  let ingested = 0;
  for (const account of accounts) ingested += await ingestAll(ctx, account, dms);
  return ingested;
}
