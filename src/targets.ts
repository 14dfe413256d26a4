// Turning what a user wrote ("owner/name", a URL, a path, a config entry) into RepoTargets. Pure.
import { basename, dirname } from 'node:path';
import { UsageError } from './errors.ts';
import { validateRemoteUrl } from './git/url.ts';
import { isValidOwner, isValidRepoName } from './naming.ts';
import type { RepoTarget } from './types.ts';

/** https://api.github.com -> https://github.com; https://ghe.example/api/v3 -> https://ghe.example */
export function serverUrlFromApiUrl(apiUrl: string): string {
  const url = new URL(apiUrl);
  if (url.hostname === 'api.github.com') return 'https://github.com';
  if (url.hostname.startsWith('api.')) return `${url.protocol}//${url.hostname.slice(4)}${url.port ? `:${url.port}` : ''}`;
  return `${url.protocol}//${url.host}`;
}

function target(owner: string, name: string, url: string): RepoTarget {
  if (!isValidOwner(owner)) throw new UsageError(`invalid repository owner ${JSON.stringify(owner)} (from ${url})`);
  if (!isValidRepoName(name)) throw new UsageError(`invalid repository name ${JSON.stringify(name)} (from ${url})`);
  return { owner, name, id: `${owner}/${name}`, url };
}

const stripGit = (name: string) => name.replace(/\.git$/, '');

/** Parse "owner/name", an https/ssh/file URL, or a local path. */
export function parseRepoSpec(spec: string, serverUrl: string): RepoTarget {
  const trimmed = spec.trim();
  const short = /^([^/:\s]+)\/([^/:\s]+)$/.exec(trimmed);
  if (short && !trimmed.startsWith('.') && !trimmed.startsWith('/')) {
    const [, owner, name] = short as unknown as [string, string, string];
    return target(owner, stripGit(name), `${serverUrl}/${owner}/${stripGit(name)}.git`);
  }
  const remote = validateRemoteUrl(trimmed);
  let path: string;
  if (remote.kind === 'path') path = remote.url;
  else if (remote.kind === 'ssh' && !remote.url.startsWith('ssh://')) path = remote.url.slice(remote.url.indexOf(':') + 1);
  else path = decodeURIComponent(new URL(remote.url).pathname);
  path = path.replace(/\/+$/, '');
  const name = stripGit(basename(path));
  const parent = basename(dirname(path));
  // Local upstreams rarely sit in an owner-named directory: fall back to "local".
  const owner = remote.kind === 'path' || remote.kind === 'file' ? (isValidOwner(parent) ? parent : 'local') : parent;
  return target(owner, name, remote.url);
}

export function explicitTarget(repo: string, url: string): RepoTarget {
  const [owner = '', name = '', ...rest] = repo.split('/');
  if (rest.length) throw new UsageError(`invalid repository ${JSON.stringify(repo)}: expected owner/name`);
  return target(owner, name, validateRemoteUrl(url).url);
}

/** https://github.com/acme/w and https://github.com/acme/w.git/ are the same source. */
function sameSource(a: string, b: string): boolean {
  const norm = (url: string) => url.replace(/\/+$/, '').replace(/\.git$/, '').replace(/^([a-z]+:\/\/[^/]+)/i, (host) => host.toLowerCase());
  return norm(a) === norm(b);
}

/** Later duplicates of the same owner/name are an error: two sources would fight over one mirror. */
export function dedupeTargets(targets: RepoTarget[]): RepoTarget[] {
  const byId = new Map<string, RepoTarget>();
  for (const t of targets) {
    const prev = byId.get(t.id);
    if (prev && !sameSource(prev.url, t.url)) throw new UsageError(`repository ${t.id} is configured twice with different sources: ${prev.url} and ${t.url}`);
    byId.set(t.id, t);
  }
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * The GitHub owner/name a remote URL names on this server (https://github.com/o/r.git, git@github.com:o/r.git,
 * ssh://git@github.com/o/r), or null for any other remote: its identity comes from its history alone.
 */
export function githubRepoOf(url: string, serverUrl: string): { owner: string; name: string } | null {
  const server = new URL(serverUrl);
  let host: string;
  let path: string;
  const scp = /^[A-Za-z0-9._-]+@([A-Za-z0-9.-]+):(.*)$/.exec(url);
  if (scp && !url.includes('://')) [host, path] = [scp[1]!, scp[2]!];
  else {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return null;
    }
    const sameWeb = (parsed.protocol === 'https:' || parsed.protocol === 'http:') && parsed.host.toLowerCase() === server.host.toLowerCase();
    if (!sameWeb && parsed.protocol !== 'ssh:') return null;
    [host, path] = [parsed.hostname, decodeURIComponent(parsed.pathname)];
  }
  if (host.toLowerCase() !== server.hostname.toLowerCase()) return null;
  const match = /^\/?([^/]+)\/([^/]+?)(?:\.git)?\/?$/.exec(path);
  if (!match || !isValidOwner(match[1]!) || !isValidRepoName(match[2]!)) return null;
  return { owner: match[1]!, name: match[2]! };
}

type ConfiguredEntry = string | { repo: string; url?: string } | { owner: string };

/**
 * `--repo OWNER/NAME` naming a configured entry picks that entry, with its `url:` (a mirror of another server, a
 * path): the configured source is the truth. Other picks stay as given.
 */
export function pickConfigured<E extends ConfiguredEntry>(picks: string[], configured: readonly E[]): Array<string | E> {
  const idOf = (entry: ConfiguredEntry): string | null => {
    if (typeof entry !== 'string') return 'repo' in entry ? entry.repo.toLowerCase() : null;
    try {
      return parseRepoSpec(entry, 'https://github.invalid').id.toLowerCase();
    } catch {
      return null;
    }
  };
  return picks.map((pick) => (/^[^/:\s]+\/[^/:\s]+$/.test(pick.trim()) ? configured.find((e) => idOf(e) === pick.trim().toLowerCase()) : undefined) ?? pick);
}
