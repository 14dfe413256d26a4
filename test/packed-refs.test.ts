// packed-refs read directly (src/git/packed-refs.ts): exactly what git lists for a file `git pack-refs` wrote, and
// null (ask git) for anything its writer would not produce.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePackedRefs, readPackedRefsFile } from '../src/git/packed-refs.ts';
import { refKeyFromBytes } from '../src/refs.ts';
import { cleanupAfterEach } from './helpers/cleanups.ts';
import { createUpstream, git } from './helpers/git-fixtures.ts';

const cleanups = cleanupAfterEach();

/** Every ref as git lists it, names as ref keys. */
function gitRefs(dir: string): Record<string, string> {
  const out = execFileSync('git', ['for-each-ref', '--format=%(objectname) %(refname)'], { cwd: dir });
  const refs: Record<string, string> = {};
  for (const line of out.toString('latin1').split('\n').filter(Boolean)) refs[refKeyFromBytes(Buffer.from(line.slice(41), 'latin1'))] = line.slice(0, 40);
  return refs;
}

describe('packed-refs', () => {
  it('reads what git pack-refs wrote: annotated tags peeled, names that are not UTF-8 kept as bytes', async () => {
    const u = createUpstream();
    cleanups.push(u.cleanup);
    const main = git(u.bare, 'rev-parse', 'refs/heads/main').trim();
    // Through the shell: argv from Node is UTF-8, and these bytes are not.
    execFileSync('sh', ['-c', `git update-ref "$(printf 'refs/heads/bad-\\377\\376')" ${main}`], { cwd: u.bare });
    execFileSync('git', ['update-ref', 'refs/notes/commits', main], { cwd: u.bare });
    git(u.bare, 'pack-refs', '--all', '--prune');
    const parsed = parsePackedRefs(readFileSync(join(u.bare, 'packed-refs')));
    expect(parsed).toEqual(gitRefs(u.bare));
    expect(Object.keys(parsed!)).toHaveLength(6);
    expect(parsed).toHaveProperty(['refs/heads/bad-\\xff\\xfe']);
    expect(await readPackedRefsFile(u.bare)).toEqual(parsed);
    rmSync(join(u.bare, 'packed-refs'));
    expect(await readPackedRefsFile(u.bare)).toEqual({});
  });

  it('answers null for anything git would not have written', () => {
    const a = `${'a'.repeat(40)}`;
    const b = `${'b'.repeat(40)}`;
    const header = '# pack-refs with: peeled fully-peeled sorted \n';
    expect(parsePackedRefs(Buffer.from(`${header}${a} refs/heads/a\n^${b}\n${b} refs/tags/t\n`))).toEqual({ 'refs/heads/a': a, 'refs/tags/t': b });
    for (const text of [
      `${header}${a} refs/heads/a`, // no final newline
      `# something else\n${a} refs/heads/a\n`,
      `${header}${b} refs/heads/b\n${a} refs/heads/a\n`, // out of order
      `${header}${a} refs/heads/a\n${a} refs/heads/a\n`, // repeated
      `${header}^${b}\n${a} refs/heads/a\n`, // a peeled line with no ref above it
      `${header}${a} refs/heads/a\n^${b}\n^${b}\n`, // peeled twice
      `${header}${a.slice(1)} refs/heads/a\n`, // not an object id
      `${header}${a} HEAD\n`, // not under refs/
      `${header}${a}  refs/heads/a\n`,
      `${header}\n`,
    ]) {
      expect(parsePackedRefs(Buffer.from(text)), JSON.stringify(text)).toBeNull();
    }
  });
});
