// LFS objects in a mirror (docs/OPERATIONS.md "LFS objects"): where git-lfs keeps them, and where their content
// must come from. Pure.
import { githubRepoOf } from './targets.ts';
import type { RepoTarget } from './types.ts';

/** git-lfs's object store inside a bare repository: lfs/objects/<oid[0:2]>/<oid[2:4]>/<oid>, the oid a sha256. */
const LFS_OBJECT = /^lfs\/objects\/([0-9a-f]{2})\/([0-9a-f]{2})\/([0-9a-f]{64})$/;

/** The oid an LFS object file is named by (its content's sha256), or null for any other path. */
export function lfsOidOf(relPath: string): string | null {
  const match = LFS_OBJECT.exec(relPath);
  if (!match) return null;
  const [, first, second, oid] = match as unknown as [string, string, string, string];
  return oid.startsWith(first + second) ? oid : null;
}

/** Files git-lfs writes beside its objects (tmp/, logs/, incomplete/): transient, never part of a snapshot. */
export function isLfsScratch(relPath: string): boolean {
  return relPath.startsWith('lfs/') && !/^lfs\/objects(\/|$)/.test(relPath);
}

/**
 * GitHub's own LFS endpoint of a repository on GitHub, `<server>/<owner>/<name>.git/info/lfs`, or null for any other
 * remote. The only place LFS content is fetched from, whatever a `.lfsconfig` in the repository names.
 */
export function lfsEndpointOf(target: RepoTarget, serverUrl: string): string | null {
  const named = githubRepoOf(target.url, serverUrl);
  return named ? `${serverUrl}/${named.owner}/${named.name}.git/info/lfs` : null;
}
