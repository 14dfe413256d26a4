// The git data of a restore target on the API stand-in (test/helpers/github-restore-target.ts): a real bare
// repository (the one restore --push pushed into), asked as GitHub asks its own: which branches and commits exist,
// and which lines of a file a pull request's or a commit's diff shows, so a review comment or commit comment on a line
// outside the diff is refused as GitHub refuses it.
import { execFileSync } from 'node:child_process';

const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

/** The lines a diff of one file shows: old-file line numbers (LEFT), new-file ones (RIGHT), and its positions. */
export interface DiffLines {
  left: Set<number>;
  right: Set<number>;
  /** Lines after the file's first `@@` header, later headers included: GitHub's `position` runs 1..positions. */
  positions: number;
}

export function parseDiffLines(diff: string): DiffLines | null {
  const lines = diff.split('\n');
  const first = lines.findIndex((l) => l.startsWith('@@'));
  if (first < 0) return null;
  const result: DiffLines = { left: new Set(), right: new Set(), positions: 0 };
  let oldLine = 0;
  let newLine = 0;
  let seenHeader = false;
  for (const line of lines.slice(first)) {
    const header = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(line);
    if (header) {
      oldLine = Number(header[1]);
      newLine = Number(header[2]);
      if (seenHeader) result.positions++;
      seenHeader = true;
      continue;
    }
    if (line === '' || line.startsWith('\\')) continue;
    result.positions++;
    if (line.startsWith('-')) result.left.add(oldLine++);
    else if (line.startsWith('+')) result.right.add(newLine++);
    else {
      result.left.add(oldLine++);
      result.right.add(newLine++);
    }
  }
  return result;
}

export class TargetGit {
  constructor(readonly gitDir: string) {}

  private git(...args: string[]): string {
    return execFileSync('git', ['--git-dir', this.gitDir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } });
  }

  private tryGit(...args: string[]): string | null {
    try {
      return this.git(...args).trim();
    } catch {
      return null;
    }
  }

  hasBranch(name: string): boolean {
    return this.tryGit('rev-parse', '--verify', '--quiet', `refs/heads/${name}`) !== null;
  }

  hasCommit(sha: string): boolean {
    return /^[0-9a-f]{40}$/.test(sha) && this.tryGit('cat-file', '-e', `${sha}^{commit}`) !== null;
  }

  /** Commits on `head` that `base` lacks: GitHub opens no pull request without one. */
  commitsBetween(base: string, head: string): number {
    return Number(this.tryGit('rev-list', '--count', `refs/heads/${base}..refs/heads/${head}`) ?? 0);
  }

  /** What a pull request into `base` shows of `path` as of `commit`: the diff from their merge base. */
  pullDiff(base: string, commit: string, path: string): DiffLines | null {
    const from = this.tryGit('merge-base', `refs/heads/${base}`, commit);
    return from === null ? null : parseDiffLines(this.git('diff', '--no-color', '--unified=3', from, commit, '--', path));
  }

  /** What commit `sha` changed in `path`. */
  commitDiff(sha: string, path: string): DiffLines | null {
    const parent = this.tryGit('rev-parse', '--verify', '--quiet', `${sha}^`) ?? EMPTY_TREE;
    return parseDiffLines(this.git('diff', '--no-color', '--unified=3', parent, sha, '--', path));
  }
}
