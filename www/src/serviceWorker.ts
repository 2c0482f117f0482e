import { registerSW } from 'virtual:pwa-register';

/** Whether the user is in the middle of something a reload would lose (typing, a dialog open). */
function busy(): boolean {
  const active = document.activeElement;
  return (
    active instanceof HTMLInputElement ||
    active instanceof HTMLTextAreaElement ||
    document.querySelector('dialog[open], [role="dialog"], [role="alertdialog"]') !== null
  );
}

/**
 * Registers the service worker (sw.ts). A new version activates at once; this page, still running
 * the old one, reloads into it straight away if the user is not typing, else when it is next hidden
 * (what a reload would lose is only what is being typed: queued changes are in IndexedDB).
 */
export function registerServiceWorker(): void {
  if (!('serviceWorker' in navigator)) return;
  registerSW({
    immediate: true,
    onNeedReload() {
      if (!busy()) {
        window.location.reload();
        return;
      }
      document.addEventListener('visibilitychange', () => {
        if (document.hidden) window.location.reload();
      });
    },
  });
}
