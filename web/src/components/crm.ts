import type { z } from 'zod';
import type { ImportJobSchema } from '../../../src/http/schemas/import-jobs.js';
import type { CreateListImportBody, ListImportJobPageSchema, ListImportJobSchema } from '../../../src/http/schemas/list-import-jobs.js';
import type { ColumnSchema } from '../../../src/http/schemas/campaigns.js';
import type { ListLeadPageSchema, ListSchema, AddLeadsResultSchema } from '../../../src/http/schemas/lists.js';
import type { BulkAction } from '../../../src/core/bulk-actions.js';
import type { BulkResultSchema, ProspectTablePageSchema } from '../../../src/http/schemas/prospect-table.js';
import type { EventType } from '../../../src/core/event-types.js';
export type { BulkAction } from '../../../src/core/bulk-actions.js';
import { api, ApiError, query, type ContextChange } from '../api.js';

// The API's own schemas give the pages their types.
export type ProspectTablePage = z.infer<typeof ProspectTablePageSchema>;
export type Prospect = ProspectTablePage['prospects'][number];
export type BulkResult = z.infer<typeof BulkResultSchema>;
export type List = z.infer<typeof ListSchema>;
export type ListLeadPage = z.infer<typeof ListLeadPageSchema>;
export type AddLeadsResult = z.infer<typeof AddLeadsResultSchema>;
export type ImportJob = z.infer<typeof ImportJobSchema>;
/** A list's import job as the vendor's routes show it (/lists/{listId}/import-jobs), with its seven statuses. */
export type ListImportJob = z.infer<typeof ListImportJobSchema>;
export type ListImportJobPage = z.infer<typeof ListImportJobPageSchema>;
export type ListImportData = z.input<typeof CreateListImportBody>['data'];
export type Column = z.infer<typeof ColumnSchema>;

export interface ProspectFilters {
  q: string;
  tagId: string;
  /** a status id, or 'none' for prospects without one */
  statusId: string;
  /** a member id, or 'none' for unassigned prospects */
  assigneeId: string;
  listId: string;
  campaignId: string;
}

export const NO_FILTERS: ProspectFilters = { q: '', tagId: '', statusId: '', assigneeId: '', listId: '', campaignId: '' };

export function prospectQuery(filters: ProspectFilters, options: { sort?: string; order?: 'asc' | 'desc'; limit?: number; after?: string | null }): string {
  return query({
    q: filters.q.trim() || undefined,
    tagIds: filters.tagId || undefined,
    statusIds: filters.statusId && filters.statusId !== 'none' ? filters.statusId : undefined,
    noStatus: filters.statusId === 'none' ? true : undefined,
    assigneeIds: filters.assigneeId && filters.assigneeId !== 'none' ? filters.assigneeId : undefined,
    noAssignee: filters.assigneeId === 'none' ? true : undefined,
    listId: filters.listId || undefined,
    campaignId: filters.campaignId || undefined,
    sort: options.sort,
    order: options.order,
    limit: options.limit,
    after: options.after ?? undefined,
  });
}

interface CrmContext {
  tags: string[];
  statusId: string | null;
  valuation: number | null;
  notes: string | null;
  assigneeId: string | null;
}

/** A prospect's context as a change to it leaves it: what a page shows while the API is asked (or once it agreed). */
export function withContextChange<C extends CrmContext>(context: C, change: ContextChange): C {
  const next = { ...context };
  if (change.notes !== undefined) next.notes = change.notes;
  if (change.valuation !== undefined) next.valuation = change.valuation;
  if (change.statusId !== undefined) next.statusId = change.statusId;
  if (change.assigneeId !== undefined) next.assigneeId = change.assigneeId;
  if (change.addTags) next.tags = [...new Set([...next.tags, ...change.addTags])];
  if (change.removeTags) next.tags = next.tags.filter((tag) => !change.removeTags!.includes(tag));
  return next;
}

export const fetchProspects = (search: string) => api<ProspectTablePage>('GET', `/prospects${search}`);

export const runBulk = (prospectIds: string[], action: BulkAction) => api<BulkResult>('POST', '/prospects/bulk', { prospectIds, action });

/** The message of a refused call, as a person reads it. */
export const reasonOf = (error: unknown) => (error instanceof ApiError ? error.message : String(error));

/**
 * Follows the team's event stream for some event types. Events may be missed while it reconnects, so
 * `onReconnect` then reloads what the page shows.
 */
export function followStream(handlers: Partial<Record<EventType, (data: Record<string, unknown>) => void>>, onReconnect: () => void): () => void {
  const source = new EventSource('/api/v1/events/stream', { withCredentials: true });
  let failed = false;
  source.onopen = () => {
    if (failed) onReconnect();
    failed = false;
  };
  source.onerror = () => {
    failed = true;
  };
  for (const [type, handle] of Object.entries(handlers)) {
    source.addEventListener(type, (event) => handle!((JSON.parse((event as MessageEvent<string>).data) as { data: Record<string, unknown> }).data));
  }
  return () => source.close();
}

export function initials(name: string): string {
  return name.split(/\s+/).filter(Boolean).slice(0, 2).map((part) => part[0]!.toUpperCase()).join('') || '?';
}
