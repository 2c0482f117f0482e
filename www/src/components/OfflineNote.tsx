import { formatAbsolute } from '../lib/time';

interface Props {
  offline: boolean;
  /** RFC 3339: when what is shown was last read from the server. */
  syncedAt?: string;
  /** Changes waiting in the outbox. */
  queued?: number;
}

/**
 * A quiet line (role=status, polite) while the server cannot be reached: what the page shows and
 * how old it is, and how many changes wait to be sent. The region is always there, so that the
 * change is announced; it is empty while online with nothing queued.
 */
export function OfflineNote({ offline, syncedAt, queued = 0 }: Props) {
  const waiting = queued === 1 ? '1 change waits to be sent.' : `${queued} changes wait to be sent.`;
  return (
    <p className={`offline-note${offline || queued > 0 ? ' offline-note-shown' : ''}`} role="status" aria-live="polite">
      {offline && (
        <>
          {syncedAt ? (
            <>
              Offline, showing what was last synced at <time dateTime={syncedAt}>{formatAbsolute(syncedAt)}</time>.
            </>
          ) : (
            'Offline: nothing synced on this device yet.'
          )}{' '}
        </>
      )}
      {queued > 0 && waiting}
    </p>
  );
}
