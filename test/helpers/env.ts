// Environment settings a test needs for a while (BACKUP_RETRY_BASE_MS makes a "second" of waiting a few ms, see
// src/github/client.ts), put back as they were afterwards, unset ones unset again.
import { afterAll, beforeAll } from 'vitest';

/** Set `vars` now; the returned function restores what was there before. */
export function setEnv(vars: Record<string, string>): () => void {
  const saved = Object.entries(vars).map(([name]) => [name, process.env[name]] as const);
  Object.assign(process.env, vars);
  return () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

/** Call once at a test file's top level: `vars` hold for the file's tests. */
export function envForFile(vars: Record<string, string>): void {
  let restore = () => {};
  beforeAll(() => void (restore = setEnv(vars)));
  afterAll(() => restore());
}
