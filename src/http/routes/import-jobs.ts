import multipart from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import qs from 'qs';
import type { z } from 'zod';
import type { AppContext } from '../../app/context.js';
import { cancelImportJob, createCsvImport, getImportJob, listImportJobs } from '../../app/lists/imports.js';
import { AppError, invalidFields, validationError } from '../../core/errors.js';
import type { Api } from '../api.js';
import { EmptyBody, errorResponses } from '../schemas/common.js';
import { ImportJobListQuery, ImportJobPageSchema, ImportJobParams, ImportJobSchema, ImportMappingSchema } from '../schemas/import-jobs.js';
import { cursorFrom, paginate } from '../schemas/pagination.js';

const tags = ['Import jobs'];
const response = { 200: ImportJobSchema, ...errorResponses };

function mappingOf(given: unknown): z.infer<typeof ImportMappingSchema> {
  const parsed = ImportMappingSchema.safeParse(given);
  if (parsed.success) return parsed.data;
  const details = parsed.error.issues.map((i) => ({ field: i.path.join('.') || 'mapping', message: i.message }));
  throw invalidFields('import mapping', details);
}

/** The CSV stream and the mapping, from a text/csv body (mapping in the query) or a multipart form. */
async function uploadOf(req: FastifyRequest): Promise<{ mapping: z.infer<typeof ImportMappingSchema>; source: AsyncIterable<Uint8Array>; fileName?: string }> {
  if (!req.isMultipart()) {
    // Other routes' parsers (JSON) still apply here; only the CSV parser leaves the body a stream.
    if (!(req.body instanceof Readable)) throw new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the CSV as multipart/form-data or as a text/csv body');
    return { mapping: mappingOf(req.query), source: req.body };
  }
  const part = await req.file().catch(unreadableForm);
  if (!part) throw validationError('The multipart body has no file part', [{ field: 'file', message: 'required' }]);
  // Form fields (they must come before the file) read like query parameters, and add to those.
  const form = new URLSearchParams();
  for (const field of Object.values(part.fields).flat()) {
    if (field?.type === 'field') form.append(field.fieldname, String(field.value));
  }
  return { mapping: mappingOf({ ...(req.query as object), ...qs.parse(form.toString(), { depth: 2 }) }), source: formFile(part.file), fileName: part.filename || undefined };
}

/**
 * The form parser's own complaints (no boundary in the Content-Type, a body that does not use it, a form cut
 * short) are the client's: 400. Its limit errors carry their status (413) and keep it.
 */
function unreadableForm(error: Error & { statusCode?: number }): never {
  if (error.statusCode !== undefined) throw error;
  throw new AppError(400, 'BAD_REQUEST', `The multipart body cannot be read: ${error.message}`);
}

/** The file part's bytes, with a form that breaks off while they stream reported like one that cannot be read at all. */
async function* formFile(file: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  try {
    yield* file;
  } catch (error) {
    unreadableForm(error as Error);
  }
}

export function importJobRoutes(api: Api, ctx: AppContext): void {
  // Its own scope: the upload parsers and the larger body limit apply to this one route only.
  api.register(async (scope) => {
    const limit = ctx.config.importLimitBytes;
    await scope.register(multipart, { limits: { fileSize: limit, files: 1, fields: 120 } });
    // The body stays a stream: the use case stores it in chunks as it arrives and enforces the limit.
    scope.addContentTypeParser(['text/csv', 'application/csv'], (_req, payload, done) => done(null, payload));
    // A declared length over the limit is refused before a byte of the body is read (the streamed parsers above
    // would only notice once that many bytes had arrived).
    scope.addHook('onRequest', async (req) => {
      if (Number(req.headers['content-length']) > limit) throw new AppError(413, 'PAYLOAD_TOO_LARGE', `The CSV file is larger than ${limit} bytes`);
    });
    scope.post(
      '/import-jobs',
      {
        bodyLimit: limit,
        schema: {
          tags,
          summary: 'Import a CSV into a list (multipart upload, or a text/csv body with the mapping in the query)',
          consumes: ['multipart/form-data', 'text/csv'],
          response,
        },
      },
      async (req) => {
        const { mapping, source, fileName } = await uploadOf(req);
        const { listId, idColumn, usernameColumn, columns = {}, mergeStrategy } = mapping;
        return createCsvImport(ctx, req.actor.teamId, { listId, mapping: { idColumn, usernameColumn, columns, mergeStrategy }, fileName }, source);
      },
    );
  });

  api.get(
    '/import-jobs',
    { schema: { tags, summary: 'List import jobs, newest first', querystring: ImportJobListQuery, response: { 200: ImportJobPageSchema, ...errorResponses } } },
    async (req) => {
      const { limit, listId } = req.query;
      const rows = await listImportJobs(ctx, req.actor.teamId, { limit, listId, cursor: cursorFrom(req.query) });
      const { page, nextCursor } = paginate(rows, limit, (j) => ({ id: j.id, timestamp: new Date(j.createdAt) }));
      return { importJobs: page, nextCursor };
    },
  );
  api.get('/import-jobs/:importJobId', { schema: { tags, summary: 'Get an import job and its progress', params: ImportJobParams, response } }, async (req) =>
    getImportJob(ctx, req.actor.teamId, req.params.importJobId),
  );
  api.post(
    '/import-jobs/:importJobId/cancel',
    { schema: { tags, summary: 'Cancel an import; a running one stops before its next batch', params: ImportJobParams, body: EmptyBody, response } },
    async (req) => cancelImportJob(ctx, req.actor.teamId, req.params.importJobId),
  );
}
