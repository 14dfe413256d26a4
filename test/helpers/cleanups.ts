// Cleanups a test registers as it goes (temp repositories, servers, stores), run newest first after each test.
import { afterEach } from 'vitest';

/** Call once at a test file's top level; push cleanups onto the returned list. */
export function cleanupAfterEach(): Array<() => void> {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    while (cleanups.length) cleanups.pop()!();
  });
  return cleanups;
}
