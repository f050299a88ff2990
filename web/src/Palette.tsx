import { signal } from '@preact/signals';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, query, type ThreadPage } from './api.js';
import { accounts, setFilters, type Filters, type InboxView } from './inbox-state.js';
import { navigate } from './router.js';

/** Ctrl/Cmd+K opens it (main.tsx): go to a view or page, or find a thread by search. */
export const paletteOpen = signal(false);

interface Command {
  id: string;
  label: string;
  run(): void;
}

const inboxWith = (change: Partial<Filters>) => () => {
  navigate('/app');
  setFilters(change);
};

function places(): Command[] {
  return [
    { id: 'view-default', label: 'Go to Inbox', run: inboxWith({ view: 'default' }) },
    { id: 'view-no-reply', label: 'Go to No reply', run: inboxWith({ view: 'no-reply' }) },
    { id: 'view-requests', label: 'Go to Requests', run: inboxWith({ view: 'requests' }) },
    { id: 'view-archived', label: 'Go to Archived', run: inboxWith({ view: 'archived' }) },
    { id: 'who-mine', label: 'Go to Mine', run: inboxWith({ who: 'mine' }) },
    { id: 'who-unassigned', label: 'Go to Unassigned', run: inboxWith({ who: 'unassigned' }) },
    ...accounts.value.map((account) => ({ id: `account-${account.id}`, label: `Go to @${account.username}`, run: inboxWith({ accountLinkId: account.id }) })),
    { id: 'page-campaigns', label: 'Go to Campaigns', run: () => navigate('/app/campaigns') },
    { id: 'page-lists', label: 'Go to Lists', run: () => navigate('/app/lists') },
    { id: 'page-prospects', label: 'Go to Prospects', run: () => navigate('/app/prospects') },
    { id: 'page-pipeline', label: 'Go to Pipeline', run: () => navigate('/app/pipeline') },
    { id: 'page-settings', label: 'Go to Settings', run: () => navigate('/app/settings') },
  ];
}

const SEARCHED: Array<[InboxView, string]> = [['default', 'Inbox'], ['requests', 'Requests'], ['archived', 'Archived']];

/** Threads whose prospect or messages match the text, as the Search box finds them, open, requests and archived alike. */
function useThreadMatches(text: string): Command[] {
  const [found, setFound] = useState<Command[]>([]);
  useEffect(() => {
    const words = text.trim();
    if (!words) return setFound([]);
    let current = true;
    const timer = setTimeout(() => {
      const pages = SEARCHED.map(([inbox, viewName]) =>
        api<ThreadPage>('GET', `/threads${query({ inbox, q: words, limit: 5 })}`).then((page) =>
          page.threads.map((thread) => ({
            id: `thread-${thread.id}`,
            label: `Open ${thread.prospect.displayName} (@${thread.prospect.username}) in ${viewName}`,
            run: () => navigate(`/app/inbox/${thread.id}`),
          })),
        ),
      );
      Promise.all(pages).then(
        (lists) => current && setFound(lists.flat()),
        () => current && setFound([]),
      );
    }, 150);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [text]);
  return found;
}

export function Palette() {
  const dialog = useRef<HTMLDialogElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const [text, setText] = useState('');
  const [active, setActive] = useState(0);
  useEffect(() => {
    if (paletteOpen.value && !dialog.current?.open) {
      setText('');
      setActive(0);
      dialog.current?.showModal();
      input.current?.focus();
    }
  }, [paletteOpen.value]);
  const needle = text.trim().toLowerCase();
  const threadMatches = useThreadMatches(text);
  const commands = [...places().filter((command) => command.label.toLowerCase().includes(needle)), ...threadMatches];
  const chosen = Math.min(active, commands.length - 1);
  const run = (command: Command | undefined) => {
    if (!command) return;
    dialog.current?.close();
    command.run();
  };
  return (
    <dialog ref={dialog} aria-label="Command palette" class="palette" onClose={() => (paletteOpen.value = false)}>
      <input
        ref={input}
        role="combobox"
        aria-label="Command"
        aria-expanded="true"
        aria-controls="palette-commands"
        aria-activedescendant={commands[chosen] ? `palette-${commands[chosen]!.id}` : undefined}
        aria-autocomplete="list"
        placeholder="Go to a view or page, or find a thread…"
        value={text}
        onInput={(event) => {
          setText((event.target as HTMLInputElement).value);
          setActive(0);
        }}
        onKeyDown={(event) => {
          if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
            event.preventDefault();
            const step = event.key === 'ArrowDown' ? 1 : -1;
            setActive((chosen + step + commands.length) % Math.max(1, commands.length));
          } else if (event.key === 'Enter') {
            event.preventDefault();
            run(commands[chosen]);
          }
        }}
      />
      <ul id="palette-commands" role="listbox" aria-label="Commands">
        {commands.map((command, index) => (
          <li
            key={command.id}
            id={`palette-${command.id}`}
            role="option"
            aria-selected={index === chosen}
            class={index === chosen ? 'active' : undefined}
            onMouseDown={(event) => event.preventDefault()}
            onClick={() => run(command)}
          >
            {command.label}
          </li>
        ))}
      </ul>
      {!commands.length && <p class="muted small">Nothing matches.</p>}
    </dialog>
  );
}
