/** True while the person types in a field: single-key shortcuts must not fire then. */
export function isTyping(event: KeyboardEvent): boolean {
  const target = event.target as HTMLElement | null;
  if (!target) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

/** Elements whose Enter and Space already mean something (press, follow, toggle): a shortcut must leave those keys to them. */
const ACTIVATED = 'button, a[href], summary, [role=button], [role=link], [role=menuitem], [role=option], [role=tab], [role=checkbox], [role=radio], [role=switch]';

/** True when the key is Enter or Space on a button, link or the like, which the browser itself acts on. */
export function activatesTarget(event: KeyboardEvent): boolean {
  if (event.key !== 'Enter' && event.key !== ' ') return false;
  const target = event.target as HTMLElement | null;
  return !!target?.closest?.(ACTIVATED);
}

export const SHORTCUTS: Array<[string, string]> = [
  ['j / k', 'Next / previous thread'],
  ['Enter', 'Open the selected thread'],
  ['r', 'Reply'],
  ['Ctrl/Cmd + Enter', 'Send the reply'],
  ['e', 'Done (archive)'],
  ['a', 'Assign to me'],
  ['u', 'Mark unread'],
  ['t', 'Tag'],
  ['s', 'Status'],
  ['/', 'Search'],
  ['g i / g c / g s', 'Go to inbox, campaigns, settings'],
  ['g l / g p / g b', 'Go to lists, prospects, the pipeline board'],
  ['Alt + ← / →', 'Move the focused pipeline card to the previous / next status'],
  ['↑ / ↓', 'In the prospects table, the same column in the row above / below'],
  ['Ctrl/Cmd + K', 'Command palette: go to a view or page, find a thread'],
  ['?', 'This list'],
];
