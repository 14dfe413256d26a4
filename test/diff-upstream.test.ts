// diff against upstream now, through the built CLI, with the upstream served over HTTP by git-http-backend: refs are
// listed by ls-remote with the fetch's credentials, nothing is fetched, and what the mirror lacks is said so.
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.ts';
import { createUpstream, git, makeTempDir } from './helpers/git-fixtures.ts';
import { startGitHttpServer, type GitHttpServer } from './helpers/git-http-server.ts';
import type { DiffRepoResult } from '../src/types.ts';

const TOKEN = 'ghp_diffUpstreamTokenNeverPrinted0000001';

describe('diff A upstream', () => {
  const upstream = createUpstream();
  const root = join(makeTempDir('gpb-diff-upstream-'), 'backup');
  let server: GitHttpServer;
  let url = '';
  let env: Record<string, string> = {};
  const cli = (...args: string[]) => runCli(['--root', root, '--repo', url, ...args], env);
  const json = async (...args: string[]): Promise<DiffRepoResult> => {
    const run = await cli(...args, '--json');
    expect(run.code, run.stderr).toBe(0);
    return (JSON.parse(run.stdout) as { outcomes: Array<{ value: DiffRepoResult }> }).outcomes[0]!.value;
  };
  const inMirror = (oid: string) => spawnSync('git', ['cat-file', '-e', oid], { cwd: join(root, 'immutable/acme/widgets.git') }).status === 0;
  let first = '';
  let fetched = '';
  let ahead = '';

  beforeAll(async () => {
    server = await startGitHttpServer(join(upstream.tmp, 'upstream'));
    url = `${server.url}/acme/widgets.git`;
    // The token goes to the host GITHUB_API_URL names: here the loopback server.
    env = { GITHUB_TOKEN: TOKEN, GITHUB_API_URL: `${server.url}/api/v3` };
    git(upstream.work, 'branch', 'next', 'main');
    upstream.push('next');
    expect((await cli('sync')).code).toBe(0);
    first = (await json('diff', 'latest')).from;
    fetched = upstream.commit('fetched by the second sync');
    upstream.push('main');
    expect((await cli('sync')).code).toBe(0);
    // Upstream moves on after the last sync: next fast-forwards to a commit the mirror has, main to one it lacks,
    // feature is deleted and a tag appears.
    git(upstream.work, 'push', '--quiet', 'origin', `${fetched}:refs/heads/next`);
    ahead = upstream.commit('only upstream has this');
    upstream.push('main', ':feature');
    git(upstream.work, 'tag', 'v9', fetched);
    upstream.push('v9');
  });
  afterAll(async () => {
    await server.close();
    upstream.cleanup();
  });

  it('lists upstream by ls-remote with the credentials of a fetch, fetching nothing', async () => {
    const before = server.requests.length;
    const diff = await json('diff', first, 'upstream');
    expect(diff).toMatchObject({ from: first, to: 'upstream', unchanged: 2 });
    expect(diff.added).toEqual([{ ref: 'refs/tags/v9', to: fetched }]);
    expect(diff.deleted.map((r) => r.ref)).toEqual(['refs/heads/feature']);
    expect(diff.moved).toEqual([{ ref: 'refs/heads/next', from: expect.any(String), to: fetched }]);
    expect(diff.forceMoved).toEqual([]);
    expect(diff.unfetched).toEqual([{ ref: 'refs/heads/main', from: expect.any(String), to: ahead }]);
    // One listing (protocol v2: the capabilities, then ls-refs), each request with the token; nothing was fetched,
    // so the mirror still lacks upstream's new commit.
    const asked = server.requests.slice(before);
    expect(asked.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /acme/widgets.git/info/refs?service=git-upload-pack', 'POST /acme/widgets.git/git-upload-pack']);
    for (const request of asked) expect(Buffer.from(String(request.headers.authorization).replace(/^basic /i, ''), 'base64').toString()).toBe(`x-access-token:${TOKEN}`);
    expect(inMirror(ahead)).toBe(false);

    const text = await cli('diff', first, 'upstream');
    expect(text.stdout).toMatch(/-> upstream: 1 added, 1 deleted, 1 moved, 0 force-moved, 2 unchanged, 1 moved to commits not fetched yet/);
    expect(text.stdout).toMatch(/\? refs\/heads\/main {2}[0-9a-f]{12}\.\.[0-9a-f]{12} \(not fetched yet/);
    expect(text.stdout + text.stderr).not.toContain(TOKEN);
  });

  it('upstream as the older side: the mirror against what upstream has now', async () => {
    const diff = await json('diff', 'upstream', 'mirror');
    expect(diff.added.map((r) => r.ref)).toEqual(['refs/heads/feature']);
    expect(diff.deleted.map((r) => r.ref)).toEqual(['refs/tags/v9']);
    // The mirror does not hold upstream's main, so it is no ancestor of the mirror's: from upstream's side, a rewrite.
    expect(diff.forceMoved.map((r) => r.ref)).toEqual(['refs/heads/main', 'refs/heads/next']);
    expect(diff.unfetched).toEqual([]);
  });

  it('an upstream that is gone exits 10, as a sync would', async () => {
    const bare = upstream.bare;
    renameSync(bare, `${bare}.gone`);
    try {
      const run = await cli('diff', 'latest', 'upstream');
      expect(run.code, run.stderr).toBe(10);
      expect(run.stdout + run.stderr).toMatch(/acme\/widgets was not found at/);
      expect(run.stdout + run.stderr).not.toContain(TOKEN);
    } finally {
      renameSync(`${bare}.gone`, bare);
    }
  });
});
