import { signal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { api } from '../api.js';
import { fetchProspects, followStream, NO_FILTERS, prospectQuery, reasonOf, type Prospect } from '../components/crm.js';
import { loadLookups, statuses, tags } from '../inbox-state.js';

const CARDS_PER_COLUMN = 100;
/** The column of prospects without a status. */
const NONE = 'none';

interface Column {
  cards: Prospect[];
  total: number;
  nextCursor: string | null;
}

const columns = signal<Record<string, Column>>({});
const alertText = signal('');
const statusText = signal('');
/** The card to focus after a keyboard move re-renders the board. */
let focusAfterMove: string | null = null;

const columnIds = () => [NONE, ...statuses.value.map((status) => status.id)];
const columnName = (id: string) => (id === NONE ? 'No status' : statuses.value.find((status) => status.id === id)?.name ?? 'Unknown');

function columnQuery(id: string, after?: string | null): string {
  return prospectQuery({ ...NO_FILTERS, statusId: id }, { sort: 'updatedAt', order: 'desc', limit: CARDS_PER_COLUMN, after });
}

/** Moves sent and not yet answered: the board shows them already, and a reload read meanwhile may not. */
let movesInFlight = 0;
let reloadWhenSettled = false;

async function loadBoard(): Promise<void> {
  try {
    const ids = columnIds();
    const pages = await Promise.all(ids.map((id) => fetchProspects(columnQuery(id))));
    if (movesInFlight > 0) {
      reloadWhenSettled = true;
      return;
    }
    // A card that changes column is a new element: the one that had focus gets it back.
    const focused = document.activeElement?.id;
    if (focused?.startsWith('card-')) focusAfterMove = focused.slice('card-'.length);
    columns.value = Object.fromEntries(ids.map((id, i) => [id, { cards: pages[i]!.prospects, total: pages[i]!.total, nextCursor: pages[i]!.nextCursor }]));
  } catch (error) {
    alertText.value = reasonOf(error);
  }
}

async function loadMore(id: string): Promise<void> {
  const column = columns.value[id];
  if (!column?.nextCursor) return;
  const page = await fetchProspects(columnQuery(id, column.nextCursor));
  columns.value = { ...columns.value, [id]: { cards: [...column.cards, ...page.prospects], total: page.total, nextCursor: page.nextCursor } };
}

const statusOf = (card: Prospect) => card.context.statusId ?? NONE;

/** The saves go out one after another, in the order of the moves: two quick moves of a card reach the server in order. */
let saving: Promise<unknown> = Promise.resolve();

/** Moves a card at once, saves its new status, and moves it back with the API's reason when refused. */
async function move(card: Prospect, to: string): Promise<void> {
  const from = statusOf(card);
  if (from === to) return;
  const before = columns.value;
  const moved = { ...card, context: { ...card.context, statusId: to === NONE ? null : to } };
  const source = before[from]!;
  const target = before[to]!;
  columns.value = {
    ...before,
    [from]: { ...source, cards: source.cards.filter((one) => one.externalId !== card.externalId), total: source.total - 1 },
    [to]: { ...target, cards: [moved, ...target.cards], total: target.total + 1 },
  };
  statusText.value = `@${card.username} moved to ${columnName(to)}`;
  movesInFlight++;
  try {
    const save = saving.then(() => api('PATCH', `/prospects/${card.externalId}/context`, { statusId: to === NONE ? null : to }));
    saving = save.catch(() => undefined);
    await save;
    alertText.value = '';
  } catch (error) {
    columns.value = before;
    statusText.value = '';
    alertText.value = `@${card.username} was not moved: ${reasonOf(error)}`;
  } finally {
    movesInFlight--;
    if (movesInFlight === 0 && reloadWhenSettled) {
      reloadWhenSettled = false;
      void loadBoard();
    }
  }
}

function Card({ card }: { card: Prospect }) {
  const ids = columnIds();
  const here = ids.indexOf(statusOf(card));
  return (
    <li
      class="card"
      id={`card-${card.externalId}`}
      tabIndex={0}
      draggable
      aria-label={`${card.displayName} @${card.username}`}
      aria-describedby="pipeline-help"
      onDragStart={(event) => {
        event.dataTransfer!.setData('text/plain', card.externalId!);
        event.dataTransfer!.effectAllowed = 'move';
      }}
      onKeyDown={(event) => {
        if (!event.altKey || (event.key !== 'ArrowLeft' && event.key !== 'ArrowRight') || event.target !== event.currentTarget) return;
        event.preventDefault();
        const to = ids[here + (event.key === 'ArrowLeft' ? -1 : 1)];
        if (!to) return;
        focusAfterMove = card.externalId!;
        void move(card, to);
      }}
    >
      <div class="card-name">{card.displayName}</div>
      <div class="muted small">@{card.username}{card.context.valuation !== null ? ` · value ${card.context.valuation.toLocaleString()}` : ''}</div>
      {card.context.tags.length > 0 && (
        <div class="chips">
          {card.context.tags.map((id) => tags.value.find((tag) => tag.id === id)).filter(Boolean).map((tag) => (
            <span key={tag!.id} class="chip tag" style={{ '--chip': tag!.color }}>{tag!.name}</span>
          ))}
        </div>
      )}
      <select
        class="move-to"
        aria-label={`Move @${card.username} to`}
        value={statusOf(card)}
        onChange={(event) => {
          focusAfterMove = card.externalId!;
          void move(card, (event.target as HTMLSelectElement).value);
        }}
      >
        {ids.map((id) => <option key={id} value={id}>{columnName(id)}</option>)}
      </select>
    </li>
  );
}

function BoardColumn({ id }: { id: string }) {
  const column = columns.value[id];
  const name = columnName(id);
  return (
    <section
      class="board-column"
      aria-label={name}
      onDragOver={(event) => {
        event.preventDefault();
        event.dataTransfer!.dropEffect = 'move';
      }}
      onDrop={(event) => {
        event.preventDefault();
        const cardId = event.dataTransfer!.getData('text/plain');
        const card = Object.values(columns.value).flatMap((one) => one.cards).find((one) => one.externalId === cardId);
        if (card) void move(card, id);
      }}
    >
      <h2>
        <span>
          <span class="dot" aria-hidden="true" style={{ background: statuses.value.find((status) => status.id === id)?.color ?? '#94a3b8' }} /> {name}
        </span>
        <span class="muted">{column?.total ?? ''}</span>
      </h2>
      <ul class="cards">
        {column?.cards.map((card) => <Card key={card.externalId} card={card} />)}
      </ul>
      {column?.nextCursor && <button class="link" onClick={() => void loadMore(id).catch((error) => (alertText.value = reasonOf(error)))}>Show more in {name}</button>}
    </section>
  );
}

export function Pipeline() {
  useEffect(() => {
    void loadLookups().then(loadBoard, (error) => (alertText.value = reasonOf(error)));
    let pending: ReturnType<typeof setTimeout> | undefined;
    const reload = () => {
      clearTimeout(pending);
      pending = setTimeout(() => void loadBoard(), 150);
    };
    // Teammates move cards too; statuses may be added or removed.
    const stop = followStream({ 'prospect.statusChanged': reload, 'status.created': () => void loadLookups().then(reload), 'status.deleted': () => void loadLookups().then(reload) }, reload);
    return () => {
      clearTimeout(pending);
      stop();
    };
  }, []);
  useEffect(() => {
    if (!focusAfterMove) return;
    document.getElementById(`card-${focusAfterMove}`)?.focus();
    focusAfterMove = null;
  });
  return (
    <main class="page board-page">
      <div class="page-head">
        <h1>Pipeline</h1>
        <span id="pipeline-help" class="muted small">Drag a card to another status, or focus it and press Alt+← / Alt+→.</span>
        <span role="status" class="muted small">{statusText.value}</span>
      </div>
      <div role="alert" class="form-error">{alertText.value}</div>
      {statuses.value.length === 0 && <p class="muted">No status yet: add statuses (New, Qualified, Customer…) in Settings, and each becomes a column here.</p>}
      <div class="board">
        {columnIds().map((id) => <BoardColumn key={id} id={id} />)}
      </div>
    </main>
  );
}
