import { sql } from 'kysely';
import { randomBytes } from 'node:crypto';
import { notFound, validationError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { isPrivateHostname } from '../../core/network.js';
import { open, seal, SecretBoxError } from '../../core/secret-box.js';
import { iso, isoOrNull } from '../../core/time.js';
import type { Db } from '../../store/db.js';
import type { WebhookRow } from '../../store/schema.js';
import type { AppContext } from '../context.js';
import { keysetPage } from '../../store/keyset.js';
import { rowOr404 } from '../rows.js';
import { catchUpWebhook, teamSeqNow } from './webhook-fan-out.js';

/**
 * The payloads an endpoint takes: '1' v1's envelope signed the Standard Webhooks way, '2' API v2's event envelope
 * signed in X-Inbox-Signature. Each API version manages the endpoints of its own payload version.
 */
export type PayloadVersion = '1' | '2';

/**
 * A webhook subscription. `eventTypes` holds exact types, categories ("thread") or "*" for a v1 endpoint; v2
 * type names or "*" for a v2 one.
 */
export interface Webhook {
  id: string;
  url: string;
  description: string | null;
  eventTypes: string[];
  enabled: boolean;
  /** since when every attempt has failed (null while it delivers) */
  failingSince: string | null;
  /** why the server switched it off (after failing for days), until it is enabled again */
  disabledReason: string | null;
  disabledAt: string | null;
  createdAt: string;
  updatedAt: string | null;
}

export interface WebhookInput {
  url: string;
  eventTypes: string[];
  description?: string | null;
  enabled?: boolean;
  /** '1' unless told */
  payloadVersion?: PayloadVersion;
}

/** A webhook as the API shows it (its secret never). */
export const presentWebhook = (row: WebhookRow): Webhook => ({
  id: row.id,
  url: row.url,
  description: row.description,
  eventTypes: row.event_types,
  enabled: row.enabled,
  failingSince: isoOrNull(row.failing_since),
  disabledReason: row.disabled_reason,
  disabledAt: isoOrNull(row.disabled_at),
  createdAt: iso(row.created_at),
  updatedAt: isoOrNull(row.updated_at),
});

/** A Standard Webhooks signing secret: "whsec_" and base64 of 32 random bytes. */
const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

// Sealing binds a secret to its webhook, so a sealed value copied onto another webhook does not open.
const secretContext = (webhookId: string) => `webhooks.secret:${webhookId}`;
const CLEAR_SECRET_PREFIX = 'whsec_';

/** The secret as stored: sealed with INBOX_SECRET_KEY, or in clear on a server that has none. */
const storedSecret = (key: Buffer | undefined, webhookId: string, secret: string) => (key ? seal(key, secret, secretContext(webhookId)) : secret);

/**
 * The signing secret of a webhook as stored. A sealed one needs the key it was sealed with: without it (the
 * key removed or changed) the delivery cannot be signed, and says so.
 */
export function signingSecret(key: Buffer | undefined, webhookId: string, stored: string): string {
  if (stored.startsWith(CLEAR_SECRET_PREFIX)) return stored;
  if (!key) throw new SecretBoxError('the signing secret is sealed and INBOX_SECRET_KEY is not set');
  return open(key, stored, secretContext(webhookId));
}

/**
 * Seals the signing secrets still stored in clear (webhooks created before secrets were sealed, or while the
 * server had no INBOX_SECRET_KEY), on every start with a key; resolves with how many it sealed.
 */
export async function sealWebhookSecrets(db: Db, key: Buffer): Promise<number> {
  const clear = await db.selectFrom('webhooks').select(['id', 'secret']).where('secret', 'like', `${CLEAR_SECRET_PREFIX}%`).execute();
  for (const row of clear) {
    // Only if no one changed it meanwhile (another process sealing at the same start).
    await db.updateTable('webhooks').set({ secret: storedSecret(key, row.id, row.secret) }).where('id', '=', row.id).where('secret', '=', row.secret).execute();
  }
  return clear.length;
}

function urlOf(ctx: AppContext, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw validationError(`'${value}' is not a valid URL`, [{ field: 'url', message: 'must be an absolute http(s) URL' }]);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw validationError('Webhook URLs must use http or https', [{ field: 'url', message: 'must be an absolute http(s) URL' }]);
  }
  if (!ctx.config.webhookAllowPrivate && isPrivateHostname(url.hostname)) {
    throw validationError(`Webhook URL host '${url.hostname}' is a loopback or private address`, [
      { field: 'url', message: 'must point to a public host' },
    ]);
  }
  return url.href;
}

const unique = (eventTypes: string[]) => [...new Set(eventTypes)];

async function findWebhook(db: Db, teamId: string, id: string, version: PayloadVersion): Promise<WebhookRow> {
  const query = db.selectFrom('webhooks').selectAll().where('team_id', '=', teamId).where('id', '=', id).where('payload_version', '=', version);
  return rowOr404(query, 'WEBHOOK_NOT_FOUND', 'Webhook', id);
}

/** A team's endpoints of one payload version, oldest first. */
export async function listWebhooks(ctx: AppContext, teamId: string, version: PayloadVersion = '1'): Promise<Webhook[]> {
  const rows = await ctx.db
    .selectFrom('webhooks')
    .selectAll()
    .where('team_id', '=', teamId)
    .where('payload_version', '=', version)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(presentWebhook);
}

export async function getWebhook(ctx: AppContext, teamId: string, id: string): Promise<Webhook> {
  return presentWebhook(await findWebhook(ctx.db, teamId, id, '1'));
}

/** Creates a webhook, which gets the events after the team's seq now; the response is the only time its signing secret is shown. */
export async function createWebhook(ctx: AppContext, teamId: string, input: WebhookInput): Promise<Webhook & { secret: string }> {
  const id = newId();
  const secret = newSecret();
  const row = await ctx.db
    .insertInto('webhooks')
    .values({
      id,
      team_id: teamId,
      url: urlOf(ctx, input.url),
      description: input.description ?? null,
      event_types: JSON.stringify(unique(input.eventTypes)),
      enabled: input.enabled ?? true,
      payload_version: input.payloadVersion ?? '1',
      secret: storedSecret(ctx.config.secretKey, id, secret),
      fanned_out_seq: teamSeqNow(teamId),
      created_at: ctx.clock.now(),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { ...presentWebhook(row), secret };
}

/**
 * Changes a v1 webhook (v2 endpoints are created and deleted, never changed). Deliveries already queued keep
 * going to it (to the new URL); a disabled webhook's queue waits until it is enabled again, and the events
 * emitted meanwhile are not delivered to it. The events emitted before the change are queued as they were: the
 * ones the dispatcher has not fanned out yet are, first, when it is disabled or its event types change.
 */
export async function updateWebhook(ctx: AppContext, teamId: string, id: string, input: Partial<WebhookInput>): Promise<Webhook> {
  const now = ctx.clock.now();
  const row = await ctx.db.transaction().execute(async (trx) => {
    if (input.enabled === false || input.eventTypes !== undefined) await catchUpWebhook(trx, teamId, id, now);
    const update = trx
      .updateTable('webhooks')
      .set({
        ...(input.url === undefined ? {} : { url: urlOf(ctx, input.url) }),
        ...(input.eventTypes === undefined ? {} : { event_types: JSON.stringify(unique(input.eventTypes)) }),
        ...(input.description === undefined ? {} : { description: input.description }),
        // Enabling starts afresh: the reason it was switched off, and the failing streak that led there, go; a
        // disabled one takes up the team's events from now.
        ...(input.enabled === undefined ? {} : { enabled: input.enabled }),
        ...(input.enabled === true ? { disabled_at: null, disabled_reason: null, failing_since: null, fanned_out_seq: sql<number>`case when enabled then fanned_out_seq else ${teamSeqNow(teamId)} end` } : {}),
        updated_at: now,
      })
      .where('team_id', '=', teamId)
      .where('id', '=', id)
      .where('payload_version', '=', '1')
      .returningAll();
    return rowOr404(update, 'WEBHOOK_NOT_FOUND', 'Webhook', id);
  });
  return presentWebhook(row);
}

/** Deletes a webhook with its delivery history; an attempt in flight finishes but is not recorded. */
export async function deleteWebhook(ctx: AppContext, teamId: string, id: string, version: PayloadVersion = '1'): Promise<void> {
  const { numDeletedRows } = await ctx.db
    .deleteFrom('webhooks')
    .where('team_id', '=', teamId)
    .where('id', '=', id)
    .where('payload_version', '=', version)
    .executeTakeFirst();
  if (numDeletedRows === 0n) throw notFound('WEBHOOK_NOT_FOUND', 'Webhook', id);
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface WebhookDelivery {
  id: string;
  eventId: string;
  /** the type as delivered: v1's, or v2's to a v2 endpoint */
  eventType: string;
  seq: number;
  status: DeliveryStatus;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastAttemptAt: string | null;
  /** when a pending delivery is (re)tried; while an attempt is in flight, when its lease runs out */
  nextAttemptAt: string | null;
  createdAt: string;
  completedAt: string | null;
}

export interface DeliveryPage {
  deliveries: WebhookDelivery[];
  hasMore: boolean;
  /** the seq of the last delivery returned: pass it as `beforeSeq` for the next page */
  lastSeq: number | null;
}

/** A webhook's deliveries, newest event first. */
export async function listDeliveries(
  ctx: AppContext,
  teamId: string,
  webhookId: string,
  query: { beforeSeq?: number; status?: DeliveryStatus; limit: number },
  version: PayloadVersion = '1',
): Promise<DeliveryPage> {
  await findWebhook(ctx.db, teamId, webhookId, version);
  let select = ctx.db.selectFrom('webhook_deliveries as d').selectAll('d').where('d.webhook_id', '=', webhookId);
  if (query.status) select = select.where('d.status', '=', query.status);
  const before = query.beforeSeq === undefined ? undefined : [query.beforeSeq];
  const rows = await keysetPage(select, ['d.event_seq'], 'desc', before, query.limit).execute();
  const page = rows.slice(0, query.limit);
  return {
    deliveries: page.map((r) => ({
      id: r.id,
      eventId: r.event_id,
      eventType: r.event_type,
      seq: r.event_seq,
      status: r.status,
      attempts: r.attempts,
      lastStatusCode: r.last_status_code,
      lastError: r.last_error,
      lastAttemptAt: isoOrNull(r.last_attempt_at),
      nextAttemptAt: r.status === 'pending' ? iso(r.next_attempt_at) : null,
      createdAt: iso(r.created_at),
      completedAt: isoOrNull(r.completed_at),
    })),
    hasMore: rows.length > query.limit,
    lastSeq: page.at(-1)?.event_seq ?? null,
  };
}
