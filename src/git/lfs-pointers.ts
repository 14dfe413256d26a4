// Does new history bring Git LFS pointers? The blobs under 1024 bytes (git-lfs reads nothing larger as a pointer)
// reachable from `tips` and not from `since`, read by git: one rev-list, one cat-file (docs/OPERATIONS.md "LFS
// objects": how a repository without LFS skips git-lfs).
import type { GitCommandManager } from './git.ts';

// The pointer's first line (git-lfs's spec; "hawser" is its name before 1.0).
const POINTER = /^version https:\/\/(git-lfs|hawser)\.github\.com\/spec\/v1\n/;
/** More candidates than this and reading them costs what git-lfs's own scan does: the caller lets git-lfs scan. */
export const MAX_CANDIDATES = 200_000;

/** true: a pointer is among them; false: none is; null: too many to read (MAX_CANDIDATES). */
export async function bringsLfsPointers(git: GitCommandManager, dir: string, tips: readonly string[], since: readonly string[]): Promise<boolean | null> {
  if (!tips.length) return false;
  const revs = Buffer.from(`${[...tips, ...since.map((oid) => `^${oid}`)].join('\n')}\n`);
  // Commits are listed too (a filter leaves them in); their type tells them apart below.
  const listed = await git.run(dir, ['rev-list', '--objects', '--no-object-names', '--filter=combine:blob:limit=1024+object:type=blob', '--stdin'], { input: revs });
  const candidates = listed.split('\n').filter(Boolean);
  if (candidates.length > MAX_CANDIDATES) return null;
  if (!candidates.length) return false;
  const out = await git.runBytes(dir, ['cat-file', '--batch'], { input: Buffer.from(`${candidates.join('\n')}\n`) });
  // "<oid> <type> <size>\n<content>\n" for each.
  for (let at = 0; at < out.length; ) {
    const eol = out.indexOf(0x0a, at);
    if (eol < 0) break;
    const [, type, size] = out.toString('latin1', at, eol).split(' ');
    const length = Number(size);
    if (type === 'blob' && POINTER.test(out.toString('latin1', eol + 1, eol + 1 + Math.min(length, 64)))) return true;
    at = eol + 1 + length + 1;
  }
  return false;
}
