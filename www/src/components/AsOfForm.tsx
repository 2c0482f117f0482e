import { useId, useRef, useState, type FormEvent } from 'react';
import { listAsOfPath, navigate } from '../lib/router';
import { instantFromDateTimeLocal, localTimeZone, toDateTimeLocalValue } from '../lib/time';

/**
 * "Show my list as of …": a local date and time (to the second), sent to the API as a UTC
 * instant. Opens the read-only list of that moment.
 */
export function AsOfForm({ initial }: { initial?: string }) {
  const ids = { input: useId(), hint: useId(), error: useId() };
  const [value, setValue] = useState(() => {
    const start = initial ? new Date(initial) : new Date();
    return toDateTimeLocalValue(Number.isNaN(start.getTime()) ? new Date() : start);
  });
  const [error, setError] = useState('');
  const inputRef = useRef<HTMLInputElement>(null);
  const zone = localTimeZone();

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const instant = instantFromDateTimeLocal(value);
    const problem = !instant ? 'Enter a date and a time.' : Date.parse(instant) > Date.now() ? 'Choose a moment in the past.' : '';
    setError(problem);
    if (problem || !instant) {
      inputRef.current?.focus();
      return;
    }
    navigate(listAsOfPath(instant));
  };

  return (
    <form className="as-of-form" onSubmit={submit} noValidate>
      <div className="field">
        <label htmlFor={ids.input}>
          Show my list as of
        </label>
        <div className="as-of-row">
          <input
            ref={inputRef}
            id={ids.input}
            type="datetime-local"
            step="1"
            max={toDateTimeLocalValue(new Date())}
            value={value}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? `${ids.error} ${ids.hint}` : ids.hint}
            onChange={(event) => {
              setValue(event.target.value);
              if (error) setError('');
            }}
          />
          <button type="submit" className="button button-primary">
            Show the list
          </button>
        </div>
        <p id={ids.hint} className="field-hint">
          In your local time{zone ? ` (${zone})` : ''}, to the second. The list is shown as it stood then, read-only.
        </p>
        {error && (
          <p id={ids.error} className="field-error">
            {error}
          </p>
        )}
      </div>
    </form>
  );
}
