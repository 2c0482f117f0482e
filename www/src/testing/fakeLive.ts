/**
 * A stand-in for the live updates socket: the LiveClient gets `server.connect` as its socket
 * factory, and the test plays the server (open, send, drop, refuse). `feedFrom` wires it to a
 * FakeBackend so that its changes are pushed to the sockets of their user, as `notifier` does.
 */
import type { LiveSocket } from '../api/live';
import type { LiveMessage } from '../api/types';
import type { FakeBackend } from './fakeBackend';

export class FakeSocket implements LiveSocket {
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  readonly url: string;
  state: 'connecting' | 'open' | 'closed' = 'connecting';
  /** Closed by the client (not by the server). */
  closedByClient = false;

  constructor(url: string) {
    this.url = url;
  }

  /** The `token` query parameter it was opened with. */
  get token(): string | null {
    return new URL(this.url).searchParams.get('token');
  }

  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.closedByClient = true;
  }

  // --- the server's side ---

  open(): void {
    this.state = 'open';
    this.onopen?.(new Event('open'));
  }

  send(message: LiveMessage | string): void {
    if (this.state !== 'open') throw new Error('send on a socket that is not open');
    const data = typeof message === 'string' ? message : JSON.stringify(message);
    this.onmessage?.({ data } as MessageEvent);
  }

  /** The connection is lost (or refused before the upgrade: the browser says error, then close). */
  drop(code = 1006): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.onerror?.(new Event('error'));
    this.onclose?.({ code, reason: '', wasClean: false } as CloseEvent);
  }
}

export class FakeLiveServer {
  readonly sockets: FakeSocket[] = [];
  /** Open every new socket at once (as a healthy server would, a moment later). */
  autoOpen = false;
  private unwatch?: () => void;

  connect = (url: string): FakeSocket => {
    const socket = new FakeSocket(url);
    this.sockets.push(socket);
    if (this.autoOpen) {
      queueMicrotask(() => {
        if (socket.state === 'connecting') socket.open();
      });
    }
    return socket;
  };

  get latest(): FakeSocket {
    const socket = this.sockets.at(-1);
    if (!socket) throw new Error('no socket was opened');
    return socket;
  }

  open(): FakeSocket[] {
    return this.sockets.filter((socket) => socket.state === 'open');
  }

  /** Pushes every change of `backend` to the open sockets of that change's user. */
  feedFrom(backend: FakeBackend): void {
    this.unwatch?.();
    this.unwatch = backend.watch((user, push) => {
      for (const socket of this.open()) {
        if (socket.token && backend.userOf(socket.token) === user) socket.send(push);
      }
    });
  }
}
