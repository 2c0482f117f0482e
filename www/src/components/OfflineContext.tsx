import { createContext, useContext } from 'react';
import type { Outbox } from '../offline/queue';

/** The session's outbox and the store it lives in; null where IndexedDB is unavailable (online only). */
export const OfflineContext = createContext<Outbox | null>(null);

export function useOutbox(): Outbox | null {
  return useContext(OfflineContext);
}
