import { useCallback, useEffect, useRef, useState, type FocusEvent } from 'react';
import type { StatusFilter } from '../api/types';
import { itemHistoryPath, Link } from '../lib/router';
import { useTodos, type TodoItemState } from '../state/useTodos';
import { AddTodoForm } from './AddTodoForm';
import { useApi } from './ApiContext';
import { useLive } from './LiveContext';
import { LiveIndicator } from './LiveIndicator';
import { useOutbox } from './OfflineContext';
import { OfflineNote } from './OfflineNote';
import { usePageTitle } from './PageTitle';
import { useNow } from './Timestamp';
import { TodoItem } from './TodoItem';

const FILTERS: { value: StatusFilter; label: string }[] = [
  { value: 'all', label: 'All' },
  { value: 'active', label: 'Active' },
  { value: 'completed', label: 'Completed' },
];

const EMPTY_TEXT: Record<StatusFilter, string> = {
  all: 'Nothing to do yet. Add your first to-do above.',
  active: 'Nothing left to do.',
  completed: 'Nothing completed yet.',
};

export function matchesFilter(item: TodoItemState, filter: StatusFilter): boolean {
  if (filter === 'active') return !item.todo.completed;
  if (filter === 'completed') return item.todo.completed;
  return true;
}

export function TodoPage() {
  const api = useApi();
  const live = useLive();
  const outbox = useOutbox();
  const todos = useTodos(api, live, outbox);
  const { items, loadState, lastRemoved, sync, queued } = todos;
  const [filter, setFilter] = useState<StatusFilter>('all');
  const now = useNow();
  const headingRef = usePageTitle('Your to-dos');
  const checkboxes = useRef(new Map<string, HTMLInputElement>());
  const pendingFocus = useRef<string | null | undefined>(undefined);

  const counts: Record<StatusFilter, number> = {
    all: items.length,
    active: items.filter((item) => !item.todo.completed).length,
    completed: items.filter((item) => item.todo.completed).length,
  };
  const visible = items.filter((item) => matchesFilter(item, filter));

  /** When an item leaves the view, focus the one after it (or before it, or the heading). */
  const focusNeighbourOf = useCallback(
    (id: string) => {
      const index = visible.findIndex((item) => item.todo.id === id);
      const neighbour = visible[index + 1] ?? visible[index - 1];
      pendingFocus.current = neighbour ? neighbour.todo.id : null;
    },
    [visible],
  );

  // A change pushed from elsewhere can take away the item that has focus (deleted, or out of the
  // current filter): focus its neighbour then, as if the user had removed it here.
  const focusedItem = useRef<string | null>(null);
  const shownBefore = useRef<string[]>([]);
  useEffect(() => {
    const shown = visible.map((item) => item.todo.id);
    const lost = focusedItem.current;
    if (lost && !shown.includes(lost)) {
      focusedItem.current = null;
      const focusDropped = document.activeElement === null || document.activeElement === document.body;
      if (pendingFocus.current === undefined && focusDropped) {
        const at = shownBefore.current.indexOf(lost);
        const candidates = [...shownBefore.current.slice(at + 1), ...shownBefore.current.slice(0, Math.max(at, 0)).reverse()];
        const neighbour = candidates.find((id) => shown.includes(id));
        (neighbour ? checkboxes.current.get(neighbour) : headingRef.current)?.focus();
      }
    }
    shownBefore.current = shown;
  });
  const onListFocus = (event: FocusEvent<HTMLUListElement>) => {
    focusedItem.current = event.target.closest<HTMLElement>('li[data-id]')?.dataset.id ?? null;
  };
  const onListBlur = (event: FocusEvent<HTMLUListElement>) => {
    const left = event.target;
    const list = event.currentTarget;
    // Focus moved on (not its element removed): forget it, unless it moved within the list.
    queueMicrotask(() => {
      if (left.isConnected && !list.contains(document.activeElement)) focusedItem.current = null;
    });
  };

  useEffect(() => {
    if (pendingFocus.current === undefined) return;
    const target = pendingFocus.current ? checkboxes.current.get(pendingFocus.current) : null;
    pendingFocus.current = undefined;
    (target ?? headingRef.current)?.focus();
  });

  const onDelete = (id: string) => {
    focusNeighbourOf(id);
    void todos.remove(id);
  };

  const onToggle = (id: string) => {
    const item = items.find((it) => it.todo.id === id);
    // Completing in "Active" (or reopening in "Completed") takes the item out of view.
    if (item && filter !== 'all') focusNeighbourOf(id);
    void todos.toggle(id);
  };

  return (
    <section className="page" aria-labelledby="todos-heading">
      <div className="page-heading">
        <h1 id="todos-heading" ref={headingRef} tabIndex={-1}>
          Your to-dos
        </h1>
        <LiveIndicator />
      </div>
      {outbox && <OfflineNote offline={sync.offline} syncedAt={sync.syncedAt} queued={queued} />}

      <AddTodoForm
        onAdd={(fields) => {
          // A new to-do is active: don't let it vanish into a "Completed" view.
          if (filter === 'completed') setFilter('all');
          return todos.add(fields);
        }}
      />

      {lastRemoved && (
        <div className="notice notice-info" role="status">
          <p>
            {lastRemoved.reason === 'deleted' ? 'Deleted' : 'This item was deleted elsewhere:'} “{lastRemoved.title}”.{' '}
            <Link to={itemHistoryPath(lastRemoved.id)}>View its history</Link>
          </p>
          <button type="button" className="button button-small button-quiet" onClick={todos.dismissRemoved} aria-label="Dismiss this message">
            Dismiss
          </button>
        </div>
      )}

      <div className="filters" role="group" aria-label="Show">
        {FILTERS.map(({ value, label }) => (
          <button
            key={value}
            type="button"
            className="filter"
            aria-pressed={filter === value}
            onClick={() => setFilter(value)}
          >
            {label} <span className="filter-count">{counts[value]}</span>
          </button>
        ))}
      </div>

      {loadState === 'loading' && items.length === 0 && (
        <p className="muted" role="status">
          Loading your to-dos…
        </p>
      )}
      {loadState === 'failed' && (
        <div className="notice notice-error">
          <p>Your to-dos could not be loaded.</p>
          <button type="button" className="button button-small" onClick={todos.reload}>
            Try again
          </button>
        </div>
      )}
      {loadState === 'ready' && visible.length === 0 && <p className="empty">{EMPTY_TEXT[filter]}</p>}

      <ul
        className="todo-list"
        aria-label={`${FILTERS.find((f) => f.value === filter)?.label} to-dos`}
        onFocus={onListFocus}
        onBlur={onListBlur}
      >
        {visible.map((item) => (
          <TodoItem
            key={item.todo.id}
            item={item}
            now={now}
            onToggle={onToggle}
            onSave={todos.edit}
            onDelete={onDelete}
            onRetry={(id) => void todos.retryAdd(id)}
            onDiscard={(id) => {
              focusNeighbourOf(id);
              todos.discard(id);
            }}
            onDismissNotice={todos.dismissNotice}
            onKeepMine={(seq) => void todos.keepMine(seq)}
            onKeepTheirs={(seq) => void todos.keepTheirs(seq)}
            onAddAgain={(id) => void todos.addAgain(id)}
            checkboxRef={(element) => {
              if (element) checkboxes.current.set(item.todo.id, element);
              else checkboxes.current.delete(item.todo.id);
            }}
          />
        ))}
      </ul>
    </section>
  );
}
