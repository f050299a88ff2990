import { AppError, validationError } from '../../core/errors.js';
import { platformOf, PlatformError, type Platform, type PlatformAccount, type PlatformName, type ProfilePage } from '../../platforms/platform.js';
import { lookupAccountOf } from '../accounts/account-links.js';
import type { AppContext } from '../context.js';
import { emitProgress, FOLLOWERS_IMPORT, LIKES_IMPORT, NO_COUNTS, writeImportBatch, type ImportCounts, type ImportJob } from './imports.js';
import { enqueueJob, JobDeferred, type JobHandler, type Payload } from '../workers/jobs.js';
import { resolveLeads, teamPlatform } from '../leads/resolution.js';
import { getUserListRow } from './lists.js';
import { platformFailure } from '../inbox/messages.js';

/**
 * Importers of a platform's people into a list: the followers of an account, or the people who liked a post.
 * They read the platform through its port (Platform.followersOf, Platform.likingUsersOf), a page per batch, and
 * checkpoint the next page's token, so a job resumes where it stopped; a rate limit pauses the job until it
 * resets. Their batches are written as a CSV import's are (imports.ts writeImportBatch).
 */

export type AudienceInput = { type: 'followers'; username: string } | { type: 'followers'; platformId: string } | { type: 'likes'; postId: string };

type AudienceSource = { type: 'followers'; platformId: string; username: string } | { type: 'likes'; postId: string };

interface AudiencePayload extends Payload, ImportCounts {
  /** the platform read: the team's when the import was created */
  platform: PlatformName;
  source: AudienceSource;
  /** the token of the next page to read (null: the first, before any is read) */
  page: string | null;
}

/** When the platform gave no reset time for its rate limit. */
const RATE_LIMIT_WAIT_MS = 15 * 60_000;

/** The platform's way of reading this audience, or 422 when it has none. */
function readerOf(platform: Platform, type: AudienceSource['type']): (id: string, page: string | null, via?: PlatformAccount) => Promise<ProfilePage> {
  const read = type === 'followers' ? platform.followersOf : platform.likingUsersOf;
  if (!read) throw new AppError(422, 'IMPORTER_NOT_SUPPORTED', `The ${platform.name} platform cannot list ${type === 'followers' ? "an account's followers" : "a post's likers"}`);
  return read.bind(platform);
}

/** Asks the platform, its failures as the API's errors (a lookup while creating an import). */
async function asked<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    throw error instanceof PlatformError ? platformFailure(error) : error;
  }
}

/**
 * POST /lists/{listId}/import-jobs of type followers or likes: queues the import of an account's followers (the
 * account found on the team's platform first, so an unknown one is refused now) or of a post's likers.
 */
export async function createAudienceImport(ctx: AppContext, teamId: string, listId: string, input: AudienceInput): Promise<ImportJob> {
  await getUserListRow(ctx.db, teamId, listId);
  const { platform, via } = await teamPlatform(ctx, teamId);
  readerOf(platform, input.type); // a platform that cannot list this audience is refused now, not in the job
  let source: AudienceSource;
  let total: number | null = null;
  if (input.type === 'followers') {
    const account = await asked('username' in input ? platform.profileByUsername(input.username, via) : platform.profileById(input.platformId, via));
    if (!account) {
      const [field, value] = 'username' in input ? ['username', `@${input.username}`] : ['platformId', input.platformId];
      throw validationError(`No ${platform.name} account ${value}`, [{ field: `data.${field}`, message: 'is no account on the platform' }]);
    }
    source = { type: 'followers', platformId: account.platformId, username: account.username };
    total = account.followerCount;
  } else {
    source = { type: 'likes', postId: input.postId };
  }
  const payload: AudiencePayload = { platform: platform.name, source, page: null, total, ...NO_COUNTS };
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    const job = await enqueueJob(trx, { teamId, kind: input.type === 'followers' ? FOLLOWERS_IMPORT : LIKES_IMPORT, subjectId: listId, payload }, now);
    return emitProgress(trx, job, now);
  });
}

/** A page of the audience; a rate limit defers the job, a refusal of the platform fails it, an outage is retried. */
async function readPage(ctx: AppContext, read: ReturnType<typeof readerOf>, state: AudiencePayload, via: PlatformAccount | undefined): Promise<ProfilePage> {
  const id = state.source.type === 'followers' ? state.source.platformId : state.source.postId;
  try {
    return await read(id, state.page, via);
  } catch (error) {
    if (!(error instanceof PlatformError) || error.kind === 'transient') throw error;
    if (error.kind === 'rate_limited') throw new JobDeferred(error.resetAt ?? new Date(ctx.clock.now().getTime() + RATE_LIMIT_WAIT_MS), error.message);
    throw new AppError(422, 'PLATFORM_REFUSED', `The ${state.platform} platform refused the list: ${error.message}`);
  }
}

/** Runs a followers or likes import from its checkpoint: a page, then a batch, until the last page or told to stop. */
export const runAudienceImport: JobHandler = async (ctx, job) => {
  let state = job.payload as AudiencePayload;
  const read = readerOf(platformOf(ctx, state.platform), state.source.type);
  const via = await lookupAccountOf(ctx.db, job.teamId, state.platform);
  const on = await teamPlatform(ctx, job.teamId);
  for (;;) {
    const page = await readPage(ctx, read, state, via);
    const leads = page.profiles.map((p, i) => ({ row: state.processed + i + 1, ref: { by: 'platformId' as const, value: p.platformId }, data: {} }));
    const resolution = await resolveLeads(ctx, job.teamId, leads.map((l) => l.ref), { given: page.profiles, on });
    const batch = { read: leads.length, leads, resolution, errors: [], notes: [] };
    let next = state;
    const last = page.next === null;
    const ran = await job.batch(async (trx) => (next = await writeImportBatch(ctx, job, trx, state, batch, { merge: 'skip', checkpoint: { page: page.next }, last })));
    state = next;
    if (!ran || last) return;
  }
};
