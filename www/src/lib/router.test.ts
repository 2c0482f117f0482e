import { describe, expect, it } from 'vitest';
import { itemHistoryPath, parseRoute } from './router';

describe('parseRoute', () => {
  it.each([
    ['/', '', { name: 'todos' }],
    ['/index.html', '', { name: 'todos' }],
    ['/history', '', { name: 'history' }],
    ['/history/', '', { name: 'history' }],
    ['/item/abc-123/history', '', { name: 'itemHistory', id: 'abc-123' }],
    ['/', '#/history', { name: 'history' }],
    ['/', '#/item/abc/history', { name: 'itemHistory', id: 'abc' }],
    ['/nope', '', { name: 'notFound', path: '/nope' }],
  ])('%s%s', (path, hash, route) => {
    expect(parseRoute(path, hash)).toEqual(route);
  });

  it('round-trips item ids', () => {
    expect(parseRoute(itemHistoryPath('a/b c'))).toEqual({ name: 'itemHistory', id: 'a/b c' });
  });
});
