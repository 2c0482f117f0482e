import type { Ref } from 'react';
import { charCount, NOTES_MAX, TITLE_MAX, validateTodo, type FieldErrors, type TodoFields } from '../lib/validation';

interface Props {
  /** Makes the element ids unique on the page (the add form and each item's edit form). */
  idPrefix: string;
  values: TodoFields;
  errors: FieldErrors;
  onChange: (values: TodoFields) => void;
  notesLabel: string;
  titleRef?: Ref<HTMLInputElement>;
  notesRef?: Ref<HTMLTextAreaElement>;
  disabled?: boolean;
}

/** Title and notes inputs with their limits, counters and error messages, wired for screen readers. */
export function TodoFieldsEditor({ idPrefix, values, errors, onChange, notesLabel, titleRef, notesRef, disabled }: Props) {
  const titleLength = charCount(values.title.trim());
  const notesLength = charCount(values.notes);
  const ids = {
    title: `${idPrefix}-title`,
    titleError: `${idPrefix}-title-error`,
    titleCount: `${idPrefix}-title-count`,
    notes: `${idPrefix}-notes`,
    notesError: `${idPrefix}-notes-error`,
    notesCount: `${idPrefix}-notes-count`,
  };
  return (
    <>
      <div className="field">
        <div className="field-label-row">
          <label htmlFor={ids.title}>Title</label>
          <span id={ids.titleCount} className={`counter${titleLength > TITLE_MAX ? ' counter-over' : ''}`}>
            {titleLength}/{TITLE_MAX}
          </span>
        </div>
        <input
          id={ids.title}
          ref={titleRef}
          type="text"
          autoComplete="off"
          value={values.title}
          disabled={disabled}
          aria-invalid={errors.title ? true : undefined}
          aria-describedby={errors.title ? `${ids.titleError} ${ids.titleCount}` : ids.titleCount}
          onChange={(event) => onChange({ ...values, title: event.target.value })}
        />
        {errors.title && (
          <p id={ids.titleError} className="field-error">
            {errors.title}
          </p>
        )}
      </div>
      <div className="field">
        <div className="field-label-row">
          <label htmlFor={ids.notes}>{notesLabel}</label>
          <span id={ids.notesCount} className={`counter${notesLength > NOTES_MAX ? ' counter-over' : ''}`}>
            {notesLength}/{NOTES_MAX}
          </span>
        </div>
        <textarea
          id={ids.notes}
          ref={notesRef}
          rows={2}
          value={values.notes}
          disabled={disabled}
          aria-invalid={errors.notes ? true : undefined}
          aria-describedby={errors.notes ? `${ids.notesError} ${ids.notesCount}` : ids.notesCount}
          onChange={(event) => onChange({ ...values, notes: event.target.value })}
        />
        {errors.notes && (
          <p id={ids.notesError} className="field-error">
            {errors.notes}
          </p>
        )}
      </div>
    </>
  );
}

/**
 * Errors to show while typing: a limit is reported as soon as it is passed; "Enter a title" only
 * once the user tried to submit (an empty field is not a mistake before that).
 */
export function liveErrors(values: TodoFields, attempted: boolean): FieldErrors {
  const errors = validateTodo(values);
  if (attempted || values.title.trim() !== '') return errors;
  return { notes: errors.notes };
}
