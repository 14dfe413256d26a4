// What a first init costs in git processes, counted by a recording `git` first on PATH around the bundled CLI
// (docs/BENCHMARKS.md "Scale"): a new mirror with no snapshot before it is fetched straight into its refs and read
// from the files git wrote (src/engine/first-fetch.ts), and init leaves the status summary to the first sync. What it
// leaves is what the staged fetch leaves.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mirrorConfig, renderConfig } from '../src/git/config-template.ts';
import type { RunResult, StatusRepoResult } from '../src/types.ts';
import { runCli } from './helpers/cli.ts';
import { cleanupAfterEach } from './helpers/cleanups.ts';
import { recordGitCalls } from './helpers/git-calls.ts';
import { createUpstream, git, makeTempDir, refsOf, type Upstream } from './helpers/git-fixtures.ts';
import { serveThroughBackend } from './helpers/git-http.ts';
import { GitHubStandIn } from './helpers/github-standin.ts';

const cleanups = cleanupAfterEach();

function setUp(): { u: Upstream; root: string; calls: ReturnType<typeof recordGitCalls> } {
  const u = createUpstream();
  cleanups.push(u.cleanup);
  const dir = makeTempDir('gpb-init-calls-');
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return { u, root: join(dir, 'backup'), calls: recordGitCalls(dir) };
}

const mirrorOf = (root: string) => join(root, 'immutable', 'acme', 'widgets.git');

const TOKEN = 'ghp_initDefaultBranchToken0123';

/**
 * GitHub on 127.0.0.1: the API stand-in answering the repository record with `defaultBranch`, and git's smart HTTP
 * (the real git-http-backend) for the upstream beside it, as github.com serves both.
 */
async function gitHubServing(u: Upstream, defaultBranch: string): Promise<GitHubStandIn> {
  const standIn = await new GitHubStandIn().start();
  cleanups.push(() => void standIn.close());
  standIn.serveRaw((req, res) => {
    if (!/\.git\//.test(req.url ?? '')) return false;
    void serveThroughBackend(join(u.tmp, 'upstream'), req, res);
    return true;
  });
  standIn.on('GET', '/api/v3/repos/acme/widgets', () => ({ status: 200, body: { id: 4242, full_name: 'acme/widgets', default_branch: defaultBranch } }));
  return standIn;
}

const gitHubEnv = (standIn: GitHubStandIn, path: string) => ({ PATH: path, GITHUB_TOKEN: TOKEN, GITHUB_API_URL: `${standIn.url}/api/v3` });
/** The one repository, its wiki companion switched off (its fetch would be counted too). */
function configFor(root: string, standIn: GitHubStandIn): string {
  const file = join(dirname(root), 'backup.config.yml');
  writeFileSync(file, `repositories:\n  - { repo: acme/widgets, url: "${standIn.url}/acme/widgets.git", metadata: { wiki: false } }\n`);
  return file;
}
/** What git asked the server: one GET of info/refs per conversation (a fetch, an ls-remote). */
const conversations = (standIn: GitHubStandIn) => standIn.calls.filter((c) => c.startsWith('GET /acme/widgets.git/info/refs'));

describe('init of a new repository', () => {
  it('spends two git processes when one branch has HEAD\'s commit: fetch and pack-refs', async () => {
    const { u, root, calls } = setUp();
    const run = await runCli(['init', '--root', root, '--repo', u.bare], { PATH: calls.path });
    expect(run.code, run.stderr).toBe(0);
    expect(calls.take()).toEqual(['fetch', 'pack-refs']);
    const mirror = mirrorOf(root);
    expect(refsOf(mirror)).toEqual(refsOf(u.bare));
    expect(readFileSync(join(mirror, 'HEAD'), 'utf8')).toBe('ref: refs/heads/main\n');
    expect(readFileSync(join(mirror, 'config'), 'utf8')).toBe(renderConfig(mirrorConfig({ url: u.bare, includePullRefs: false })));
    // Every ref packed, none loose, no staging ref left, and the objects whole.
    expect(git(mirror, 'for-each-ref', '--format=%(refname)', 'refs/backup-manager-staging/')).toBe('');
    expect(readFileSync(join(mirror, 'packed-refs'), 'utf8').split('\n').filter((l) => l.startsWith('^'))).toHaveLength(1);
    git(mirror, 'fsck', '--strict', '--no-dangling');
    expect(git(mirror, 'count-objects', '-v')).toMatch(/^count: 0$/m);
  });

  it('asks upstream which branch HEAD is only when several branches have its commit', async () => {
    const { u, root, calls } = setUp();
    u.push('main:refs/heads/twin');
    const run = await runCli(['init', '--root', root, '--repo', u.bare], { PATH: calls.path });
    expect(run.code, run.stderr).toBe(0);
    expect(calls.take()).toEqual(['fetch', 'pack-refs', 'ls-remote']);
    expect(readFileSync(join(mirrorOf(root), 'HEAD'), 'utf8')).toBe('ref: refs/heads/main\n');
  });

  it('takes HEAD\'s branch from GitHub\'s repository record when several branches have its commit: no ls-remote', async () => {
    const { u, root, calls } = setUp();
    u.push('main:refs/heads/twin');
    const standIn = await gitHubServing(u, 'main');
    const run = await runCli(['init', '--root', root, '--config', configFor(root, standIn)], gitHubEnv(standIn, calls.path));
    expect(run.code, run.stderr).toBe(0);
    expect(calls.take()).toEqual(['fetch', 'pack-refs']);
    // The servers saw one API request (the identity lookup the first fetch makes anyway) and one git conversation.
    expect(standIn.calls.filter((c) => c.startsWith('GET /api/'))).toEqual(['GET /api/v3/repos/acme/widgets']);
    expect(conversations(standIn)).toEqual(['GET /acme/widgets.git/info/refs?service=git-upload-pack']);
    const mirror = mirrorOf(root);
    expect(readFileSync(join(mirror, 'HEAD'), 'utf8')).toBe('ref: refs/heads/main\n');
    expect(refsOf(mirror)).toEqual(refsOf(u.bare));
  });

  it('asks upstream when GitHub\'s default branch does not have the commit the fetch brought as HEAD', async () => {
    const { u, root, calls } = setUp();
    u.push('main:refs/heads/twin');
    // The record names a branch that is elsewhere (it changed between the API's answer and the fetch, say).
    const standIn = await gitHubServing(u, 'feature');
    const run = await runCli(['init', '--root', root, '--config', configFor(root, standIn)], gitHubEnv(standIn, calls.path));
    expect(run.code, run.stderr).toBe(0);
    expect(calls.take()).toEqual(['fetch', 'pack-refs', 'ls-remote']);
    expect(conversations(standIn)).toHaveLength(2);
    expect(readFileSync(join(mirrorOf(root), 'HEAD'), 'utf8')).toBe('ref: refs/heads/main\n');
  });

  it('leaves the summary to the first sync, and a status before it measures the mirror once', async () => {
    const { u, root, calls } = setUp();
    expect((await runCli(['init', '--root', root, '--repo', u.bare])).code).toBe(0);
    const summary = join(root, 'state', 'summaries', 'acme', 'widgets.json');
    expect(existsSync(summary)).toBe(false);
    const status = await runCli(['status', '--root', root, '--repo', u.bare, '--json'], { PATH: calls.path });
    expect(status.code, status.stderr).toBe(0);
    const repo = (JSON.parse(status.stdout) as RunResult<StatusRepoResult>).outcomes[0]!;
    expect(repo.ok && repo.value.head?.hash).toBe(refsOf(u.bare)['refs/heads/main']);
    // The refs come from packed-refs (none is loose); HEAD's commit from git.
    expect(calls.take()).toEqual(['log']);
    expect(existsSync(summary)).toBe(true);
    await runCli(['status', '--root', root, '--repo', u.bare], { PATH: calls.path });
    expect(calls.take()).toEqual([]);
  });

  it('leaves the same refs, HEAD and config as a staged fetch re-creating the mirror beside its snapshot', async () => {
    const { u, root, calls } = setUp();
    git(u.bare, 'symbolic-ref', 'HEAD', 'refs/heads/feature');
    u.push('main:refs/pull/7/head', 'main:refs/notes/commits');
    expect((await runCli(['sync', '--root', root, '--repo', u.bare])).code).toBe(0);
    const mirror = mirrorOf(root);
    const first = ['HEAD', 'config', 'packed-refs'].map((f) => readFileSync(join(mirror, f)));
    expect(first[0]!.toString()).toBe('ref: refs/heads/feature\n');
    expect(first[2]!.toString()).not.toContain('refs/pull/');
    // A lost mirror is fetched again through the staging refs, judged against the snapshot: same bytes.
    rmSync(mirror, { recursive: true });
    calls.take();
    const again = await runCli(['sync', '--root', root, '--repo', u.bare], { PATH: calls.path });
    expect(again.code, again.stderr).toBe(0);
    expect(calls.take()).toContain('update-ref');
    expect(['HEAD', 'config', 'packed-refs'].map((f) => readFileSync(join(mirror, f)))).toEqual(first);
  });
});
