import { describe, expect, it } from 'vitest';
import { formatDuration, instantFromDateTimeLocal, isoDuration, toDateTimeLocalValue } from './time';

describe('datetime-local values', () => {
  it('shows a moment in local time to the second, leaving out zero seconds as browsers do', () => {
    expect(toDateTimeLocalValue(new Date(2025, 10, 25, 9, 5, 7))).toBe('2025-11-25T09:05:07');
    expect(toDateTimeLocalValue(new Date(2025, 0, 2, 23, 40, 0))).toBe('2025-01-02T23:40');
  });

  it('turns a local value into a UTC instant, whatever the time zone', () => {
    const moment = new Date(2025, 10, 25, 9, 5, 7);
    expect(instantFromDateTimeLocal(toDateTimeLocalValue(moment))).toBe(moment.toISOString());
    expect(instantFromDateTimeLocal('2025-11-25T09:05')).toBe(new Date(2025, 10, 25, 9, 5, 0).toISOString());
  });

  it.each(['', '2025-11-25', 'yesterday', '2025-13-45T99:00'])('%j is not a moment', (value) => {
    expect(instantFromDateTimeLocal(value)).toBeNull();
  });
});

describe('durations', () => {
  it.each([
    [0, 'under 1 s'],
    [0.4, 'under 1 s'],
    [0.6, '1 s'],
    [45, '45 s'],
    [59.6, '1 min'],
    [90, '1 min 30 s'],
    [5400, '1 h 30 min'],
    [7500, '2 h 5 min'],
    [7200, '2 h'],
    [3599.8, '1 h'],
    [3629, '1 h'],
    [3631, '1 h 1 min'],
    [86400 * 3 + 3600 * 4 + 1800, '3 d 5 h'],
    [86400 * 40, '40 d'],
  ])('%d seconds read as %j', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });

  it('writes the same length as an ISO 8601 duration for machines', () => {
    expect(isoDuration(7500)).toBe('PT2H5M');
    expect(isoDuration(86400 * 3 + 3600 * 4)).toBe('P3DT4H');
    expect(isoDuration(86400)).toBe('P1D');
    expect(isoDuration(45.4)).toBe('PT45S');
    expect(isoDuration(0)).toBe('PT0S');
  });
});
