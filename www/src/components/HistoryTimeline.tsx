import type { Ref } from 'react';
import type { DescribedEvent, FieldChange } from '../lib/history';
import { itemHistoryPath, Link } from '../lib/router';
import { Timestamp } from './Timestamp';

interface Props {
  entries: DescribedEvent[];
  now: number;
  /** On the user-wide page: name each entry's item and link to its own history. */
  showItem?: boolean;
  /** The entry to give a ref (e.g. the first of a newly loaded page, to move focus to). */
  focusEntryId?: string;
  focusRef?: Ref<HTMLLIElement>;
}

const FIELD_NAMES = { title: 'Title', notes: 'Notes' } as const;

function quote(text: string): string {
  return `“${text}”`;
}

/** "Title changed from “a” to “b”", "Notes cleared (were “x”)", … */
export function describeChange(change: FieldChange, kind: DescribedEvent['kind']): string {
  const name = FIELD_NAMES[change.field];
  if (kind === 'created') return `${name}: ${quote(change.to)}`;
  if (change.field === 'notes' && change.to === '') {
    return change.from ? `Notes cleared (were ${quote(change.from)})` : 'Notes cleared';
  }
  if (change.field === 'notes' && change.from === '') return `Notes added: ${quote(change.to)}`;
  if (change.from === undefined) return `${name} set to ${quote(change.to)}`;
  if (change.from === change.to) return `${name} unchanged: ${quote(change.to)}`;
  return `${name} changed from ${quote(change.from)} to ${quote(change.to)}`;
}

export function HistoryTimeline({ entries, now, showItem = false, focusEntryId, focusRef }: Props) {
  return (
    <ol className="timeline" aria-label="Events">
      {entries.map((entry) => {
        const { event } = entry;
        return (
          <li
            key={event.eventId}
            className={`timeline-entry timeline-${entry.kind}`}
            ref={event.eventId === focusEntryId ? focusRef : undefined}
            tabIndex={event.eventId === focusEntryId ? -1 : undefined}
          >
            <div className="timeline-head">
              <span className={`badge badge-${entry.kind}`}>{entry.summary}</span>
              {showItem && (
                <Link className="timeline-item" to={itemHistoryPath(event.todoId)}>
                  {entry.title ?? `Item ${event.todoId.slice(0, 8)}…`}
                </Link>
              )}
            </div>
            {entry.changes.length > 0 && (
              <ul className="changes">
                {entry.changes.map((change) => (
                  <li key={change.field}>{describeChange(change, entry.kind)}</li>
                ))}
              </ul>
            )}
            <p className="timeline-meta">
              <Timestamp iso={event.occurredAt} now={now} />
              <span> · version {event.version}</span>
            </p>
          </li>
        );
      })}
    </ol>
  );
}
