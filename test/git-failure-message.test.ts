// git's multi-line stderr stays readable (its own indented lines), and a message never names a temporary directory
// of ours that is gone by the time the user reads it.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitFailureMessage } from '../src/git/git.ts';
import { createBackup, makeTempDir } from './helpers/git-fixtures.ts';

describe('git failure messages', () => {
  it('puts each stderr line on its own indented line', () => {
    expect(gitFailureMessage('fetch', '/b/immutable/acme/w.git', "fatal: one\nfatal: two\n\n")).toBe(
      'git fetch failed in /b/immutable/acme/w.git:\n    fatal: one\n    fatal: two',
    );
  });

  it('names the directory a temporary one sat in, not the temporary path', () => {
    expect(gitFailureMessage('fetch', '/b/immutable/acme/.tmp-init-w-0a1b2c3d', 'fatal: x')).toBe('git fetch failed in a temporary directory in /b/immutable/acme:\n    fatal: x');
  });

  it('a first sync from a missing upstream reports git\'s lines and only paths that exist', async () => {
    const missing = join(makeTempDir(), 'acme', 'gone.git');
    const b = createBackup([], { repositories: [missing] });
    const result = await b.engine.sync();
    const outcome = result.outcomes[0]!;
    expect(outcome.ok).toBe(false);
    const error = outcome.ok ? '' : outcome.error;
    expect(error).toMatch(/\n {4}\S/);
    expect(error).not.toMatch(/\.tmp-/);
    for (const path of error.match(/\/[^\s:'"]+/g) ?? []) {
      if (path.startsWith(b.root)) expect(existsSync(path), `${path} named in the error exists`).toBe(true);
    }
  });
});
