import type { Ref } from 'react';
import type { TodoEvent } from '../api/types';
import type { DescribedEvent, FieldChange } from '../lib/history';
import { itemHistoryPath, itemVersionPath, Link } from '../lib/router';
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

/** The first characters of a hash: enough to compare by eye, short enough to skim past. */
export function shortHash(hash: string): string {
  return `${hash.slice(0, 12)}…`;
}

/** An event's hashes, folded away: auditors open it, everyone else reads past one short line. */
function EventHashes({ event }: { event: TodoEvent }) {
  if (!event.hash) return null;
  return (
    <details className="hash-details">
      <summary>
        Hash <code>{shortHash(event.hash)}</code>
      </summary>
      <dl className="facts">
        <dt>Hash (SHA-256)</dt>
        <dd>
          <code className="hash-full">{event.hash}</code>
        </dd>
        <dt>Previous event’s hash</dt>
        <dd>
          {event.prevHash ? <code className="hash-full">{event.prevHash}</code> : <span className="muted">none</span>}
        </dd>
      </dl>
    </details>
  );
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
            <div className="timeline-foot">
              <p className="timeline-meta">
                <Timestamp iso={event.occurredAt} now={now} />
                <span> · version {event.version}</span>
              </p>
              {/* After a deletion there is no todo to show: that version answers 404. */}
              {entry.kind !== 'deleted' && (
                <Link
                  className="timeline-version-link"
                  to={itemVersionPath(event.todoId, event.version)}
                  aria-label={showItem && entry.title ? `View version ${event.version} of “${entry.title}”` : undefined}
                >
                  View version {event.version}
                </Link>
              )}
            </div>
            <EventHashes event={event} />
          </li>
        );
      })}
    </ol>
  );
}
