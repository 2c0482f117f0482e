/** The API's limits (DESIGN.md / README), checked in the form so the user sees why before sending. */
export const TITLE_MAX = 200;
export const NOTES_MAX = 2000;

/** Characters as the back end counts them (Unicode scalar values, not UTF-16 code units). */
export function charCount(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

export interface TodoFields {
  title: string;
  notes: string;
}

export interface FieldErrors {
  title?: string;
  notes?: string;
}

export function validateTodo({ title, notes }: TodoFields): FieldErrors {
  const errors: FieldErrors = {};
  const titleLength = charCount(title.trim());
  if (titleLength === 0) errors.title = 'Enter a title.';
  else if (titleLength > TITLE_MAX) errors.title = `The title is ${titleLength} characters long; the limit is ${TITLE_MAX}.`;
  const notesLength = charCount(notes);
  if (notesLength > NOTES_MAX) errors.notes = `The notes are ${notesLength} characters long; the limit is ${NOTES_MAX}.`;
  return errors;
}

export function hasErrors(errors: FieldErrors): boolean {
  return errors.title !== undefined || errors.notes !== undefined;
}
