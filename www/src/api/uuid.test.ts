import { describe, expect, it } from 'vitest';
import { uuidv7 } from './uuid';

describe('uuidv7', () => {
  it('is a version 7, RFC 9562 variant UUID', () => {
    expect(uuidv7()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('starts with the millisecond timestamp, so ids sort in creation order', () => {
    const zeros = (bytes: Uint8Array) => bytes;
    expect(uuidv7(0x0190a5c2d3e4, zeros)).toBe('0190a5c2-d3e4-7000-8000-000000000000');
    const ids = [1_700_000_000_000, 1_700_000_000_001, 1_800_000_000_000].map((t) => uuidv7(t));
    expect([...ids].sort()).toEqual(ids);
  });

  it('differs between calls in the same millisecond', () => {
    expect(uuidv7(1000)).not.toBe(uuidv7(1000));
  });
});
