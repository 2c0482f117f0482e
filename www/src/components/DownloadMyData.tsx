import { useEffect, useId, useRef, useState } from 'react';
import type { HistoryDigest } from '../api/types';
import { exportFileName, saveFile, toJsonLines } from '../lib/dataExport';
import { describeError, isAbort } from '../lib/errors';
import { formatAbsolute } from '../lib/time';
import { useApi } from './ApiContext';

export type DownloadState =
  | { status: 'idle' }
  | { status: 'working'; eventsSoFar: number }
  | { status: 'done'; fileName: string; events: number; digest: HistoryDigest }
  | { status: 'failed'; message: string };

/** "1 event", "2 events". */
export function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

export interface DataDownload {
  state: DownloadState;
  /** Fetches every page of the export and hands the file to the browser (once at a time). */
  download(): Promise<void>;
}

/** The download's state and action, for each place that offers it (this section, the deletion dialog). */
export function useDataDownload(): DataDownload {
  const api = useApi();
  const [state, setState] = useState<DownloadState>({ status: 'idle' });
  const running = useRef<AbortController | null>(null);

  useEffect(() => () => running.current?.abort(), []);

  const download = async () => {
    if (running.current) return;
    const controller = new AbortController();
    running.current = controller;
    setState({ status: 'working', eventsSoFar: 0 });
    try {
      const data = await api.exportAll({
        signal: controller.signal,
        onProgress: (eventsSoFar) => setState({ status: 'working', eventsSoFar }),
      });
      const fileName = exportFileName(new Date());
      saveFile(fileName, toJsonLines(data));
      setState({ status: 'done', fileName, events: data.events.length, digest: data.digest });
    } catch (error) {
      if (isAbort(error) || controller.signal.aborted) return;
      setState({ status: 'failed', message: describeError(error, 'Preparing your data') });
    } finally {
      running.current = null;
    }
  };

  return { state, download };
}

/** The button, its progress (a status region) and what went wrong, with a way to try again. */
export function DownloadControls({ download: { state, download }, buttonClassName = 'button button-primary' }: { download: DataDownload; buttonClassName?: string }) {
  const progress =
    state.status === 'working'
      ? `Preparing your data… ${plural(state.eventsSoFar, 'event', 'events')} so far.`
      : state.status === 'done'
        ? `Downloaded ${state.fileName}: ${plural(state.events, 'event', 'events')} and the digest.`
        : '';
  return (
    <>
      <div className="account-actions">
        <button
          type="button"
          className={buttonClassName}
          onClick={() => void download()}
          // Not `disabled`: focus stays on the button while the export is prepared.
          aria-disabled={state.status === 'working' || undefined}
        >
          Download my data
        </button>
      </div>
      {/* Always in the page: screen readers announce changes only to a region that already exists. */}
      <p className="export-status" role="status">
        {progress}
      </p>
      {state.status === 'failed' && (
        <div className="notice notice-error" role="alert">
          <p>{state.message} Nothing was saved.</p>
          <button type="button" className="button button-small" onClick={() => void download()}>
            Try again
          </button>
        </div>
      )}
    </>
  );
}

/** "Download my data": every event of the user, one JSON Lines file ending with the digest. */
export function DownloadMyData() {
  const headingId = useId();
  const download = useDataDownload();
  const { state } = download;

  return (
    <section className="card account-section" aria-labelledby={headingId}>
      <h2 id={headingId} className="card-title">
        Download my data
      </h2>
      <p>
        Everything you ever did to your to-dos, deleted ones included, as one JSON Lines file: one event per line with its
        hashes, then a last line with the digest of your whole history. With the digest, anyone can check that the file
        matches what is stored and that nothing was altered.
      </p>
      <DownloadControls download={download} />
      {state.status === 'done' && (
        <dl className="facts">
          <dt>Digest</dt>
          <dd>
            <code className="hash-full">{state.digest.digest}</code>
          </dd>
          <dt>As of</dt>
          <dd>
            <time dateTime={state.digest.asOf}>{formatAbsolute(state.digest.asOf)}</time>
          </dd>
          <dt>Covers</dt>
          <dd>
            {plural(state.digest.todos, 'to-do', 'to-dos')}, {plural(state.digest.events, 'event', 'events')}
          </dd>
        </dl>
      )}
    </section>
  );
}
