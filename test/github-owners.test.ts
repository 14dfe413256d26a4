import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode, exitCodeOf } from '../src/errors.ts';
import { listOwnerRepositories, selectRepositories, type OwnerRepository } from '../src/github/owners.ts';
import { GitHubStandIn, badCredentials, paginate, rateLimited } from './helpers/github-standin.ts';

const TOKEN = 'ghp_FAKEtokenFAKEtokenFAKEtoken1234567890';

function apiRepo(owner: string, name: string, extra: Partial<{ private: boolean; archived: boolean; fork: boolean }> = {}) {
  return {
    id: name.length,
    name,
    full_name: `${owner}/${name}`,
    owner: { login: owner, type: 'Organization' },
    clone_url: `https://github.com/${owner}/${name}.git`,
    private: extra.private ?? false,
    archived: extra.archived ?? false,
    fork: extra.fork ?? false,
  };
}

describe('selectRepositories (pure)', () => {
  const repo = (name: string, extra: Partial<OwnerRepository> = {}): OwnerRepository => ({
    owner: 'acme',
    name,
    cloneUrl: `https://github.com/acme/${name}.git`,
    private: false,
    archived: false,
    fork: false,
    ...extra,
  });

  it('drops archived repositories and forks unless asked, honours exclusions with globs, sorts by name', () => {
    const repos = [repo('zeta'), repo('Alpha'), repo('old', { archived: true }), repo('copy', { fork: true }), repo('tmp-1'), repo('tmp-2')];
    const names = (list: OwnerRepository[]) => list.map((r) => r.name);
    expect(names(selectRepositories(repos, { includeArchived: false, includeForks: false, exclude: ['tmp-*'] }))).toEqual(['Alpha', 'zeta']);
    expect(names(selectRepositories(repos, { includeArchived: true, includeForks: true, exclude: ['acme/ZETA'] }))).toEqual([
      'Alpha',
      'copy',
      'old',
      'tmp-1',
      'tmp-2',
    ]);
  });
});

describe('listOwnerRepositories against a stand-in GitHub API', () => {
  let api: GitHubStandIn;
  beforeEach(async () => {
    api = await new GitHubStandIn().start();
  });
  afterEach(async () => {
    await api.close();
  });

  it('follows every page of an organization listing (type=all) and applies the selection', async () => {
    const repos = Array.from({ length: 250 }, (_, i) => apiRepo('acme', `repo-${String(i).padStart(3, '0')}`, { private: i % 2 === 0, archived: i === 7, fork: i === 8 }));
    api.on('GET', '/orgs/acme/repos', (req) => paginate(api, req, repos));

    const result = await listOwnerRepositories({ apiUrl: api.url, token: TOKEN, owner: 'acme', type: 'org', includeArchived: false, includeForks: false, exclude: ['repo-249'] });

    expect(api.calls).toEqual([
      'GET /orgs/acme/repos?type=all&per_page=100',
      'GET /orgs/acme/repos?type=all&per_page=100&page=2',
      'GET /orgs/acme/repos?type=all&per_page=100&page=3',
    ]);
    expect(api.requests.every((r) => r.headers.authorization === `token ${TOKEN}`)).toBe(true);
    expect(result).toHaveLength(250 - 3);
    expect(result[0]).toEqual({ owner: 'acme', name: 'repo-000', cloneUrl: 'https://github.com/acme/repo-000.git', private: true, archived: false, fork: false });
    expect(result.map((r) => r.name)).not.toContain('repo-007');
    expect(result.map((r) => r.name)).not.toContain('repo-008');
    expect(result.filter((r) => r.private)).toHaveLength(124);
  });

  it('auto: asks /users/{owner} for the type, and lists the token owner through /user/repos so private ones come', async () => {
    api.on('GET', '/users/octo', () => ({ status: 200, body: { login: 'octo', type: 'User' } }));
    api.on('GET', '/user', () => ({ status: 200, body: { login: 'Octo', type: 'User' } }));
    const mine = Array.from({ length: 120 }, (_, i) => apiRepo('octo', `r${i}`, { private: true }));
    // /user/repos with affiliation=owner answers repos the user owns, and nothing else.
    api.on('GET', '/user/repos', (req) => paginate(api, req, req.query.affiliation === 'owner' ? mine : []));

    const result = await listOwnerRepositories({ apiUrl: api.url, token: TOKEN, owner: 'octo', type: 'auto', includeArchived: false, includeForks: false, exclude: [] });

    expect(api.calls).toEqual([
      'GET /users/octo',
      'GET /user',
      'GET /user/repos?affiliation=owner&visibility=all&per_page=100',
      'GET /user/repos?affiliation=owner&visibility=all&per_page=100&page=2',
    ]);
    expect(result).toHaveLength(120);
    expect(result.every((r) => r.private)).toBe(true);
  });

  it('another user: lists /users/{user}/repos?type=owner; an organization found by auto uses /orgs', async () => {
    api.on('GET', '/user', () => ({ status: 200, body: { login: 'me' } }));
    api.on('GET', '/users/other/repos', (req) => paginate(api, req, [apiRepo('other', 'b'), apiRepo('other', 'a')]));
    api.on('GET', '/users/bigco', () => ({ status: 200, body: { login: 'bigco', type: 'Organization' } }));
    api.on('GET', '/orgs/bigco/repos', (req) => paginate(api, req, [apiRepo('bigco', 'x')]));

    const other = await listOwnerRepositories({ apiUrl: api.url, token: TOKEN, owner: 'other', type: 'user', includeArchived: false, includeForks: false, exclude: [] });
    expect(other.map((r) => r.name)).toEqual(['a', 'b']);
    const org = await listOwnerRepositories({ apiUrl: api.url, token: TOKEN, owner: 'bigco', type: 'auto', includeArchived: false, includeForks: false, exclude: [] });
    expect(org.map((r) => `${r.owner}/${r.name}`)).toEqual(['bigco/x']);
    expect(api.calls).toEqual(['GET /user', 'GET /users/other/repos?type=owner&per_page=100', 'GET /users/bigco', 'GET /orgs/bigco/repos?type=all&per_page=100']);
  });

  it('answers 401, 403, 404 and an exhausted rate limit with clear errors that never contain the token', async () => {
    const reset = Math.floor(Date.UTC(2030, 0, 1) / 1000);
    api.on('GET', '/orgs/bad-creds/repos', () => badCredentials());
    api.on('GET', '/orgs/limited/repos', () => rateLimited(reset));
    api.on('GET', '/orgs/secret/repos', () => ({ status: 403, body: { message: 'Resource protected by organization SAML enforcement.' } }));
    const run = (owner: string) =>
      listOwnerRepositories({ apiUrl: api.url, token: TOKEN, owner, type: 'org', includeArchived: false, includeForks: false, exclude: [] }).then(
        () => {
          throw new Error('expected a failure');
        },
        (error: Error) => {
          codes[owner] = exitCodeOf(error);
          return error.message;
        },
      );
    const codes: Record<string, number> = {};

    const messages = {
      badCreds: await run('bad-creds'),
      limited: await run('limited'),
      secret: await run('secret'),
      missing: await run('missing'),
    };
    // A refused token is exit 12, a missing owner 10, a rate limit an ordinary failure (src/errors.ts).
    expect(codes).toEqual({ 'bad-creds': ExitCode.AUTH, limited: ExitCode.FAILURE, secret: ExitCode.AUTH, missing: ExitCode.NOT_FOUND });
    expect(messages.badCreds).toMatch(/rejected the token .*401/);
    expect(messages.limited).toMatch(/rate limit exceeded while listing repositories of organization limited.*2030-01-01T00:00:00\.000Z/);
    expect(messages.secret).toMatch(/403 Forbidden.*SAML/);
    expect(messages.missing).toMatch(/404 Not Found.*owner does not exist or is not visible/);
    for (const message of Object.values(messages)) expect(message).not.toContain(TOKEN);
  });

  it('says when the API cannot be reached at all', async () => {
    const closed = await new GitHubStandIn().start();
    const url = closed.url;
    await closed.close();
    await expect(
      listOwnerRepositories({ apiUrl: url, token: TOKEN, owner: 'acme', type: 'org', includeArchived: false, includeForks: false, exclude: [] }),
    ).rejects.toThrow(/could not reach the GitHub API while listing repositories of organization acme: .*ECONNREFUSED/);
  });

  it('refuses an owner name that is not a GitHub login before any request', async () => {
    await expect(
      listOwnerRepositories({ apiUrl: api.url, token: TOKEN, owner: '../etc', type: 'org', includeArchived: false, includeForks: false, exclude: [] }),
    ).rejects.toThrow(/invalid GitHub owner name/);
    expect(api.requests).toHaveLength(0);
  });
});
