import { useEffect, useState } from 'react';
import type { LiveStatus } from '../api/live';
import { useLive, useLiveStatus } from './LiveContext';

/** How long a lost connection may take to come back before the indicator says so. */
export const INDICATOR_GRACE_MS = 2_000;

type Shown = 'live' | 'connecting' | 'reconnecting' | 'none';

const TEXT: Record<Shown, string> = {
  live: 'Live',
  connecting: 'Connecting…',
  reconnecting: 'Reconnecting…',
  none: '',
};

const TITLE: Record<Shown, string | undefined> = {
  live: 'Changes made in your other tabs and devices show here as they happen.',
  connecting: 'Not connected for live updates yet: changes made elsewhere show when you reload.',
  reconnecting: 'Live updates are reconnecting: changes made elsewhere show once they are back.',
  none: undefined,
};

/**
 * A quiet "Live" / "Reconnecting…" line for the list. Its region (role=status, polite) is always
 * there so that a change is announced without interrupting; "Live" shows at once, the rest only
 * after a grace period, so a reconnect that succeeds at once (a token renewal, a server's "re-read")
 * changes nothing on screen. Nothing at all without live updates.
 */
export function LiveIndicator() {
  const live = useLive();
  const status = useLiveStatus(live);
  const shown = useSteady(status);
  if (!live) return null;
  return (
    <p className={`live-indicator live-indicator-${shown}`} role="status" aria-live="polite" title={TITLE[shown]}>
      {shown !== 'none' && (
        <>
          <span className="live-dot" aria-hidden="true" />
          {TEXT[shown]}
        </>
      )}
    </p>
  );
}

function useSteady(status: LiveStatus): Shown {
  const [shown, setShown] = useState<Shown>(status === 'live' ? 'live' : 'none');
  const target: Shown = status === 'stopped' ? 'none' : status;
  // Live (or stopped) shows at once: adjusting state while rendering, as React recommends for it.
  if ((target === 'live' || target === 'none') && shown !== target) setShown(target);
  useEffect(() => {
    if (target === shown) return;
    const timer = setTimeout(() => setShown(target), INDICATOR_GRACE_MS);
    return () => clearTimeout(timer);
  }, [target, shown]);
  return shown;
}
