import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent, type Ref } from 'react';
import type { Todo } from '../api/types';
import { itemHistoryPath, Link } from '../lib/router';
import { hasErrors, validateTodo, type TodoFields } from '../lib/validation';
import type { QueuedOp } from '../offline/queue';
import type { PendingState } from '../state/pending';
import type { ChangeResult, TodoItemState } from '../state/useTodos';
import { ConfirmDialog } from './ConfirmDialog';
import { Timestamp } from './Timestamp';
import { liveErrors, TodoFieldsEditor } from './TodoFieldsEditor';

interface Props {
  item: TodoItemState;
  now: number;
  onToggle: (id: string) => void;
  /** `base`: the version the editor opened on (the todo may have changed elsewhere since). */
  onSave: (id: string, fields: TodoFields, base: Todo) => Promise<ChangeResult>;
  /** Called once the user confirmed; the list moves focus, since this item is about to go. */
  onDelete: (id: string) => void;
  onRetry: (id: string) => void;
  onDiscard: (id: string) => void;
  onDismissNotice: (id: string) => void;
  /** A queued change the server refused (see ProblemPanel): by its place in the queue. */
  onKeepMine?: (seq: number) => void;
  onKeepTheirs?: (seq: number) => void;
  onAddAgain?: (id: string) => void;
  checkboxRef?: Ref<HTMLInputElement>;
}

export function TodoItem({
  item,
  now,
  onToggle,
  onSave,
  onDelete,
  onRetry,
  onDiscard,
  onDismissNotice,
  onKeepMine,
  onKeepTheirs,
  onAddAgain,
  checkboxRef,
}: Props) {
  const { todo, busy, unsaved, notice, pending } = item;
  const deleting = pending?.kind === 'delete';
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState<TodoFields>({ title: '', notes: '' });
  // The version the editor opened on: a newer one pushed meanwhile is announced, never typed over.
  const [base, setBase] = useState<Todo>(todo);
  const [attempted, setAttempted] = useState(false);
  const [confirmingDelete, setConfirmingDelete] = useState(false);
  const editButtonRef = useRef<HTMLButtonElement>(null);
  const deleteButtonRef = useRef<HTMLButtonElement>(null);
  const titleInputRef = useRef<HTMLInputElement>(null);
  const notesInputRef = useRef<HTMLTextAreaElement>(null);
  const focusEditButton = useRef(false);
  const checkboxId = `done-${todo.id}`;
  const editErrors = liveErrors(draft, attempted);

  useEffect(() => {
    if (editing) {
      titleInputRef.current?.focus();
      titleInputRef.current?.select();
    } else if (focusEditButton.current) {
      focusEditButton.current = false;
      editButtonRef.current?.focus();
    }
  }, [editing]);

  const changedElsewhere = editing && todo.version > base.version;

  const startEdit = () => {
    setDraft({ title: todo.title, notes: todo.notes ?? '' });
    setBase(todo);
    setAttempted(false);
    setEditing(true);
  };
  const loadLatest = () => {
    setDraft({ title: todo.title, notes: todo.notes ?? '' });
    setBase(todo);
    setAttempted(false);
    // The button goes away with the notice: carry on in the title.
    titleInputRef.current?.focus();
  };
  const closeEditor = () => {
    focusEditButton.current = true;
    setEditing(false);
  };
  const save = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const errors = validateTodo(draft);
    if (hasErrors(errors)) {
      setAttempted(true);
      (errors.title ? titleInputRef.current : notesInputRef.current)?.focus();
      return;
    }
    const submitted = draft;
    closeEditor();
    const result = await onSave(todo.id, submitted, base);
    if (result === 'failed') {
      // Not saved and nothing changed elsewhere: reopen with the user's text so nothing is lost.
      setDraft(submitted);
      setEditing(true);
    }
  };
  const onEditorKeyDown = (event: KeyboardEvent<HTMLFormElement>) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      closeEditor();
    }
  };

  return (
    <li
      data-id={todo.id}
      className={`todo${todo.completed ? ' todo-completed' : ''}${unsaved ? ' todo-unsaved' : ''}${pending ? ' todo-pending' : ''}${deleting ? ' todo-deleting' : ''}`}
      aria-busy={busy || undefined}
    >
      {editing ? (
        <form className="todo-editor" aria-label={`Edit “${base.title}”`} onSubmit={save} onKeyDown={onEditorKeyDown} noValidate>
          <div role="status" aria-live="polite">
            {changedElsewhere && (
              <div className="notice notice-conflict notice-editor">
                <p>
                  Changed elsewhere while you were editing: this to-do is now version {todo.version}, “{todo.title}”
                  {todo.completed ? ' (completed)' : ''}. Save applies only the fields you changed to it, or load version{' '}
                  {todo.version} to start again from it.
                </p>
                <button type="button" className="button button-small" onClick={loadLatest}>
                  Load version {todo.version}
                </button>
              </div>
            )}
          </div>
          <TodoFieldsEditor
            idPrefix={`edit-${todo.id}`}
            values={draft}
            errors={editErrors}
            onChange={setDraft}
            notesLabel="Notes"
            titleRef={titleInputRef}
            notesRef={notesInputRef}
          />
          <div className="form-actions">
            <button type="button" className="button" onClick={closeEditor}>
              Cancel
            </button>
            <button type="submit" className="button button-primary">
              Save
            </button>
          </div>
        </form>
      ) : (
        <div className="todo-row">
          <input
            ref={checkboxRef}
            id={checkboxId}
            className="todo-checkbox"
            type="checkbox"
            checked={todo.completed}
            disabled={unsaved || deleting}
            onChange={() => {
              if (!busy) onToggle(todo.id);
            }}
          />
          <div className="todo-body">
            <label htmlFor={checkboxId} className="todo-title">
              {todo.title}
            </label>
            {todo.notes && <p className="todo-notes">{todo.notes}</p>}
            <p className="todo-meta">
              {unsaved ? (
                <span className="badge badge-warning">Not saved</span>
              ) : pending ? (
                <PendingBadge pending={pending} />
              ) : busy ? (
                <span className="saving">Saving…</span>
              ) : todo.completed && todo.completedAt ? (
                <Timestamp iso={todo.completedAt} now={now} prefix="Completed" />
              ) : (
                <Timestamp iso={todo.createdAt} now={now} prefix="Added" />
              )}
            </p>
          </div>
          <div className="todo-actions">
            {deleting ? null : unsaved ? (
              <>
                <button
                  type="button"
                  className="button button-small"
                  onClick={() => onRetry(todo.id)}
                  disabled={busy}
                  aria-label={`Retry saving “${todo.title}”`}
                >
                  Retry
                </button>
                <button
                  type="button"
                  className="button button-small button-quiet"
                  onClick={() => onDiscard(todo.id)}
                  aria-label={`Discard “${todo.title}”`}
                >
                  Discard
                </button>
              </>
            ) : (
              <>
                <button
                  ref={editButtonRef}
                  type="button"
                  className="button button-small"
                  onClick={() => {
                    if (!busy) startEdit();
                  }}
                  // Not `disabled`: a disabled button drops focus, and focus returns here after a save.
                  aria-disabled={busy || undefined}
                  aria-label={`Edit “${todo.title}”`}
                >
                  Edit
                </button>
                {todo.version > 0 && (
                  <Link className="button button-small button-quiet" to={itemHistoryPath(todo.id)} aria-label={`History of “${todo.title}”`}>
                    History
                  </Link>
                )}
                <button
                  ref={deleteButtonRef}
                  type="button"
                  className="button button-small button-quiet button-danger-text"
                  onClick={() => {
                    if (!busy) setConfirmingDelete(true);
                  }}
                  aria-disabled={busy || undefined}
                  aria-label={`Delete “${todo.title}”`}
                >
                  Delete
                </button>
              </>
            )}
          </div>
        </div>
      )}
      {pending?.problem && (
        <ProblemPanel
          problem={pending.problem}
          mine={todo}
          onKeepMine={onKeepMine}
          onKeepTheirs={onKeepTheirs}
          onAddAgain={onAddAgain ? () => onAddAgain(todo.id) : undefined}
        />
      )}
      {notice && (
        <div className={`notice notice-${notice.kind}`} role="alert">
          <p>{notice.message}</p>
          <button
            type="button"
            className="button button-small button-quiet"
            onClick={() => onDismissNotice(todo.id)}
            aria-label="Dismiss this message"
          >
            Dismiss
          </button>
        </div>
      )}
      {confirmingDelete && (
        <ConfirmDialog
          title="Delete this to-do?"
          confirmLabel="Delete"
          onCancel={() => {
            setConfirmingDelete(false);
            deleteButtonRef.current?.focus();
          }}
          onConfirm={() => {
            setConfirmingDelete(false);
            onDelete(todo.id);
          }}
        >
          <p>
            “{todo.title}” will be removed from your list. Its history stays available.
          </p>
        </ConfirmDialog>
      )}
    </li>
  );
}

function PendingBadge({ pending }: { pending: PendingState }) {
  if (pending.problem) return <span className="badge badge-warning">Not sent: needs you</span>;
  if (pending.kind === 'delete') return <span className="badge badge-pending">Deletion not sent yet</span>;
  return (
    <span className="badge badge-pending" title="Saved on this device; sent when the server can be reached.">
      {pending.kind === 'create' ? 'Added here, not sent yet' : 'Change not sent yet'}
    </span>
  );
}

const CHANGE_NAMES: Record<QueuedOp['kind'], string> = {
  create: 'adding it',
  update: 'your edit',
  complete: 'completing it',
  reopen: 'reopening it',
  delete: 'deleting it',
};

/** One todo's fields, for the two sides of a conflict. */
function Version({ label, todo }: { label: string; todo: Todo }) {
  return (
    <div className="conflict-version">
      <p className="conflict-version-label">{label}</p>
      <dl>
        <dt>Title</dt>
        <dd>{todo.title}</dd>
        <dt>Notes</dt>
        <dd>{todo.notes ? todo.notes : <span className="muted">none</span>}</dd>
        <dt>Status</dt>
        <dd>{todo.completed ? 'Completed' : 'Not completed'}</dd>
      </dl>
    </div>
  );
}

/**
 * A queued change the server did not take: a conflict (both versions, "Keep mine" sends it again
 * on the server's version, "Keep theirs" drops it), a todo deleted elsewhere, or a refusal. It
 * stays until the user chooses, so nothing made offline disappears unseen.
 */
function ProblemPanel({
  problem,
  mine,
  onKeepMine,
  onKeepTheirs,
  onAddAgain,
}: {
  problem: QueuedOp;
  mine: Todo;
  onKeepMine?: (seq: number) => void;
  onKeepTheirs?: (seq: number) => void;
  onAddAgain?: () => void;
}) {
  const what = CHANGE_NAMES[problem.kind];
  if (problem.state === 'conflict' && problem.theirs) {
    return (
      <div className="notice notice-conflict conflict" role="alert">
        <p>
          <strong>
            “{problem.title}” was changed elsewhere before {what} reached the server.
          </strong>{' '}
          Choose which version to keep.
        </p>
        <div className="conflict-versions">
          <Version label="Your version" todo={mine} />
          <Version label={`Their version (version ${problem.theirs.version})`} todo={problem.theirs} />
        </div>
        <div className="form-actions">
          <button type="button" className="button button-small button-primary" onClick={() => onKeepMine?.(problem.seq)}>
            Keep mine
          </button>
          <button type="button" className="button button-small" onClick={() => onKeepTheirs?.(problem.seq)}>
            Keep theirs
          </button>
        </div>
      </div>
    );
  }
  if (problem.state === 'gone') {
    return (
      <div className="notice notice-conflict" role="alert">
        <p>
          <strong>“{problem.title}” was deleted elsewhere</strong>, so {what} could not be applied. Add it again as a new to-do,
          as you left it, or let it go.
        </p>
        <div className="form-actions">
          <button type="button" className="button button-small button-primary" onClick={onAddAgain}>
            Add it again
          </button>
          <button type="button" className="button button-small" onClick={() => onKeepTheirs?.(problem.seq)}>
            Let it go
          </button>
        </div>
      </div>
    );
  }
  return (
    <div className="notice notice-error" role="alert">
      <p>
        <strong>The server refused {what}</strong> (“{problem.title}”): {problem.message ?? 'no reason given'}.
      </p>
      <div className="form-actions">
        <button type="button" className="button button-small" onClick={() => onKeepTheirs?.(problem.seq)}>
          Discard this change
        </button>
      </div>
    </div>
  );
}
