import { ApiError, NetworkError } from '../api/client';

/** One sentence for the alert region: what failed, why, and what the user can do. */
export function describeError(error: unknown, action: string): string {
  if (error instanceof NetworkError) {
    return `${action} failed: could not reach the server. Check your connection and try again.`;
  }
  if (error instanceof ApiError) {
    const reference = error.requestId ? ` (reference ${error.requestId})` : '';
    if (error.isServerFault) {
      return `${action} failed: the server had a problem (HTTP ${error.status}). Please try again in a moment${reference}.`;
    }
    return `${action} failed: ${error.message}${reference}`;
  }
  if (error instanceof Error && error.message) return `${action} failed: ${error.message}`;
  return `${action} failed.`;
}

export function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}
