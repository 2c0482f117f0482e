import { describe, expect, it } from 'vitest';
import { itemHistoryPath, itemVersionPath, listAsOfPath, parseRoute } from './router';

describe('parseRoute', () => {
  it.each([
    ['/', '', { name: 'todos' }],
    ['/index.html', '', { name: 'todos' }],
    ['/history', '', { name: 'history' }],
    ['/history/', '', { name: 'history' }],
    ['/stats', '', { name: 'stats' }],
    ['/', '#/stats', { name: 'stats' }],
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

describe('routes to the past and the account', () => {
  it.each([
    ['/item/abc/version/3', '', { name: 'itemVersion', id: 'abc', version: 3 }],
    ['/', '#/item/abc/version/12', { name: 'itemVersion', id: 'abc', version: 12 }],
    ['/item/abc/version/0', '', { name: 'notFound', path: '/item/abc/version/0' }],
    ['/item/abc/version/x', '', { name: 'notFound', path: '/item/abc/version/x' }],
    ['/history/as-of/2025-11-25T10:00:05.000Z', '', { name: 'listAsOf', asOf: '2025-11-25T10:00:05.000Z' }],
    ['/history/as-of/2025-11-25T10%3A00%3A05Z', '', { name: 'listAsOf', asOf: '2025-11-25T10:00:05Z' }],
    ['/history/as-of/%E0%A4%A', '', { name: 'notFound', path: '/history/as-of/%E0%A4%A' }],
    ['/account', '', { name: 'account' }],
  ])('%s%s', (path, hash, route) => {
    expect(parseRoute(path, hash)).toEqual(route);
  });

  it('round-trips ids, versions and instants', () => {
    expect(parseRoute(itemVersionPath('a/b c', 7))).toEqual({ name: 'itemVersion', id: 'a/b c', version: 7 });
    expect(listAsOfPath('2025-11-25T10:00:05.000Z')).toBe('/history/as-of/2025-11-25T10:00:05.000Z');
    expect(parseRoute(listAsOfPath('2025-11-25T10:00:05+01:00'))).toEqual({ name: 'listAsOf', asOf: '2025-11-25T10:00:05+01:00' });
  });
});
