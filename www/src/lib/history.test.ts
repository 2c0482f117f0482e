import { describe, expect, it } from 'vitest';
import type { TodoEvent } from '../api/types';
import { describeEvents, isDeleted, lastKnownTitle } from './history';

let n = 0;
function event(todoId: string, version: number, type: TodoEvent['type'], data: object = {}): TodoEvent {
  n += 1;
  return {
    eventId: `e${n}`,
    todoId,
    version,
    type,
    schemaVersion: 1,
    occurredAt: `2025-11-25T10:0${version}:00Z`,
    data,
  } as TodoEvent;
}

describe('describeEvents', () => {
  it('names each event and infers what changed from what', () => {
    const events = [
      event('a', 1, 'TodoCreated', { title: 'Buy milk', notes: '2 litres' }),
      event('a', 2, 'TodoUpdated', { title: 'Buy oat milk' }),
      event('a', 3, 'TodoCompleted'),
      event('a', 4, 'TodoUpdated', { completed: false }),
      event('a', 5, 'TodoUpdated', { notes: '' }),
      event('a', 6, 'TodoDeleted'),
    ];
    const described = describeEvents(events);
    expect(described.map((d) => d.summary)).toEqual(['Created', 'Edited', 'Completed', 'Reopened', 'Edited', 'Deleted']);
    expect(described[0].changes).toEqual([
      { field: 'title', to: 'Buy milk' },
      { field: 'notes', to: '2 litres' },
    ]);
    expect(described[1].changes).toEqual([{ field: 'title', from: 'Buy milk', to: 'Buy oat milk' }]);
    expect(described[4].changes).toEqual([{ field: 'notes', from: '2 litres', to: '' }]);
    expect(described[5].title).toBe('Buy oat milk');
  });

  it('keeps items apart and folds in version order whatever the listing order', () => {
    const events = [
      event('b', 2, 'TodoUpdated', { title: 'B2' }),
      event('a', 1, 'TodoCreated', { title: 'A1' }),
      event('b', 1, 'TodoCreated', { title: 'B1' }),
    ];
    const described = describeEvents(events);
    expect(described[0].changes).toEqual([{ field: 'title', from: 'B1', to: 'B2' }]);
    expect(described[1].title).toBe('A1');
  });

  it('shows only the new value when the earlier events were not loaded', () => {
    const [described] = describeEvents([event('c', 4, 'TodoUpdated', { title: 'New', completed: false })]);
    expect(described.summary).toBe('Edited and reopened');
    expect(described.changes).toEqual([{ field: 'title', from: undefined, to: 'New' }]);
  });

  it('does not crash on an event type from a newer back end', () => {
    const odd = { ...event('d', 1, 'TodoCreated', { title: 'x' }), type: 'TodoArchived' } as unknown as TodoEvent;
    expect(describeEvents([odd])[0]).toMatchObject({ kind: 'unknown', summary: 'Changed (TodoArchived)' });
  });
});

describe('lastKnownTitle / isDeleted', () => {
  it('finds the latest title of a deleted item', () => {
    const events = [event('a', 1, 'TodoCreated', { title: 'Old' }), event('a', 2, 'TodoUpdated', { title: 'New' }), event('a', 3, 'TodoDeleted')];
    expect(lastKnownTitle(events, 'a')).toBe('New');
    expect(isDeleted(events)).toBe(true);
  });
});
