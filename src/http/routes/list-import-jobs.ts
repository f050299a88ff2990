import type { z } from 'zod';
import type { AppContext } from '../../app/context.js';
import { cancelListImportJob, createListImport, listListImportJobs, type ListImportInput } from '../../app/lists/import-jobs.js';
import { validationError } from '../../core/errors.js';
import { bareUsername, postIdOfLink } from '../../core/usernames.js';
import type { Api } from '../api.js';
import { EmptyBody, errorResponses } from '../schemas/common.js';
import { ListParams } from '../schemas/lists.js';
import {
  CreateListImportBody,
  decodeListImportCursor,
  encodeListImportCursor,
  ListImportJobPageSchema,
  ListImportJobSchema,
  ListImportParams,
  ListImportQuery,
} from '../schemas/list-import-jobs.js';

const tags = ['Import jobs'];
const response = { 200: ListImportJobSchema, ...errorResponses };

/** The body's import as the use case takes it: a handle as people paste it, a post by its link or its id. */
function importOf(data: z.infer<typeof CreateListImportBody>['data']): ListImportInput {
  if (data.type === 'csv') return data;
  if (data.type === 'followers') return data.username !== undefined ? { type: 'followers', username: bareUsername(data.username) } : { type: 'followers', platformId: data.platformId! };
  const postId = data.postId ?? postIdOfLink(data.postUrl!);
  if (postId === null) throw validationError(`'${data.postUrl}' is not a link to a post`, [{ field: 'data.postUrl', message: 'must be a post link such as https://x.com/name/status/123' }]);
  return { type: 'likes', postId };
}

/** The vendor's import jobs of a list, on the importers and the job runner of /import-jobs. */
export function listImportJobRoutes(api: Api, ctx: AppContext): void {
  api.post(
    '/lists/:listId/import-jobs',
    {
      schema: {
        tags,
        summary: "Import into a list: a CSV given in the body, an account's followers, or a post's likers",
        params: ListParams,
        body: CreateListImportBody,
        response,
      },
    },
    async (req) => createListImport(ctx, req.actor.teamId, req.params.listId, importOf(req.body.data)),
  );
  api.get(
    '/lists/:listId/import-jobs',
    { schema: { tags, summary: "A list's import jobs, newest first", params: ListParams, querystring: ListImportQuery, response: { 200: ListImportJobPageSchema, ...errorResponses } } },
    async (req) => {
      const { status, cursor, limit } = req.query;
      const after = cursor === undefined ? undefined : decodeListImportCursor(cursor);
      const { jobs, hasMore } = await listListImportJobs(ctx, req.actor.teamId, req.params.listId, { statuses: status, limit, after });
      return { data: jobs, nextCursor: hasMore ? encodeListImportCursor(jobs.at(-1)!) : null };
    },
  );
  api.post(
    '/lists/:listId/import-jobs/:importJobId/cancel',
    { schema: { tags, summary: 'Cancel a queued or running import; rows already added stay', params: ListImportParams, body: EmptyBody, response } },
    async (req) => cancelListImportJob(ctx, req.actor.teamId, req.params.listId, req.params.importJobId),
  );
}
