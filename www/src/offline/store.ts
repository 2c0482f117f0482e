/**
 * What the SPA keeps on this device for its user, in IndexedDB (through `idb`): the last list read
 * from the server, the histories the user opened, and the changes made offline that the server has
 * not taken yet (the outbox). One database per user (`todo-offline-<sub>`), deleted at sign-out.
 */
import { deleteDB, openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { Todo, TodoEvent } from '../api/types';
import type { QueuedOp } from './queue';

/** Something read from the server, with when it was read. */
export interface Synced<T> {
  data: T;
  /** RFC 3339: when the server answered with it. */
  syncedAt: string;
}

/** Keys of the snapshots: the list, the user's history, one todo's history. */
export type SnapshotKey = 'list' | 'history' | `history:${string}`;

interface OfflineSchema extends DBSchema {
  snapshots: { key: string; value: Synced<unknown> };
  outbox: { key: number; value: QueuedOp };
}

const VERSION = 1;

export function databaseName(userId: string): string {
  return `todo-offline-${userId}`;
}

export class OfflineStore {
  private readonly db: IDBPDatabase<OfflineSchema>;
  readonly userId: string;

  private constructor(db: IDBPDatabase<OfflineSchema>, userId: string) {
    this.db = db;
    this.userId = userId;
  }

  /** Opens (creating if need be) the user's database; rejects where IndexedDB is unavailable. */
  static async open(userId: string): Promise<OfflineStore> {
    const db: IDBPDatabase<OfflineSchema> = await openDB<OfflineSchema>(databaseName(userId), VERSION, {
      upgrade(database) {
        database.createObjectStore('snapshots');
        database.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true });
      },
      // Another tab signs out (deletes this database): let it.
      blocking() {
        db.close();
      },
    });
    return new OfflineStore(db, userId);
  }

  async saveList(todos: Todo[], syncedAt: string): Promise<void> {
    await this.db.put('snapshots', { data: todos, syncedAt }, 'list');
  }

  async loadList(): Promise<Synced<Todo[]> | undefined> {
    return (await this.db.get('snapshots', 'list')) as Synced<Todo[]> | undefined;
  }

  /** `todoId` undefined: the user's whole history (its first page). */
  async saveHistory(todoId: string | undefined, events: TodoEvent[], syncedAt: string): Promise<void> {
    await this.db.put('snapshots', { data: events, syncedAt }, historyKey(todoId));
  }

  async loadHistory(todoId: string | undefined): Promise<Synced<TodoEvent[]> | undefined> {
    return (await this.db.get('snapshots', historyKey(todoId))) as Synced<TodoEvent[]> | undefined;
  }

  /** Every queued change, oldest first. */
  async queued(): Promise<QueuedOp[]> {
    return this.db.getAll('outbox');
  }

  /** Adds a change at the end of the queue; resolves to it with its `seq`. */
  async enqueue(op: Omit<QueuedOp, 'seq'>): Promise<QueuedOp> {
    const seq = await this.db.add('outbox', op as QueuedOp);
    return { ...op, seq };
  }

  async replace(op: QueuedOp): Promise<void> {
    await this.db.put('outbox', op);
  }

  /** Removes changes and writes others in one transaction, so a crash leaves the queue consistent. */
  async settle(remove: number[], replace: QueuedOp[] = []): Promise<void> {
    const tx = this.db.transaction('outbox', 'readwrite');
    await Promise.all([...remove.map((seq) => tx.store.delete(seq)), ...replace.map((op) => tx.store.put(op)), tx.done]);
  }

  close(): void {
    this.db.close();
  }

  /** Forgets everything kept for this user on this device (sign-out). */
  async destroy(): Promise<void> {
    this.db.close();
    await deleteDB(databaseName(this.userId));
  }
}

function historyKey(todoId: string | undefined): SnapshotKey {
  return todoId === undefined ? 'history' : `history:${todoId}`;
}
