import { useEffect, useState } from 'react';
import { formatAbsolute, formatRelative } from '../lib/time';

/** The current time, refreshed every `intervalMs`, so "2 minutes ago" stays true on an open page. */
export function useNow(intervalMs = 30_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), intervalMs);
    return () => window.clearInterval(timer);
  }, [intervalMs]);
  return now;
}

/** "5 minutes ago · 25 Nov 2025, 19:48:03": relative for a glance, absolute for the record. */
export function Timestamp({ iso, now, prefix }: { iso: string; now: number; prefix?: string }) {
  const absolute = formatAbsolute(iso);
  return (
    <span className="timestamp">
      {prefix && `${prefix} `}
      <time dateTime={iso} title={absolute}>
        {formatRelative(iso, now)}
      </time>
      <span className="timestamp-separator" aria-hidden="true">
        {' · '}
      </span>
      <span className="timestamp-absolute">{absolute}</span>
    </span>
  );
}
