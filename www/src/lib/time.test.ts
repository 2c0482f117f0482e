import { describe, expect, it } from 'vitest';
import { instantFromDateTimeLocal, toDateTimeLocalValue } from './time';

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
