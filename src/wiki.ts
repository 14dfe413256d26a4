// A GitHub repository's wiki, `<repo>.wiki.git`, is backed up as a repository of its own: the companion target
// `owner/name.wiki`, with its own mirror, snapshots, verify, retention, store push and restore (docs/OPERATIONS.md
// "The wiki"). GitHub reserves the `.wiki` suffix, so a companion can never be a real repository. Pure.
import { captures } from './capture-switches.ts';
import { isValidRepoName } from './naming.ts';
import { githubRepoOf } from './targets.ts';
import type { RepoTarget } from './types.ts';

const WIKI = '.wiki';

/** The repository whose wiki `target` is (its owner and name under the root), or null when it is not a wiki on GitHub. */
export function wikiParentRefOf(target: RepoTarget, serverUrl: string): { owner: string; name: string } | null {
  const named = githubRepoOf(target.url, serverUrl);
  if (!named?.name.endsWith(WIKI) || named.name === WIKI || !target.name.endsWith(WIKI)) return null;
  return { owner: target.owner, name: target.name.slice(0, -WIKI.length) };
}

/** The id of the repository whose wiki `target` is, or null when it is not a wiki on GitHub. */
export function wikiParentOf(target: RepoTarget, serverUrl: string): string | null {
  const parent = wikiParentRefOf(target, serverUrl);
  return parent ? `${parent.owner}/${parent.name}` : null;
}

/** https://github.com/o/r.git -> https://github.com/o/r.wiki.git (git@github.com:o/r.git likewise). */
export function wikiUrlOf(url: string): string {
  return `${url.replace(/\/+$/, '').replace(/\.git$/, '')}${WIKI}.git`;
}

/** The wiki companion of a GitHub repository whose wiki is not switched off; null for anything else. */
export function wikiTargetOf(target: RepoTarget, serverUrl: string): RepoTarget | null {
  const name = `${target.name}${WIKI}`;
  // A 96-character name has no room for the suffix in our layout; GitHub names rarely come close.
  if (!captures(target, 'wiki', serverUrl) || wikiParentOf(target, serverUrl) || !isValidRepoName(name)) return null;
  return { owner: target.owner, name, id: `${target.owner}/${name}`, url: wikiUrlOf(target.url), ...(target.metadata ? { metadata: target.metadata } : {}) };
}
