// diff and find through the built CLI against a real repository whose history moves, forks and loses a branch.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.ts';
import { createUpstream, git, makeTempDir } from './helpers/git-fixtures.ts';
import { join } from 'node:path';
import { readdirSync } from 'node:fs';
import type { DiffRepoResult, FindRepoResult } from '../src/types.ts';

describe('diff and find', () => {
  const upstream = createUpstream();
  const root = join(makeTempDir('gpb-history-'), 'backup');
  const cli = (...args: string[]) => runCli(['--root', root, '--repo', upstream.bare, ...args]);
  const json = async <T>(...args: string[]): Promise<T> => {
    const run = await cli(...args, '--json');
    expect(run.code, run.stderr).toBe(0);
    return (JSON.parse(run.stdout) as { outcomes: Array<{ value: T }> }).outcomes[0]!.value;
  };
  let snapshots: string[] = [];
  let lost = '';
  let initial = '';

  beforeAll(async () => {
    initial = git(upstream.work, 'rev-list', '--max-parents=0', 'HEAD').trim();
    expect((await cli('sync')).code).toBe(0);
    git(upstream.work, 'checkout', '--quiet', '-b', 'doomed');
    lost = upstream.commit('work only on doomed', 'doomed.txt');
    upstream.push('doomed');
    git(upstream.work, 'checkout', '--quiet', 'main');
    expect((await cli('sync')).code).toBe(0);
    // Then: doomed deleted, main fast-forwarded, feature rewritten, a new tag.
    upstream.push(':doomed');
    upstream.commit('main moves again', 'main.txt');
    upstream.push('main');
    git(upstream.work, 'checkout', '--quiet', 'feature');
    git(upstream.work, 'reset', '--quiet', '--hard', 'HEAD~1');
    upstream.commit('feature rewritten', 'feature.txt');
    git(upstream.work, 'push', '--quiet', '--force', 'origin', 'feature');
    git(upstream.work, 'checkout', '--quiet', 'main');
    git(upstream.work, 'tag', 'v2');
    upstream.push('v2');
    expect((await cli('sync')).code).toBe(0);
    snapshots = readdirSync(join(root, 'snapshots/acme/widgets')).filter((n) => n.startsWith('snapshot-')).sort();
    expect(snapshots).toHaveLength(3);
  });
  afterAll(() => upstream.cleanup());

  it('diff names added, deleted, moved and force-moved refs between two snapshots', async () => {
    const diff = await json<DiffRepoResult>('diff', snapshots[1]!, snapshots[2]!);
    expect(diff.added.map((r) => r.ref)).toEqual(['refs/tags/v2']);
    expect(diff.deleted).toEqual([{ ref: 'refs/heads/doomed', from: lost }]);
    expect(diff.moved.map((r) => r.ref)).toEqual(['refs/heads/main']);
    expect(diff.forceMoved.map((r) => r.ref)).toEqual(['refs/heads/feature']);
    expect(diff.unchanged).toBe(2);
    const text = (await cli('diff', snapshots[1]!, snapshots[2]!)).stdout;
    expect(text).toMatch(/\+ refs\/tags\/v2/);
    expect(text).toMatch(/- refs\/heads\/doomed {2}was /);
    expect(text).toMatch(/! refs\/heads\/feature .*force-moved/);
  });

  it('diff against the mirror by default: the newest snapshot is the mirror', async () => {
    const diff = await json<DiffRepoResult>('diff', 'latest');
    expect(diff).toMatchObject({ from: snapshots[2], to: 'mirror', added: [], deleted: [], moved: [], forceMoved: [] });
    expect((await cli('diff', 'snapshot-19990101-000000')).code).not.toBe(0);
    expect((await cli('diff')).code).toBe(2);
  });

  it('find a lost commit: the one snapshot that still has it, from which ref', async () => {
    const found = await json<FindRepoResult>('find', lost.slice(0, 9));
    expect(found).toMatchObject({ kind: 'commit', first: snapshots[1], last: snapshots[1] });
    expect(found.sightings).toEqual([{ snapshot: snapshots[1], createdAt: expect.any(String), refs: [{ ref: 'refs/heads/doomed', oid: lost, match: 'points-at' }] }]);
    const text = (await cli('find', lost)).stdout;
    expect(text).toMatch(new RegExp(`commit "${lost}": in 1 snapshot\\(s\\), first ${snapshots[1]}, last ${snapshots[1]}`));
  });

  it('find a commit reachable from many refs, a deleted branch by name, and a pattern', async () => {
    const root = await json<FindRepoResult>('find', initial);
    expect(root.sightings.map((s) => s.snapshot)).toEqual(snapshots);
    expect(root.sightings[2]!.refs.map((r) => `${r.ref} ${r.match}`)).toEqual(['refs/heads/feature contains', 'refs/heads/main contains', 'refs/tags/v1.0 contains', 'refs/tags/v1.1 contains', 'refs/tags/v2 contains']);

    const branch = await json<FindRepoResult>('find', 'doomed');
    expect(branch).toMatchObject({ kind: 'ref', first: snapshots[1], last: snapshots[1] });
    const pattern = await json<FindRepoResult>('find', 'v*');
    expect(pattern.kind).toBe('pattern');
    expect(pattern.sightings.map((s) => s.refs.map((r) => r.ref).join(' '))).toEqual(['refs/tags/v1.0 refs/tags/v1.1', 'refs/tags/v1.0 refs/tags/v1.1', 'refs/tags/v1.0 refs/tags/v1.1 refs/tags/v2']);
    const none = await json<FindRepoResult>('find', 'deadbeef00');
    expect(none).toMatchObject({ sightings: [], first: null, last: null });
    expect((await cli('find', 'deadbeef00')).stdout).toMatch(/in none of the snapshots/);
  });
});
