/** The actions of POST /prospects/bulk, and what each does to a prospect's context (shared with the web app). */
export type BulkAction =
  | { type: 'addTags'; tagIds: string[] }
  | { type: 'removeTags'; tagIds: string[] }
  | { type: 'setStatus'; statusId: string | null }
  | { type: 'assign'; assigneeId: string | null }
  | { type: 'addToList'; listId: string }
  | { type: 'addToCampaign'; campaignId: string };

export interface BulkContextChange {
  addTags?: string[];
  removeTags?: string[];
  statusId?: string | null;
  assigneeId?: string | null;
}

/** The context change an action makes to each prospect; null for the list and campaign adds, which make none. */
export function contextChangeOf(action: BulkAction): BulkContextChange | null {
  switch (action.type) {
    case 'addTags':
      return { addTags: action.tagIds };
    case 'removeTags':
      return { removeTags: action.tagIds };
    case 'setStatus':
      return { statusId: action.statusId };
    case 'assign':
      return { assigneeId: action.assigneeId };
    default:
      return null;
  }
}
