import { describe, expect, it } from 'vitest';
import { formatIsoWeek, isoWeekOf, isoWeekStart, lastIsoWeeks, parseIsoWeek } from './isoWeek';

const weekOf = (iso: string) => formatIsoWeek(isoWeekOf(new Date(iso)));

describe('ISO 8601 weeks', () => {
  // Checked against `date -u -d <day> +%G-W%V`.
  it.each([
    ['2026-09-07T00:00:00Z', '2026-W37'],
    ['2026-11-29T23:59:59Z', '2026-W48'],
    ['2026-01-01T12:00:00Z', '2026-W01'],
    ['2025-01-01T12:00:00Z', '2025-W01'],
    ['2026-12-31T12:00:00Z', '2026-W53'],
    ['2027-01-01T00:00:00Z', '2026-W53'],
    ['2027-01-03T23:59:59Z', '2026-W53'],
    ['2027-01-04T00:00:00Z', '2027-W01'],
    ['2024-12-30T08:00:00Z', '2025-W01'],
    ['2025-12-29T08:00:00Z', '2026-W01'],
    ['2020-12-31T08:00:00Z', '2020-W53'],
    ['2021-01-03T08:00:00Z', '2020-W53'],
  ])('%s is in %s', (instant, week) => {
    expect(weekOf(instant)).toBe(week);
  });

  it('counts in UTC, whatever the offset the instant was written with', () => {
    // Sunday 23:30 in UTC, already Monday in Berlin: still the week that ends that Sunday.
    expect(weekOf('2026-11-30T00:30:00+01:00')).toBe('2026-W48');
  });

  it('starts each week on Monday at midnight UTC', () => {
    expect(isoWeekStart(new Date('2027-01-03T23:59:59Z')).toISOString()).toBe('2026-12-28T00:00:00.000Z');
    expect(isoWeekStart(new Date('2026-09-07T00:00:00Z')).toISOString()).toBe('2026-09-07T00:00:00.000Z');
  });

  it('lists the last weeks oldest first, ending with the current one, across a year boundary', () => {
    expect(lastIsoWeeks(new Date('2027-01-13T10:00:00Z'), 4)).toEqual([
      { week: '2026-W52', start: '2026-12-21' },
      { week: '2026-W53', start: '2026-12-28' },
      { week: '2027-W01', start: '2027-01-04' },
      { week: '2027-W02', start: '2027-01-11' },
    ]);
    expect(lastIsoWeeks(new Date('2026-11-29T18:00:00Z'), 12).map((w) => w.week)).toEqual(
      Array.from({ length: 12 }, (_, i) => `2026-W${37 + i}`),
    );
  });

  it('reads the way the API writes a week, and nothing else', () => {
    expect(parseIsoWeek('2026-W07')).toEqual({ year: 2026, week: 7 });
    expect(parseIsoWeek('2026-W53')).toEqual({ year: 2026, week: 53 });
    for (const text of ['2026-W7', '2026-W00', '2026-W54', '2026-07', '']) expect(parseIsoWeek(text)).toBeUndefined();
  });
});
