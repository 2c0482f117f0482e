import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';

/** What the landing page says after the session ended on purpose (e.g. the account was deleted). */
export interface Notice {
  message: string;
  /** A second, smaller line (e.g. the erasure receipt's reference). */
  details?: string;
}

interface NoticeApi {
  notice: Notice | null;
  showNotice(notice: Notice): void;
}

const NoticeContext = createContext<NoticeApi | null>(null);

/** Above the sign-in gate, so that a notice set by the signed-in app outlives it. */
export function SignedOutNoticeProvider({ children }: { children: ReactNode }) {
  const [notice, showNotice] = useState<Notice | null>(null);
  const api = useMemo(() => ({ notice, showNotice }), [notice]);
  return <NoticeContext.Provider value={api}>{children}</NoticeContext.Provider>;
}

export function useSignedOutNotice(): NoticeApi {
  const api = useContext(NoticeContext);
  if (!api) throw new Error('useSignedOutNotice must be used inside <SignedOutNoticeProvider>');
  return api;
}

/** For the landing page: the notice, in a status region. */
export function SignedOutNotice() {
  const notice = useContext(NoticeContext)?.notice ?? null;
  const [shown, setShown] = useState<Notice | null>(null);
  useEffect(() => {
    // Screen readers announce a change to a status region that is already in the page, not one
    // that appears with its text: let the empty region land first, then fill it.
    const timer = window.setTimeout(() => setShown(notice), 50);
    return () => window.clearTimeout(timer);
  }, [notice]);
  return (
    <div role="status">
      {shown && (
        <div className="notice notice-info">
          <div>
            <p>
              <strong>{shown.message}</strong>
            </p>
            {shown.details && <p className="hint">{shown.details}</p>}
          </div>
        </div>
      )}
    </div>
  );
}
