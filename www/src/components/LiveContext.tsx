import { createContext, useContext, useSyncExternalStore } from 'react';
import type { LiveClient, LiveStatus } from '../api/live';

/** The session's live updates client; null when /config.json names no `liveUrl`. */
export const LiveContext = createContext<LiveClient | null>(null);

export function useLive(): LiveClient | null {
  return useContext(LiveContext);
}

const NO_SUBSCRIPTION = () => () => undefined;
const STOPPED = (): LiveStatus => 'stopped';

export function useLiveStatus(live: LiveClient | null): LiveStatus {
  return useSyncExternalStore(live ? live.subscribeStatus : NO_SUBSCRIPTION, live ? live.getStatus : STOPPED);
}
