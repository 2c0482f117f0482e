import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent, type Ref } from 'react';
import type { Todo } from '../api/types';
import { itemHistoryPath, Link } from '../lib/router';
import { hasErrors, validateTodo, type TodoFields } from '../lib/validation';
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
  checkboxRef?: Ref<HTMLInputElement>;
}

export function TodoItem({ item, now, onToggle, onSave, onDelete, onRetry, onDiscard, onDismissNotice, checkboxRef }: Props) {
  const { todo, busy, unsaved, notice } = item;
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
    <li data-id={todo.id} className={`todo${todo.completed ? ' todo-completed' : ''}${unsaved ? ' todo-unsaved' : ''}`} aria-busy={busy || undefined}>
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
            disabled={unsaved}
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
            {unsaved ? (
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
                <Link className="button button-small button-quiet" to={itemHistoryPath(todo.id)} aria-label={`History of “${todo.title}”`}>
                  History
                </Link>
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
