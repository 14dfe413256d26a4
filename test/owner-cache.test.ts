// An owner entry is listed through the API by sync and init only; every read-only command works from the listing
// the last sync recorded, so status, health, list and verify keep working offline and cost no API calls.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pathToFileURL } from 'node:url';
import { createBackup, createUpstream, okValue, type Upstream } from './helpers/git-fixtures.ts';
import { GitHubStandIn, paginate } from './helpers/github-standin.ts';

describe('owner listings', () => {
  let api: GitHubStandIn;
  let upstreams: Upstream[];
  beforeEach(async () => {
    api = await new GitHubStandIn().start();
    upstreams = [createUpstream({ owner: 'acme', name: 'alpha' }), createUpstream({ owner: 'acme', name: 'beta' })];
    const repos = upstreams.map((u, i) => ({
      id: i + 1,
      name: u.id.split('/')[1],
      full_name: u.id,
      owner: { login: 'acme', type: 'Organization' },
      clone_url: pathToFileURL(u.bare).href,
      private: true,
      archived: false,
      fork: false,
    }));
    api.on('GET', '/orgs/acme/repos', (req) => paginate(api, req, repos));
  });
  afterEach(async () => {
    await api.close().catch(() => undefined);
    for (const u of upstreams) u.cleanup();
  });

  it('sync lists the owner once; status, list, health and verify read the recorded listing, with the API gone', async () => {
    const owner = { owner: 'acme', type: 'org' as const, includeArchived: false, includeForks: false, exclude: [] };
    const backup = createBackup([], { repositories: [owner], apiUrl: api.url, token: 'ghp_FAKEtokenFAKEtokenFAKEtoken1234567890' });
    const synced = await backup.engine.sync();
    expect(synced.outcomes.map((o) => [o.repo, o.ok])).toEqual([
      ['acme/alpha', true],
      ['acme/beta', true],
    ]);
    expect(api.calls).toEqual(['GET /orgs/acme/repos?type=all&per_page=100']);

    await api.close();
    const reader = backup.engineWith();
    const status = await reader.status();
    expect(status.outcomes.map((o) => o.repo)).toEqual(['acme/alpha', 'acme/beta']);
    expect(status.exitCode).toBe(0);
    expect(okValue(await reader.list()).snapshots).toHaveLength(1);
    expect((await reader.health()).exitCode).toBe(0);
    expect((await reader.verify()).exitCode).toBe(0);
    // No request reached the (closed) API after the sync.
    expect(api.calls).toHaveLength(1);
  });

  it('a read-only command before any sync uses what is under the root, and a sync with the API down fails clearly', async () => {
    const owner = { owner: 'acme', type: 'org' as const, includeArchived: false, includeForks: false, exclude: [] };
    const backup = createBackup([], { repositories: [owner], apiUrl: api.url });
    await api.close();
    await expect(backup.engine.status()).rejects.toThrow(/none found under/);
    const sync = backup.engineWith();
    await expect(sync.sync()).rejects.toThrow(/acme/);
  });
});
