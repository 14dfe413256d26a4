// One GitHub client for the whole project (src/github/client.ts): rate limits are waited out as GitHub says
// (Retry-After for the secondary limit, x-ratelimit-reset for the primary), transient 5xx are retried, and the total
// wait is bounded so a run never hangs on a far-away reset. Proven against the stand-in by what it received.
import { setEnv } from './helpers/env.ts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGitHubClient } from '../src/github/client.ts';
import { GitHubStandIn, rateLimited } from './helpers/github-standin.ts';

describe('createGitHubClient against the stand-in', () => {
  let api: GitHubStandIn;
  let restoreEnv = () => {};
  beforeEach(async () => {
    api = await new GitHubStandIn().start();
    restoreEnv = setEnv({ BACKUP_RETRY_BASE_MS: '10' }); // a "second" of waiting is 10 ms here
  });
  afterEach(async () => {
    await api.close();
    restoreEnv();
  });

  it('waits out a secondary rate limit (Retry-After) and a primary one (x-ratelimit-reset), then succeeds', async () => {
    let calls = 0;
    api.on('GET', '/repos/acme/widgets', () => {
      calls++;
      if (calls === 1) return { status: 403, headers: { 'retry-after': '2' }, body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' } };
      if (calls === 2) return rateLimited(Math.floor(Date.now() / 1000) + 1);
      return { status: 200, body: { id: 7, full_name: 'acme/widgets' } };
    });
    const waits: string[] = [];
    const client = createGitHubClient({ apiUrl: api.url, token: 'ghp_FAKEtokenFAKEtokenFAKEtoken1234567890', onWait: (s, why) => waits.push(`${s}:${why}`) });
    const { data } = await client.rest.repos.get({ owner: 'acme', repo: 'widgets' });
    expect(data.id).toBe(7);
    expect(api.calls).toEqual(['GET /repos/acme/widgets', 'GET /repos/acme/widgets', 'GET /repos/acme/widgets']);
    expect(waits[0]).toMatch(/^2:secondary rate limit on GET \/repos\/\{owner\}\/\{repo\}/);
    expect(waits[1]).toMatch(/rate limit on GET/);
  });

  it('gives up at once when the reset is past the wait budget, with GitHub\'s own error', async () => {
    api.on('GET', '/repos/acme/widgets', () => rateLimited(Math.floor(Date.now() / 1000) + 3600));
    const client = createGitHubClient({ apiUrl: api.url, maxWaitSeconds: 60 });
    await expect(client.rest.repos.get({ owner: 'acme', repo: 'widgets' })).rejects.toMatchObject({ status: 403 });
    expect(api.calls).toHaveLength(1);
  });

  it('retries a transient 502 and never retries a 404', async () => {
    let calls = 0;
    api.on('GET', '/repos/acme/flaky', () => (++calls < 3 ? { status: 502, body: { message: 'Bad Gateway' } } : { status: 200, body: { id: 1, full_name: 'acme/flaky' } }));
    api.on('GET', '/repos/acme/gone', () => ({ status: 404, body: { message: 'Not Found' } }));
    const client = createGitHubClient({ apiUrl: api.url });
    expect((await client.rest.repos.get({ owner: 'acme', repo: 'flaky' })).data.id).toBe(1);
    await expect(client.rest.repos.get({ owner: 'acme', repo: 'gone' })).rejects.toMatchObject({ status: 404 });
    expect(api.calls.filter((c) => c.endsWith('/flaky'))).toHaveLength(3);
    expect(api.calls.filter((c) => c.endsWith('/gone'))).toHaveLength(1);
  });
});
