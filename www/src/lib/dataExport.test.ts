import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DataExport } from '../api/types';
import { exportFileName, saveFile, toJsonLines } from './dataExport';

describe('exportFileName', () => {
  it('is dated in the local calendar', () => {
    expect(exportFileName(new Date(2025, 0, 5, 23, 59))).toBe('todo-export-2025-01-05.jsonl');
    expect(exportFileName(new Date(2025, 10, 25, 0, 0))).toBe('todo-export-2025-11-25.jsonl');
  });
});

describe('toJsonLines', () => {
  it('writes each event as the server sent it, one per line, then the digest line', () => {
    const data: DataExport = {
      events: [
        { userId: 'u', todoId: 't', version: 1, eventId: 'e1', type: 'TodoCreated', schemaVersion: 1, occurredAt: 'x', data: { title: 'a\nb' }, extra: { kept: true } },
        { userId: 'u', todoId: 't', version: 2, eventId: 'e2', type: 'TodoDeleted', schemaVersion: 1, occurredAt: 'y', data: {}, hash: 'f'.repeat(64) },
      ],
      digest: { digest: 'd'.repeat(64), asOf: '2025-11-25T12:00:00Z', todos: 1, events: 2 },
    };
    const text = toJsonLines(data);
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(JSON.stringify(data.events[0]));
    expect(JSON.parse(lines[1])).toEqual(data.events[1]);
    expect(JSON.parse(lines[2])).toEqual({ digest: data.digest });
  });
});

describe('saveFile', () => {
  // jsdom has no object URLs: each test brings its own.
  const original = { createObjectURL: URL.createObjectURL, revokeObjectURL: URL.revokeObjectURL };
  afterEach(() => {
    vi.useRealTimers();
    Object.assign(URL, original);
  });

  it('clicks a download link to a blob URL, then lets the URL go', async () => {
    vi.useFakeTimers();
    const created: Blob[] = [];
    const createObjectURL = vi.fn((blob: Blob) => {
      created.push(blob);
      return 'blob:test/1';
    });
    const revokeObjectURL = vi.fn();
    Object.assign(URL, { createObjectURL, revokeObjectURL });
    const clicked: HTMLAnchorElement[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push(this);
    });

    saveFile('todo-export-2025-11-25.jsonl', '{"a":1}\n');

    expect(clicked).toHaveLength(1);
    expect(clicked[0].download).toBe('todo-export-2025-11-25.jsonl');
    expect(clicked[0].getAttribute('href')).toBe('blob:test/1');
    expect(clicked[0].isConnected).toBe(false);
    expect(created[0].type).toBe('application/jsonl');
    expect(await created[0].text()).toBe('{"a":1}\n');
    expect(revokeObjectURL).not.toHaveBeenCalled();
    vi.runAllTimers();
    expect(revokeObjectURL).toHaveBeenCalledWith('blob:test/1');
  });
});
