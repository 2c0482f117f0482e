import { describe, expect, it } from 'vitest';
import { charCount, validateTodo } from './validation';

describe('validateTodo', () => {
  it('requires a non-blank title', () => {
    expect(validateTodo({ title: '   ', notes: '' }).title).toBe('Enter a title.');
    expect(validateTodo({ title: 'ok', notes: '' })).toEqual({});
  });

  it('limits the title to 200 and the notes to 2000 characters', () => {
    expect(validateTodo({ title: 'a'.repeat(200), notes: 'b'.repeat(2000) })).toEqual({});
    expect(validateTodo({ title: 'a'.repeat(201), notes: '' }).title).toMatch(/201 characters long; the limit is 200/);
    expect(validateTodo({ title: 'a', notes: 'b'.repeat(2001) }).notes).toMatch(/limit is 2000/);
  });

  it('counts characters, not UTF-16 units', () => {
    expect(charCount('👍🏽')).toBe(2);
    expect(validateTodo({ title: '😀'.repeat(200), notes: '' })).toEqual({});
  });
});
