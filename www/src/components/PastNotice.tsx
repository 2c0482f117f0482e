import type { ReactNode } from 'react';

/** The mark of every read-only view of the past: what the user is looking at, and the way back. */
export function PastNotice({ children, actions }: { children: ReactNode; actions: ReactNode }) {
  return (
    <div className="past-notice" role="note">
      <span className="badge badge-past">Past</span>
      <div className="past-notice-body">
        <p>{children}</p>
        <p className="past-notice-actions">{actions}</p>
      </div>
    </div>
  );
}
