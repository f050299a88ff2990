import type { AppContext } from '../../app/context.js';
import { listAccountLinks } from '../../app/accounts/account-links.js';
import { listLabels, STATUS, TAG } from '../../app/prospects/labels.js';
import { listMembers } from '../../app/team/members.js';
import type { Expansions } from './presenters.js';

/** The paths of `expand` asked for. */
export const expanded = (expand: readonly string[] | undefined): ReadonlySet<string> => new Set(expand ?? []);

/** What the asked-for expansions embed, each read once for the whole page (small per-team lists). */
export async function loadExpansions(ctx: AppContext, teamId: string, expand: ReadonlySet<string>, wanted: Partial<Record<keyof Expansions, string[]>>): Promise<Expansions> {
  const wants = (key: keyof Expansions) => wanted[key]?.some((path) => expand.has(path)) ?? false;
  const [tags, statuses, members, accountLinks] = await Promise.all([
    wants('tags') ? listLabels(ctx, TAG, teamId) : undefined,
    wants('statuses') ? listLabels(ctx, STATUS, teamId) : undefined,
    wants('members') ? listMembers(ctx.db, teamId) : undefined,
    wants('accountLinks') ? listAccountLinks(ctx, teamId) : undefined,
  ]);
  const byId = <T extends { id: string }>(items: T[] | undefined) => items && new Map(items.map((i) => [i.id, i]));
  return { tags: byId(tags), statuses: byId(statuses), members: byId(members), accountLinks: byId(accountLinks) };
}
