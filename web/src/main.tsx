import { signal } from '@preact/signals';
import { render } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { isTyping, SHORTCUTS } from './keys.js';
import { Palette, paletteOpen } from './Palette.js';
import { Accept } from './pages/Accept.js';
import { Campaign } from './pages/Campaign.js';
import { Campaigns } from './pages/Campaigns.js';
import { Inbox } from './pages/Inbox.js';
import { Lists } from './pages/Lists.js';
import { Pipeline } from './pages/Pipeline.js';
import { Prospects } from './pages/Prospects.js';
import { Settings } from './pages/Settings.js';
import { SignIn } from './pages/SignIn.js';
import { navigate, route } from './router.js';
import { loadSession, me, signOut } from './session.js';

const helpOpen = signal(false);
let pendingG = 0;

// Shortcuts that work on every page; the inbox adds its own.
addEventListener('keydown', (event) => {
  // The palette opens from anywhere, a field included: Ctrl/Cmd+K types nothing.
  if (me.value && event.key.toLowerCase() === 'k' && (event.ctrlKey || event.metaKey) && !event.altKey) {
    event.preventDefault();
    paletteOpen.value = true;
    return;
  }
  if (isTyping(event) || event.ctrlKey || event.metaKey || event.altKey || !me.value) return;
  if (event.key === '?') {
    helpOpen.value = true;
    event.preventDefault();
    return;
  }
  if (event.key === 'g') {
    pendingG = Date.now();
    return;
  }
  if (Date.now() - pendingG < 1500) {
    const to = { i: '/app', c: '/app/campaigns', l: '/app/lists', p: '/app/prospects', b: '/app/pipeline', s: '/app/settings' }[event.key];
    pendingG = 0;
    if (to) {
      navigate(to);
      event.preventDefault();
    }
  }
});

function Help() {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    if (helpOpen.value && !dialog.current?.open) dialog.current?.showModal();
  }, [helpOpen.value]);
  return (
    <dialog ref={dialog} aria-label="Keyboard shortcuts" class="help" onClose={() => (helpOpen.value = false)}>
      <h2>Keyboard shortcuts</h2>
      <dl>
        {SHORTCUTS.map(([keys, what]) => (
          <div key={keys}>
            <dt>
              <kbd>{keys}</kbd>
            </dt>
            <dd>{what}</dd>
          </div>
        ))}
      </dl>
      <form method="dialog">
        <button>Close</button>
      </form>
    </dialog>
  );
}

function NavLink({ to, label }: { to: string; label: string }) {
  const current = to === '/app' ? route.value === '/app' || route.value === '/app/' || route.value.startsWith('/app/inbox') : route.value.startsWith(to);
  return (
    <a
      href={to}
      aria-current={current ? 'page' : undefined}
      onClick={(event) => {
        event.preventDefault();
        navigate(to);
      }}
    >
      {label}
    </a>
  );
}

function Shell({ children }: { children: preact.ComponentChildren }) {
  return (
    <div class="shell">
      <header class="topbar">
        <span class="brand">{me.value?.team.name ?? 'Inbox'}</span>
        <nav aria-label="Main">
          <NavLink to="/app" label="Inbox" />
          <NavLink to="/app/campaigns" label="Campaigns" />
          <NavLink to="/app/lists" label="Lists" />
          <NavLink to="/app/prospects" label="Prospects" />
          <NavLink to="/app/pipeline" label="Pipeline" />
          <NavLink to="/app/settings" label="Settings" />
        </nav>
        <span class="spacer" />
        <button class="link" onClick={() => (helpOpen.value = true)} aria-label="Keyboard shortcuts">
          ?
        </button>
        <span class="muted">{me.value?.member.name || me.value?.member.email}</span>
        <button onClick={() => void signOut()}>Sign out</button>
      </header>
      {children}
      <Help />
      <Palette />
    </div>
  );
}

function App() {
  const path = route.value;
  if (path === '/app/sign-in') return <SignIn />;
  const accept = /^\/app\/accept\/([^/]+)$/.exec(path);
  if (accept) return <Accept secret={decodeURIComponent(accept[1]!)} />;
  if (!me.value) return <div class="loading" aria-busy="true" />;
  const campaign = /^\/app\/campaigns\/([^/]+)$/.exec(path);
  if (campaign) return <Shell><Campaign id={decodeURIComponent(campaign[1]!)} /></Shell>;
  if (path.startsWith('/app/campaigns')) return <Shell><Campaigns /></Shell>;
  if (path.startsWith('/app/lists')) return <Shell><Lists /></Shell>;
  if (path.startsWith('/app/prospects')) return <Shell><Prospects /></Shell>;
  if (path.startsWith('/app/pipeline')) return <Shell><Pipeline /></Shell>;
  if (path.startsWith('/app/settings')) return <Shell><Settings /></Shell>;
  return <Shell><Inbox /></Shell>;
}

render(<App />, document.getElementById('root')!);
void loadSession();
