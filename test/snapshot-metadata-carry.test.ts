// A snapshot of a repository whose live GitHub metadata is, file for file, what the previous snapshot carries takes
// that snapshot's metadata summary and asset list without git (src/engine/snapshot-metadata.ts); any doubt reads
// the copy with git as before. Either way the record is what git says of the copy. Counted with a recording git
// first on PATH around the bundled CLI (test/helpers/git-calls.ts).
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SNAPSHOT_METADATA_ASSETS, SNAPSHOT_METADATA_REPO } from '../src/github-metadata/format.ts';
import { readMetadata } from '../src/metadata.ts';
import { runCli } from './helpers/cli.ts';
import { cleanupAfterEach } from './helpers/cleanups.ts';
import { recordGitCalls } from './helpers/git-calls.ts';
import { createBackup, createUpstream, git, okValue } from './helpers/git-fixtures.ts';
import { createMetadataRepo, sampleIssue, sampleRelease } from './helpers/metadata-repo.ts';

const cleanups = cleanupAfterEach();

function setup() {
  const u = createUpstream();
  cleanups.push(u.cleanup);
  const b = createBackup([u]);
  cleanups.push(() => {
    spawnSync('chmod', ['-R', 'u+w', b.root]);
    rmSync(b.root, { recursive: true, force: true });
  });
  const meta = createMetadataRepo(b.root, { owner: 'acme', name: 'widgets' });
  const asset = meta.addAsset('release binary bytes\n');
  meta.put('issues/1.json', sampleIssue(1, 'First issue', 'the original text'));
  meta.put('releases/7.json', sampleRelease(7, 'v1.0', [{ sha256: asset, size: 21 }]));
  meta.commit('2026-01-01T02:00:00Z', { issues: { state: 'complete', count: 1 }, releases: { state: 'complete', count: 1 } });
  const calls = recordGitCalls(b.root);
  const snapshot = async () => {
    const run = await runCli(['snapshot', '--root', b.root, '--repo', u.bare, '--json'], { PATH: calls.path });
    expect(run.code, run.stderr).toBe(0);
    const parent = join(b.root, 'snapshots', 'acme', 'widgets');
    return join(parent, readdirSync(parent).sort().at(-1)!);
  };
  return { b, meta, asset, calls, snapshot };
}

/** What git says of a snapshot's metadata copy: the commit its main branch names. */
const copyCommit = (snap: string) => git(snap, '--git-dir', join(snap, SNAPSHOT_METADATA_REPO), 'rev-parse', 'main').trim();

describe('the GitHub metadata of a snapshot of an unchanged repository', () => {
  it('is carried from the previous snapshot without a git process, and verifies', async () => {
    const { b, meta, asset, calls, snapshot } = setup();
    const first = okValue(await b.engine.sync()).snapshot!.path;
    calls.take();
    const second = await snapshot();
    expect(calls.take()).toEqual([]);
    const [was, now] = [await readMetadata(first), await readMetadata(second)];
    expect(now.githubMetadata).toEqual(was.githubMetadata);
    expect(now.githubMetadata?.commit).toBe(copyCommit(second));
    expect(Object.keys(now.files).sort()).toEqual(Object.keys(was.files).sort());
    // The asset is linked again, the live inode itself.
    expect(statSync(join(second, SNAPSHOT_METADATA_ASSETS, asset)).ino).toBe(statSync(join(meta.assetsDir, asset)).ino);
    const verify = okValue(await b.engine.verify({ all: true }));
    expect(verify.snapshots.map((s) => s.ok)).toEqual([true, true]);
  });

  it('a new capture, or the live objects repacked, is a doubt: git reads the copy, and says what it holds', async () => {
    const { b, meta, calls, snapshot } = setup();
    const first = okValue(await b.engine.sync()).snapshot!.path;
    meta.put('issues/2.json', sampleIssue(2, 'Second issue'));
    const moved = meta.commit('2026-01-02T02:00:00Z', { issues: { state: 'complete', count: 2 } });
    calls.take();
    const second = await snapshot();
    expect(calls.take()).toContain('ls-tree');
    const recorded = (await readMetadata(second)).githubMetadata!;
    expect(recorded).toMatchObject({ commit: moved, capturedAt: '2026-01-02T02:00:00Z', kinds: { issues: { state: 'complete', count: 2 } } });
    expect(recorded.commit).toBe(copyCommit(second));
    expect(recorded.commit).not.toBe((await readMetadata(first)).githubMetadata!.commit);

    // The same commit, its objects moved into a pack: the previous copy's object files are gone from the live one.
    git(meta.dir, 'repack', '-a', '-d', '-q');
    const third = await snapshot();
    expect(calls.take()).toContain('ls-tree');
    expect((await readMetadata(third)).githubMetadata).toEqual(recorded);
    expect(copyCommit(third)).toBe(moved);
    expect(okValue(await b.engine.verify({ all: true })).snapshots.every((s) => s.ok)).toBe(true);
  });
});
