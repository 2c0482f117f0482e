/**
 * "Download my data": the export as one JSON Lines file. Each event line is the event exactly as
 * the server sent it (never rewritten: its `hash` covers its fields), and the last line is
 * `{"digest": {...}}`, so `todo-audit verify-export` can check the file on its own.
 */
import type { DataExport } from '../api/types';

export const EXPORT_MEDIA_TYPE = 'application/jsonl';
const REVOKE_AFTER_MS = 60_000;

/** `todo-export-2025-11-25.jsonl`, dated in the user's own calendar. */
export function exportFileName(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `todo-export-${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}.jsonl`;
}

/** One JSON object per line, each line ending in a newline; the digest line last. */
export function toJsonLines({ events, digest }: DataExport): string {
  return [...events.map((event) => JSON.stringify(event)), JSON.stringify({ digest })].map((line) => `${line}\n`).join('');
}

/** Hands `text` to the browser as a file download named `name`. */
export function saveFile(name: string, text: string, type = EXPORT_MEDIA_TYPE): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  try {
    link.click();
  } finally {
    link.remove();
    // Some browsers read the blob after the click's task has ended: keep the URL alive a while.
    window.setTimeout(() => URL.revokeObjectURL(url), REVOKE_AFTER_MS);
  }
}
