// Expands a whole owner (organization or user) into its repositories through the GitHub REST API, with pagination.
// The network part is one function; the selection (archived, forks, exclusions, order) is a pure function beside it.
import { UsageError } from '../errors.ts';
import { describeApiError, isHttpError } from './api-errors.ts';
import { createGitHubClient, type GitHubClientOptions, type GitHubToken } from './client.ts';
import { Redactor } from '../redact.ts';

export type OwnerType = 'org' | 'user' | 'auto';

export interface OwnerRepository {
  owner: string;
  name: string;
  /** https clone URL as GitHub reports it; never carries credentials. */
  cloneUrl: string;
  private: boolean;
  archived: boolean;
  fork: boolean;
}

export interface OwnerSelection {
  includeArchived: boolean;
  includeForks: boolean;
  /** Repository names (or owner/name) to leave out; `*` matches any run of characters. Case-insensitive. */
  exclude: string[];
}

export interface ListOwnerOptions extends OwnerSelection {
  apiUrl: string;
  token?: GitHubToken;
  /** Told every response's headers (the rate-limit budget). */
  onResponse?: GitHubClientOptions['onResponse'];
  owner: string;
  type: OwnerType;
  /** Injected for tests and proxies; defaults to the global fetch. */
  fetch?: typeof fetch;
}

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`, 'i');
}

/** Pure: keep what the selection asks for, sorted by owner then name (case-insensitive, stable across runs). */
export function selectRepositories(repos: readonly OwnerRepository[], selection: OwnerSelection): OwnerRepository[] {
  const excludes = selection.exclude.map(globToRegExp);
  return repos
    .filter((r) => selection.includeArchived || !r.archived)
    .filter((r) => selection.includeForks || !r.fork)
    .filter((r) => !excludes.some((x) => x.test(r.name) || x.test(`${r.owner}/${r.name}`)))
    .slice()
    .sort((a, b) => {
      const ka = `${a.owner}/${a.name}`.toLowerCase();
      const kb = `${b.owner}/${b.name}`.toLowerCase();
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
}

interface ApiRepository {
  name: string;
  owner: { login: string } | null;
  clone_url?: string;
  private: boolean;
  archived?: boolean;
  fork: boolean;
}

function toOwnerRepository(r: ApiRepository, fallbackOwner: string): OwnerRepository {
  const owner = r.owner?.login ?? fallbackOwner;
  return {
    owner,
    name: r.name,
    cloneUrl: r.clone_url ?? `https://github.com/${owner}/${r.name}.git`,
    private: r.private,
    archived: r.archived ?? false,
    fork: r.fork,
  };
}

/**
 * List the repositories of an organization or user, private ones included when the token can see them.
 *
 * - org: GET /orgs/{org}/repos?type=all
 * - the authenticated user's own login: GET /user/repos?affiliation=owner&visibility=all (the only listing that
 *   returns the user's private repositories)
 * - another user: GET /users/{user}/repos?type=owner (public ones only: GitHub shows nothing more)
 * - auto: GET /users/{owner} decides between the two by its `type`.
 */
export async function listOwnerRepositories(options: ListOwnerOptions): Promise<OwnerRepository[]> {
  const { owner } = options;
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/.test(owner)) {
    throw new UsageError(`invalid GitHub owner name ${JSON.stringify(owner)}`);
  }
  const redactor = new Redactor();
  if (typeof options.token === 'string') redactor.add(options.token);
  const octokit = createGitHubClient(options);

  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      throw describeApiError(error, what, redactor);
    }
  };

  let type = options.type;
  if (type === 'auto') {
    const { data } = await call(`looking up owner ${owner}`, () => octokit.rest.users.getByUsername({ username: owner }));
    type = data.type === 'Organization' ? 'org' : 'user';
  }

  let raw: ApiRepository[];
  if (type === 'org') {
    raw = await call(`listing repositories of organization ${owner}`, () =>
      octokit.paginate(octokit.rest.repos.listForOrg, { org: owner, type: 'all', per_page: 100 }),
    );
  } else {
    let self: string | undefined;
    if (options.token) {
      try {
        self = (await octokit.rest.users.getAuthenticated()).data.login;
      } catch (error) {
        // A GitHub App installation token has no user behind it (403): list the user's repositories publicly.
        if (!isHttpError(error) || error.status !== 403 || String(error.response?.headers?.['x-ratelimit-remaining']) === '0') {
          throw describeApiError(error, 'identifying the token owner', redactor);
        }
      }
    }
    if (self && self.toLowerCase() === owner.toLowerCase()) {
      const all = await call(`listing repositories of user ${owner}`, () =>
        octokit.paginate(octokit.rest.repos.listForAuthenticatedUser, { affiliation: 'owner', visibility: 'all', per_page: 100 }),
      );
      raw = all;
    } else {
      raw = await call(`listing repositories of user ${owner}`, () =>
        octokit.paginate(octokit.rest.repos.listForUser, { username: owner, type: 'owner', per_page: 100 }),
      );
    }
  }
  return selectRepositories(
    raw.map((r) => toOwnerRepository(r, owner)),
    options,
  );
}
