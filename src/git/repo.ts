// Repository-level git operations used by the engine. Ref names are always read through git, never the filesystem.
import { BackupError } from '../errors.ts';
import type { GitCommandManager } from './git.ts';
import type { HeadCommit } from '../types.ts';
import { refKeyFromBytes, refKeyToBytes, type RefKey, type RefMap } from '../refs.ts';

/** Refs under `dir` (all of them, or those under the given prefixes), keyed losslessly by their bytes. */
export async function readRefs(git: GitCommandManager, dir: string, prefixes: string[] = []): Promise<RefMap> {
  const out = await git.runBytes(dir, ['for-each-ref', '--format=%(objectname) %(refname)', ...prefixes]);
  return parseRefLines(out, false).refs;
}

export interface RefsAndHead {
  refs: RefMap;
  /** The ref HEAD points to; null when HEAD is detached or names no existing ref (unborn). */
  headRef: RefKey | null;
}

/** Every ref and the one HEAD points to, in one git call: %(HEAD) marks HEAD's ref with "*". */
export async function readRefsAndHead(git: GitCommandManager, dir: string): Promise<RefsAndHead> {
  return parseRefLines(await git.runBytes(dir, ['for-each-ref', '--format=%(objectname) %(HEAD)%(refname)']), true);
}

/**
 * "<oid> <name>" lines, or "<oid> <mark><name>" where the mark is "*" or " "; a name is any bytes up to the newline
 * git never allows in one.
 */
function parseRefLines(out: Buffer, marked: boolean): RefsAndHead {
  const refs: RefMap = {};
  let headRef: RefKey | null = null;
  const skip = marked ? 2 : 1;
  for (let start = 0; start < out.length; ) {
    let end = out.indexOf(0x0a, start);
    if (end < 0) end = out.length;
    const space = out.indexOf(0x20, start);
    if (space > start && space + skip < end) {
      const key = refKeyFromBytes(out.subarray(space + skip, end));
      refs[key] = out.toString('latin1', start, space);
      if (marked && out[space + 1] === 0x2a) headRef = key;
    }
    start = end + 1;
  }
  return { refs, headRef };
}

export interface RemoteRefs {
  refs: RefMap;
  /** The branch the remote's HEAD points to, when it says. */
  headRef: RefKey | null;
}

/** `git ls-remote --symref`, optionally limited to some patterns (e.g. HEAD). */
export async function lsRemote(git: GitCommandManager, cwd: string, url: string, patterns: string[] = []): Promise<RemoteRefs> {
  const out = await git.runBytes(cwd, ['ls-remote', '--symref', '--', url, ...patterns], { auth: true });
  const refs: RefMap = {};
  let headRef: RefKey | null = null;
  for (let start = 0; start < out.length; ) {
    let end = out.indexOf(0x0a, start);
    if (end < 0) end = out.length;
    const line = out.subarray(start, end);
    start = end + 1;
    const tab = line.indexOf(0x09);
    if (tab < 0) continue;
    const left = line.toString('latin1', 0, tab);
    const name = line.subarray(tab + 1);
    if (left.startsWith('ref: ')) {
      if (name.toString('latin1') === 'HEAD') headRef = refKeyFromBytes(Buffer.from(left.slice(5), 'latin1'));
      continue;
    }
    const key = refKeyFromBytes(name);
    // Peeled tag lines (^{}) and HEAD are not refs we store.
    if (key.startsWith('refs/') && !key.endsWith('^{}')) refs[key] = left;
  }
  return { refs, headRef };
}

export async function headRefOf(git: GitCommandManager, dir: string): Promise<RefKey | null> {
  const out = await git.runBytes(dir, ['symbolic-ref', '-q', 'HEAD'], { okExitCodes: [1] });
  const name = out.subarray(0, out.at(-1) === 0x0a ? -1 : undefined);
  return name.length ? refKeyFromBytes(name) : null;
}

export type RefUpdate =
  | { op: 'create'; ref: RefKey; to: string }
  | { op: 'update'; ref: RefKey; from: string; to: string }
  | { op: 'delete'; ref: RefKey; from: string };

/**
 * Apply every update as ONE transaction (`update-ref --stdin -z`): all of them or none. Each carries the value it
 * expects to replace, so a ref that changed meanwhile fails the whole transaction instead of being overwritten.
 */
export async function updateRefs(git: GitCommandManager, dir: string, updates: readonly RefUpdate[]): Promise<void> {
  if (!updates.length) return;
  // An explicit start/prepare/commit: git answers "<verb>: ok" for each, so the commit is confirmed, not assumed.
  const parts: Buffer[] = [Buffer.from('start\0')];
  const field = (text: string) => parts.push(Buffer.from(`${text}\0`, 'latin1'));
  for (const u of updates) {
    parts.push(Buffer.from(`${u.op} `), refKeyToBytes(u.ref), Buffer.from([0]));
    if (u.op !== 'delete') field(u.to);
    if (u.op !== 'create') field(u.from);
  }
  parts.push(Buffer.from('prepare\0commit\0'));
  const answer = await git.run(dir, ['update-ref', '--stdin', '-z'], { input: Buffer.concat(parts) });
  if (!answer.includes('commit: ok')) throw new BackupError(`git update-ref in ${dir} did not commit its transaction: ${answer.trim()}`);
}

/**
 * What the refs under `staged` (a glob) bring that the other refs do not have: their root commits, and whether
 * any of it descends from a commit already here. One walk over the new commits only.
 */
export async function newHistory(git: GitCommandManager, dir: string, staged: string, stagingGlob: string): Promise<{ commits: number; roots: string[]; connected: boolean }> {
  const range = [`--glob=${staged}`, '--not', `--exclude=${stagingGlob}`, '--all'];
  const walked = (await git.run(dir, ['rev-list', '--boundary', ...range])).split('\n').filter(Boolean);
  const boundary = walked.filter((line) => line.startsWith('-')).length;
  const commits = walked.length - boundary;
  const roots = commits ? (await git.run(dir, ['rev-list', '--max-parents=0', ...range])).split('\n').filter(Boolean) : [];
  return { commits, roots, connected: boundary > 0 };
}

/** Root commits of everything in the repository (a full walk: for a mirror with no recorded roots). */
export async function rootCommits(git: GitCommandManager, dir: string, exclude: string): Promise<string[]> {
  return (await git.run(dir, ['rev-list', '--max-parents=0', `--exclude=${exclude}`, '--all'])).split('\n').filter(Boolean);
}

/** HEAD's commit; null when HEAD is unborn or names no commit (--ignore-missing: then git prints nothing). */
export async function headCommit(git: GitCommandManager, dir: string): Promise<HeadCommit | null> {
  // NUL-separated so quotes, newlines and any bytes in a subject survive.
  const out = await git.run(dir, ['log', '-1', '--ignore-missing', '--no-show-signature', '--format=%H%x00%cI%x00%s', 'HEAD^{commit}', '--']);
  if (!out) return null;
  const [hash = '', date = '', subject = ''] = out.replace(/\n$/, '').split('\0');
  return { hash, date, subject };
}

export async function isAncestor(git: GitCommandManager, dir: string, from: string, to: string): Promise<boolean> {
  // Exit 1 = not an ancestor; an error (a retargeted tag of a blob, say) counts as a rewrite too.
  return git.test(dir, ['merge-base', '--is-ancestor', from, to]).catch(() => false);
}

/** Which of `oids` the repository at `dir` does not hold: one git process for all of them. */
export async function missingObjects(git: GitCommandManager, dir: string, oids: readonly string[]): Promise<Set<string>> {
  if (!oids.length) return new Set();
  const out = await git.run(dir, ['cat-file', '--batch-check=%(objectname)'], { input: Buffer.from(`${oids.join('\n')}\n`) });
  // A missing object's line is "<oid> missing"; a present one's is its name alone.
  return new Set(out.split('\n').filter((line) => line.endsWith(' missing')).map((line) => line.slice(0, -' missing'.length)));
}

/**
 * git's complaints about the repository, none when it is sound. `full` re-hashes every object; `connectivity` only
 * checks that every object the refs need is there (commits and trees are read, blobs are not).
 */
export async function fsck(git: GitCommandManager, dir: string, mode: 'full' | 'connectivity' = 'full'): Promise<string[]> {
  const depth = mode === 'full' ? ['--full', '--strict'] : ['--connectivity-only'];
  try {
    await git.run(dir, ['fsck', ...depth, '--no-dangling', '--no-progress']);
    return [];
  } catch (error) {
    return (error as Error).message.split('\n').filter((l) => l.trim());
  }
}

export async function readRepoConfigUrl(git: GitCommandManager, dir: string): Promise<string | null> {
  const out = await git.run(dir, ['config', '--get', 'remote.origin.url'], { okExitCodes: [1] });
  return out.trim() || null;
}
