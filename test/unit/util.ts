import { expect } from 'vitest';
import { InvalidArgumentError } from '../../core/index.js';

/** Runs fn and returns the InvalidArgumentError it throws (fails the test otherwise). */
export function invalid(fn: () => unknown): InvalidArgumentError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidArgumentError);
    return e as InvalidArgumentError;
  }
  throw new Error('expected an InvalidArgumentError, nothing was thrown');
}
