import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from 'react';

export interface AlertAction {
  label: string;
  onClick: () => void;
}

export interface Alert {
  id: number;
  message: string;
  action?: AlertAction;
}

interface AlertsApi {
  /** An error the user must see: shown in the role=alert region until dismissed. */
  showAlert(message: string, action?: AlertAction): number;
  dismissAlert(id: number): void;
  clearAlerts(): void;
  /** A quiet confirmation ("Added …") for screen readers, in the role=status region. */
  announce(message: string): void;
}

const AlertsContext = createContext<AlertsApi | null>(null);

export function useAlerts(): AlertsApi {
  const api = useContext(AlertsContext);
  if (!api) throw new Error('useAlerts must be used inside <AlertsProvider>');
  return api;
}

interface AlertsState {
  alerts: Alert[];
  announcement: string;
}

const AlertsStateContext = createContext<AlertsState>({ alerts: [], announcement: '' });

export function AlertsProvider({ children }: { children: ReactNode }) {
  const [alerts, setAlerts] = useState<Alert[]>([]);
  const [announcement, setAnnouncement] = useState('');
  const nextId = useRef(1);

  const showAlert = useCallback((message: string, action?: AlertAction) => {
    const id = nextId.current++;
    // The same message twice (e.g. two failed saves while offline) is shown once, newest last.
    setAlerts((current) => [...current.filter((alert) => alert.message !== message), { id, message, action }]);
    return id;
  }, []);
  const dismissAlert = useCallback((id: number) => setAlerts((current) => current.filter((a) => a.id !== id)), []);
  const clearAlerts = useCallback(() => setAlerts([]), []);
  const announce = useCallback((message: string) => {
    // Clear first so that the same message twice is announced twice.
    setAnnouncement('');
    window.setTimeout(() => setAnnouncement(message), 50);
  }, []);

  const api = useMemo(
    () => ({ showAlert, dismissAlert, clearAlerts, announce }),
    [showAlert, dismissAlert, clearAlerts, announce],
  );
  const state = useMemo(() => ({ alerts, announcement }), [alerts, announcement]);

  return (
    <AlertsContext.Provider value={api}>
      <AlertsStateContext.Provider value={state}>{children}</AlertsStateContext.Provider>
    </AlertsContext.Provider>
  );
}

/**
 * The app's live regions: errors (role=alert) and confirmations (role=status). They are always in
 * the page, empty or not: screen readers only announce changes to a region that already exists.
 */
export function AlertRegion() {
  const { alerts, announcement } = useContext(AlertsStateContext);
  const { dismissAlert } = useAlerts();
  return (
    <>
      <div className="alerts" role="alert" aria-live="assertive">
        {alerts.map((alert) => (
          <div className="alert" key={alert.id}>
            <p className="alert-message">{alert.message}</p>
            <div className="alert-actions">
              {alert.action && (
                <button
                  type="button"
                  className="button button-small"
                  onClick={() => {
                    dismissAlert(alert.id);
                    alert.action?.onClick();
                  }}
                >
                  {alert.action.label}
                </button>
              )}
              <button type="button" className="button button-small button-quiet" onClick={() => dismissAlert(alert.id)} aria-label="Dismiss this message">
                Dismiss
              </button>
            </div>
          </div>
        ))}
      </div>
      <div className="visually-hidden" role="status" aria-live="polite">
        {announcement}
      </div>
    </>
  );
}
