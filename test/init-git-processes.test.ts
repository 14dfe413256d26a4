// What a first init costs in git processes, counted by a recording `git` first on PATH around the bundled CLI
// (docs/BENCHMARKS.md "Scale"): a new mirror with no snapshot before it is fetched straight into its refs and read
// from the files git wrote (src/engine/first-fetch.ts). And what it leaves is what the staged fetch leaves.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mirrorConfig, renderConfig } from '../src/git/config-template.ts';
import { runCli } from './helpers/cli.ts';
import { cleanupAfterEach } from './helpers/cleanups.ts';
import { recordGitCalls } from './helpers/git-calls.ts';
import { createUpstream, git, makeTempDir, refsOf, type Upstream } from './helpers/git-fixtures.ts';

const cleanups = cleanupAfterEach();

function setUp(): { u: Upstream; root: string; calls: ReturnType<typeof recordGitCalls> } {
  const u = createUpstream();
  cleanups.push(u.cleanup);
  const dir = makeTempDir('gpb-init-calls-');
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return { u, root: join(dir, 'backup'), calls: recordGitCalls(dir) };
}

const mirrorOf = (root: string) => join(root, 'immutable', 'acme', 'widgets.git');

describe('init of a new repository', () => {
  it('spends three git processes when one branch has HEAD\'s commit: fetch, pack-refs, and log for the summary', async () => {
    const { u, root, calls } = setUp();
    const run = await runCli(['init', '--root', root, '--repo', u.bare], { PATH: calls.path });
    expect(run.code, run.stderr).toBe(0);
    expect(calls.take()).toEqual(['fetch', 'pack-refs', 'log']);
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
    expect(calls.take()).toEqual(['fetch', 'pack-refs', 'ls-remote', 'log']);
    expect(readFileSync(join(mirrorOf(root), 'HEAD'), 'utf8')).toBe('ref: refs/heads/main\n');
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
