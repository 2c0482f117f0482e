/**
 * Deleting the account's data: `DELETE /account` erases every event and derived row of the caller.
 * It may take several rounds: the server answers 202 with `Retry-After` while it erases, and 200 with
 * the erasure receipt (no personal data) once nothing is left; a repeat answers the same receipt.
 */

/** What has been erased, by kind of record. */
export interface ErasedCounts {
  events: number;
  todos: number;
  stats: number;
  snapshots: number;
  connections: number;
}

/** The server's proof that the erasure happened: a keyed hash of the user, times, counts, the request. */
export interface ErasureReceipt {
  userKey: string;
  requestedAt: string;
  erasedAt: string;
  requestId: string;
  erased: ErasedCounts;
}

/** One answer of `DELETE /account`. */
export type ErasureStep =
  | { status: 'erased'; receipt: ErasureReceipt }
  | { status: 'erasing'; erased: ErasedCounts; retryAfterSeconds: number };

/** Used when a 202 comes without a readable Retry-After. */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;
/** However the server answers: never ask again at once, and never make the user wait for hours. */
const RETRY_AFTER_BOUNDS = { min: 1, max: 300 };

/** `Retry-After` as seconds to wait: delta-seconds or an HTTP date, kept within sane bounds. */
export function retryAfterSeconds(header: string | null, now: () => number = Date.now): number {
  const value = header?.trim() ?? '';
  let seconds = DEFAULT_RETRY_AFTER_SECONDS;
  if (/^\d+$/.test(value)) {
    seconds = Number(value);
  } else if (value) {
    const at = Date.parse(value);
    if (!Number.isNaN(at)) seconds = Math.ceil((at - now()) / 1000);
  }
  return Math.min(RETRY_AFTER_BOUNDS.max, Math.max(RETRY_AFTER_BOUNDS.min, seconds));
}

export interface EraseOptions {
  /** Called after each 202 with what has been erased so far. */
  onProgress?: (erased: ErasedCounts) => void;
  /** Waits that many milliseconds (tests pass fake timers' setTimeout through the default). */
  wait?: (ms: number) => Promise<void>;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => window.setTimeout(resolve, ms));
}

/**
 * Asks for the erasure, then asks again after each `Retry-After` until the server answers with the
 * receipt. A failure rejects; calling this again resumes the erasure where it stopped.
 */
export async function eraseAccount(
  api: { deleteAccount(): Promise<ErasureStep> },
  { onProgress, wait = delay }: EraseOptions = {},
): Promise<ErasureReceipt> {
  for (;;) {
    const step = await api.deleteAccount();
    if (step.status === 'erased') return step.receipt;
    onProgress?.(step.erased);
    await wait(step.retryAfterSeconds * 1000);
  }
}
