import { useRef, useState, type FormEvent } from 'react';
import type { AddResult } from '../state/useTodos';
import { hasErrors, validateTodo, type TodoFields } from '../lib/validation';
import { liveErrors, TodoFieldsEditor } from './TodoFieldsEditor';

interface Props {
  onAdd: (fields: TodoFields) => Promise<AddResult>;
}

const EMPTY: TodoFields = { title: '', notes: '' };

export function AddTodoForm({ onAdd }: Props) {
  const [values, setValues] = useState<TodoFields>(EMPTY);
  const [attempted, setAttempted] = useState(false);
  const titleRef = useRef<HTMLInputElement>(null);
  const notesRef = useRef<HTMLTextAreaElement>(null);
  const errors = liveErrors(values, attempted);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const found = validateTodo(values);
    if (hasErrors(found)) {
      setAttempted(true);
      (found.title ? titleRef.current : notesRef.current)?.focus();
      return;
    }
    const submitted = values;
    // Optimistic: the item is in the list now, and the form is ready for the next one.
    setValues(EMPTY);
    setAttempted(false);
    titleRef.current?.focus();
    const result = await onAdd(submitted);
    if (result === 'rejected') {
      // The server refused it: give the text back to fix, unless the user already typed something new.
      setValues((now) => (now.title === '' && now.notes === '' ? submitted : now));
    }
  };

  return (
    <form className="card add-form" aria-label="Add a to-do" onSubmit={submit} noValidate>
      <h2 className="card-title">Add a to-do</h2>
      <TodoFieldsEditor
        idPrefix="add"
        values={values}
        errors={errors}
        onChange={setValues}
        notesLabel="Notes (optional)"
        titleRef={titleRef}
        notesRef={notesRef}
      />
      <div className="form-actions">
        <button type="submit" className="button button-primary">
          Add
        </button>
      </div>
    </form>
  );
}
