import { createHash, randomBytes } from 'node:crypto';
import { AppError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { open, seal } from '../../core/secret-box.js';
import { pkceChallenge } from '../../core/x-protocol.js';
import { PlatformError } from '../../platforms/platform.js';
import { redeemXAuthorization } from '../../platforms/x.js';
import { presentAccountLink, type AccountLink } from './account-links.js';
import type { AppContext } from '../context.js';
import { saveXCredentials } from '../../platforms/x-credentials.js';

export const X_SCOPES = 'dm.read dm.write tweet.read users.read like.write offline.access';
/** Long enough to sign in on X, short enough that a leaked link soon expires. */
const STATE_TTL_MS = 10 * 60_000;

const stateHash = (state: string) => createHash('sha256').update(state).digest('hex');
const verifierContext = (hash: string) => `x_oauth_states.verifier:${hash}`;

/** X linking needs the OAuth client and a key to seal tokens with; without them it is refused. */
function xSetup(ctx: AppContext) {
  const { client } = ctx.config.x;
  const key = ctx.config.secretKey;
  if (!client || !key) {
    const missing = [!key && 'INBOX_SECRET_KEY', !client && 'INBOX_X_CLIENT_ID, INBOX_X_CLIENT_SECRET and INBOX_X_REDIRECT_URL'].filter(Boolean);
    throw new AppError(503, 'X_NOT_CONFIGURED', `X accounts cannot be linked on this server: set ${missing.join(' and ')}`);
  }
  return { client, key };
}

/** Starts linking an X account: the URL to send the user to, with a single-use state and a PKCE challenge. */
export async function startXAuthorization(ctx: AppContext, teamId: string): Promise<{ url: string }> {
  const { client, key } = xSetup(ctx);
  const now = ctx.clock.now();
  const state = randomBytes(32).toString('base64url');
  const verifier = randomBytes(48).toString('base64url');
  const hash = stateHash(state);
  await ctx.db.deleteFrom('x_oauth_states').where('expires_at', '<', now).execute();
  await ctx.db
    .insertInto('x_oauth_states')
    .values({
      state_hash: hash,
      code_verifier_sealed: seal(key, verifier, verifierContext(hash)),
      team_id: teamId,
      created_at: now,
      expires_at: new Date(now.getTime() + STATE_TTL_MS),
    })
    .execute();
  const url = new URL(ctx.config.x.authorizeUrl);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: client.id,
    redirect_uri: client.redirectUrl,
    scope: X_SCOPES,
    state,
    code_challenge: pkceChallenge(verifier),
    code_challenge_method: 'S256',
  }).toString();
  return { url: url.toString() };
}

function linkFailure(error: unknown): never {
  if (!(error instanceof PlatformError)) throw error;
  if (error.kind === 'transient' || error.kind === 'rate_limited') {
    throw new AppError(503, 'PLATFORM_UNAVAILABLE', `X could not complete the link; start again later: ${error.message}`);
  }
  throw new AppError(400, 'X_AUTHORIZATION_FAILED', `X refused the authorization: ${error.message}`);
}

export type XCallback = { state: string; code: string } | { state: string; error: string };

/**
 * Finishes linking when X sends the user back: spends the state (once, before it expires), trades the
 * code for tokens, reads who signed in and creates the account link, or re-activates the team's existing
 * link to that X user with the new tokens.
 */
export async function completeXAuthorization(ctx: AppContext, input: XCallback): Promise<AccountLink> {
  const { client, key } = xSetup(ctx);
  const now = ctx.clock.now();
  const hash = stateHash(input.state);
  const pending = await ctx.db
    .updateTable('x_oauth_states')
    .set({ used_at: now })
    .where('state_hash', '=', hash)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .returningAll()
    .executeTakeFirst();
  if (!pending) throw new AppError(400, 'X_STATE_INVALID', 'The authorization state is unknown, expired or already used; start linking again');
  if ('error' in input) throw new AppError(400, 'X_AUTHORIZATION_DENIED', `X did not authorize the account: ${input.error}`);

  const codeVerifier = open(key, pending.code_verifier_sealed, verifierContext(hash));
  const { tokens, user } = await redeemXAuthorization(ctx.config.x, ctx.clock, { code: input.code, redirectUri: client.redirectUrl, codeVerifier }).catch(linkFailure);

  const profile = { name: user.name, username: user.username, image: user.profile_image_url ?? '' };
  const row = await ctx.db.transaction().execute(async (trx) => {
    const link = await trx
      .insertInto('account_links')
      .values({ id: newId(), team_id: pending.team_id, platform: 'twitter', platform_id: user.id, ...profile, created_at: now })
      .onConflict((oc) => oc.columns(['team_id', 'platform', 'platform_id']).doUpdateSet({ ...profile, status: 'active', updated_at: now }))
      .returningAll()
      .executeTakeFirstOrThrow();
    await saveXCredentials(trx, key, link.id, tokens, now);
    await trx
      .insertInto('x_poll_cursors')
      .values({ account_link_id: link.id, next_poll_at: now })
      .onConflict((oc) => oc.column('account_link_id').doUpdateSet({ next_poll_at: now }))
      .execute();
    return link;
  });
  return presentAccountLink(row);
}
