// Repository-level git operations used by the engine. Ref names are always read through git, never the filesystem.
import type { GitCommandManager } from './git.ts';
import type { HeadCommit } from '../types.ts';
import type { RefMap } from '../refs.ts';

export async function readRefs(git: GitCommandManager, dir: string): Promise<RefMap> {
  const out = await git.run(dir, ['for-each-ref', '--format=%(objectname) %(refname)']);
  return parseRefLines(out);
}

function parseRefLines(out: string): RefMap {
  const refs: RefMap = {};
  for (const line of out.split('\n')) {
    if (!line) continue;
    const space = line.indexOf(' ');
    refs[line.slice(space + 1)] = line.slice(0, space);
  }
  return refs;
}

export interface RemoteRefs {
  refs: RefMap;
  /** The branch the remote's HEAD points to, when it says. */
  headRef: string | null;
}

export async function lsRemote(git: GitCommandManager, cwd: string, url: string): Promise<RemoteRefs> {
  const out = await git.run(cwd, ['ls-remote', '--symref', '--', url], { auth: true });
  const refs: RefMap = {};
  let headRef: string | null = null;
  for (const line of out.split('\n')) {
    if (!line) continue;
    const symref = /^ref: (\S+)\tHEAD$/.exec(line);
    if (symref) {
      headRef = symref[1]!;
      continue;
    }
    const [oid, name] = line.split('\t') as [string, string];
    // Peeled tag lines (^{}) and HEAD are not refs we store.
    if (name && name.startsWith('refs/') && !name.endsWith('^{}')) refs[name] = oid;
  }
  return { refs, headRef };
}

export async function headRefOf(git: GitCommandManager, dir: string): Promise<string | null> {
  const out = await git.run(dir, ['symbolic-ref', '-q', 'HEAD'], { okExitCodes: [1] });
  return out.trim() || null;
}

export async function headCommit(git: GitCommandManager, dir: string): Promise<HeadCommit | null> {
  const ok = await git.test(dir, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']);
  if (!ok) return null;
  // NUL-separated so quotes, newlines and any bytes in a subject survive.
  const out = await git.run(dir, ['log', '-1', '--no-show-signature', '--format=%H%x00%cI%x00%s', 'HEAD']);
  const [hash = '', date = '', subject = ''] = out.replace(/\n$/, '').split('\0');
  return { hash, date, subject };
}

export async function isAncestor(git: GitCommandManager, dir: string, from: string, to: string): Promise<boolean> {
  // Exit 1 = not an ancestor; an error (a retargeted tag of a blob, say) counts as a rewrite too.
  return git.test(dir, ['merge-base', '--is-ancestor', from, to]).catch(() => false);
}

export async function fsck(git: GitCommandManager, dir: string): Promise<string[]> {
  try {
    await git.run(dir, ['fsck', '--full', '--strict', '--no-dangling', '--no-progress']);
    return [];
  } catch (error) {
    return (error as Error).message.split('\n').filter((l) => l.trim());
  }
}

export async function readRepoConfigUrl(git: GitCommandManager, dir: string): Promise<string | null> {
  const out = await git.run(dir, ['config', '--get', 'remote.origin.url'], { okExitCodes: [1] });
  return out.trim() || null;
}
