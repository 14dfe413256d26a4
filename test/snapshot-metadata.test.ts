// GitHub metadata in snapshots (docs/METADATA_FORMAT.md "In a snapshot"): the live metadata repository and its
// assets are laid into each snapshot (objects and assets hard-linked, the rest copied, all read-only), recorded in
// snapshot.json, point in time, and checked by verify. Real git throughout; the metadata repository is built with
// git plumbing (test/helpers/metadata-repo.ts) where the capture writes it.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../src/errors.ts';
import { SNAPSHOT_METADATA_ASSETS, SNAPSHOT_METADATA_REPO } from '../src/github-metadata/format.ts';
import { readMetadata } from '../src/metadata.ts';
import type { ListRepoResult, RunResult, StatusRepoResult, VerifyRepoResult } from '../src/types.ts';
import { runCli } from './helpers/cli.ts';
import { cleanupAfterEach } from './helpers/cleanups.ts';
import { createBackup, createUpstream, git, makeTempDir, okValue, refsOf } from './helpers/git-fixtures.ts';
import { createMetadataRepo, sampleIssue, sampleRelease } from './helpers/metadata-repo.ts';

const cleanups = cleanupAfterEach();

/** An upstream, a backup of it, and a live metadata repository with one issue and a release with one asset. */
function setup() {
  const u = createUpstream();
  cleanups.push(u.cleanup);
  const b = createBackup([u]);
  const meta = createMetadataRepo(b.root, { owner: 'acme', name: 'widgets' });
  const asset = meta.addAsset('release binary bytes\n');
  meta.put('issues/1.json', sampleIssue(1, 'First issue', 'the original text'));
  meta.put('releases/7.json', sampleRelease(7, 'v1.0', [{ sha256: asset, size: 21 }, { sha256: null, size: 200 * 1024 * 1024, skipped: 'over assetMaxBytes' }]));
  const kinds = {
    issues: { state: 'complete' as const, count: 1 },
    releases: { state: 'complete' as const, count: 1, skipped: [{ what: 'v1.0/asset-1.bin', reason: 'over 100 MiB' }] },
    pulls: { state: 'failed' as const, count: 0, reason: 'HTTP 403: Resource not accessible by integration' },
  };
  const commit = meta.commit('2026-01-01T02:00:00Z', kinds);
  return { u, b, meta, asset, commit, kinds };
}

const show = (snapshot: string, spec: string) => git(snapshot, '--git-dir', join(snapshot, SNAPSHOT_METADATA_REPO), 'show', spec);

/** Every directory below `dir` (itself included) and every file, with their modes. */
function modes(dir: string): Array<{ path: string; dir: boolean; mode: number }> {
  const out = [{ path: dir, dir: true, mode: statSync(dir).mode & 0o777 }];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...modes(path));
    else out.push({ path, dir: false, mode: lstatSync(path).mode & 0o777 });
  }
  return out;
}

function failedVerify(run: Awaited<ReturnType<ReturnType<typeof createBackup>['engine']['verify']>>): VerifyRepoResult {
  expect(run.exitCode).toBe(ExitCode.FAILURE);
  const outcome = run.outcomes[0]!;
  if (outcome.ok) throw new Error('verify passed a damaged snapshot');
  return outcome.details as VerifyRepoResult;
}

/** Replace a file of a read-only snapshot with other bytes (a new inode: the live copy it was linked to is left alone). */
function replaceInSnapshot(file: string, bytes: Buffer | string): void {
  const parent = join(file, '..');
  chmodSync(parent, 0o755);
  rmSync(file);
  writeFileSync(file, bytes, { mode: 0o444 });
  chmodSync(parent, 0o555);
}

describe('a snapshot carries the GitHub metadata', () => {
  it('lays the metadata repository and its assets into the snapshot, read-only, recorded and verifiable', async () => {
    const { b, meta, asset, commit, kinds } = setup();
    const sync = okValue(await b.engine.sync());
    const snap = sync.snapshot!.path;

    // The metadata repository as it was, readable with plain git.
    expect(JSON.parse(show(snap, 'main:issues/1.json')).body).toBe('the original text');
    expect(git(snap, '--git-dir', join(snap, SNAPSHOT_METADATA_REPO), 'rev-parse', 'main').trim()).toBe(commit);
    // The snapshot's own repository is untouched by it: same refs as upstream, and git never sees github-metadata/.
    expect(refsOf(snap)).toEqual(refsOf(join(b.root, 'immutable/acme/widgets.git')));

    // Objects and the asset are the very inodes of the live ones; everything else is a copy.
    const assetInSnapshot = join(snap, SNAPSHOT_METADATA_ASSETS, asset);
    expect(statSync(assetInSnapshot).ino).toBe(statSync(join(meta.assetsDir, asset)).ino);
    const blob = git(meta.dir, 'rev-parse', 'main:issues/1.json').trim();
    const object = `objects/${blob.slice(0, 2)}/${blob.slice(2)}`;
    expect(statSync(join(snap, SNAPSHOT_METADATA_REPO, object)).ino).toBe(statSync(join(meta.dir, object)).ino);
    expect(statSync(join(snap, SNAPSHOT_METADATA_REPO, 'config')).ino).not.toBe(statSync(join(meta.dir, 'config')).ino);
    // Our config, never the live repository's; no hooks.
    expect(readdirSync(join(snap, SNAPSHOT_METADATA_REPO))).not.toContain('hooks');

    // Read-only throughout (docs/ARCHITECTURE.md invariant 2).
    for (const entry of modes(join(snap, 'github-metadata'))) expect(entry.mode, entry.path).toBe(entry.dir ? 0o555 : 0o444);

    // snapshot.json: the summary, and a checksum for every new file.
    const metadata = await readMetadata(snap);
    expect(metadata.githubMetadata).toEqual({ commit, capturedAt: '2026-01-01T02:00:00Z', kinds, assets: { files: 1, bytes: 21 } });
    expect(metadata.files[`${SNAPSHOT_METADATA_ASSETS}/${asset}`]).toEqual({ sha256: asset, size: 21 });
    expect(metadata.files[`${SNAPSHOT_METADATA_REPO}/${object}`]?.size).toBe(statSync(join(meta.dir, object)).size);
    expect(metadata.files[`${SNAPSHOT_METADATA_REPO}/HEAD`]).toBeDefined();

    const verify = okValue(await b.engine.verify());
    expect(verify.snapshots[0]!.ok).toBe(true);
    // Every file under github-metadata/ was checked against snapshot.json.
    expect(verify.snapshots[0]!.filesChecked).toBe(Object.keys(metadata.files).length);
  });

  it('takes a snapshot when only the metadata changed, and none when nothing did', async () => {
    const { b, meta } = setup();
    okValue(await b.engine.sync());
    expect(okValue(await b.engine.sync()).snapshot).toBeNull();
    meta.put('issues/2.json', sampleIssue(2, 'Second issue'));
    const moved = meta.commit('2026-01-02T02:00:00Z', { issues: { state: 'complete', count: 2 } });
    const second = okValue(await b.engine.sync());
    expect(second.changed).toBe(false); // no ref moved upstream
    expect(second.snapshot).not.toBeNull();
    expect((await readMetadata(second.snapshot!.path)).githubMetadata?.commit).toBe(moved);
    expect(okValue(await b.engine.sync()).snapshot).toBeNull();
  });

  it('is point in time: an older snapshot still shows an issue as it was', async () => {
    const { b, meta } = setup();
    const first = okValue(await b.engine.sync()).snapshot!.path;
    meta.put('issues/1.json', sampleIssue(1, 'First issue', 'edited upstream the next day'));
    meta.commit('2026-01-02T02:00:00Z', { issues: { state: 'complete', count: 1 } });
    const second = okValue(await b.engine.sync()).snapshot!.path;
    expect(JSON.parse(show(first, 'main:issues/1.json')).body).toBe('the original text');
    expect(JSON.parse(show(second, 'main:issues/1.json')).body).toBe('edited upstream the next day');
    // The history is there too: the newer snapshot shows how the issue changed.
    expect(git(second, '--git-dir', join(second, SNAPSHOT_METADATA_REPO), 'log', '--format=%s', 'main', '--', 'issues/1.json').trim().split('\n')).toHaveLength(2);
    expect(okValue(await b.engine.verify({ all: true })).snapshots.every((s) => s.ok)).toBe(true);
  });

  it('fails the snapshot, and leaves none, when an asset the metadata names is missing', async () => {
    const { b, meta, asset } = setup();
    chmodSync(meta.assetsDir, 0o755);
    rmSync(join(meta.assetsDir, asset), { force: true });
    const run = await b.engine.sync();
    expect(run.exitCode).toBe(ExitCode.FAILURE);
    expect(run.outcomes[0]!.ok ? '' : run.outcomes[0]!.error).toContain(`release asset ${asset} is named by the metadata but missing from ${meta.assetsDir}`);
    expect(readdirSync(join(b.root, 'snapshots/acme/widgets'))).toEqual([]);
  });

  it('refuses a damaged live metadata repository, even inside a backup root that a git repository holds', async () => {
    const { b, meta } = setup();
    // The root's parent is a git repository with a main of its own: git must not fall back to it.
    const parent = join(b.root, '..');
    git(parent, 'init', '--quiet', '--initial-branch=main');
    git(parent, '-c', 'user.name=x', '-c', 'user.email=x@example.com', 'commit', '--quiet', '--allow-empty', '-m', 'unrelated');
    writeFileSync(join(meta.dir, 'HEAD'), 'garbage\n');
    const run = await b.engine.sync();
    expect(run.exitCode).toBe(ExitCode.FAILURE);
    expect(run.outcomes[0]!.ok ? '' : run.outcomes[0]!.error).toContain(`${meta.dir} is not a git repository: a metadata repository there is damaged`);
    expect(existsSync(join(b.root, 'snapshots/acme/widgets')) ? readdirSync(join(b.root, 'snapshots/acme/widgets')) : []).toEqual([]);
  });

  it('refuses a metadata repository in a format this tool does not read', async () => {
    const { b, meta } = setup();
    meta.put('format.json', { format: 'github-private-backup-metadata', version: 99 });
    meta.commit('2026-01-02T02:00:00Z');
    const run = await b.engine.sync();
    expect(run.exitCode).toBe(ExitCode.FAILURE);
    expect(run.outcomes[0]!.ok ? '' : run.outcomes[0]!.error).toMatch(/at [0-9a-f]{40}: format\.json is not a valid document of its kind \(version: /);
  });
});

describe('verify of the metadata in a snapshot', () => {
  async function synced() {
    const s = setup();
    const snap = okValue(await s.b.engine.sync()).snapshot!.path;
    return { ...s, snap };
  }

  it('finds a tampered document object', async () => {
    const { b, meta, snap } = await synced();
    const blob = git(meta.dir, 'rev-parse', 'main:issues/1.json').trim();
    const object = join(snap, SNAPSHOT_METADATA_REPO, 'objects', blob.slice(0, 2), blob.slice(2));
    replaceInSnapshot(object, 'not a zlib stream at all');
    const problems = failedVerify(await b.engine.verify()).snapshots[0]!.problems;
    expect(problems).toContainEqual(expect.objectContaining({ file: `${SNAPSHOT_METADATA_REPO}/objects/${blob.slice(0, 2)}/${blob.slice(2)}`, problem: expect.stringMatching(/^checksum mismatch/) }));
    expect(problems.some((p) => p.file === `${SNAPSHOT_METADATA_REPO} (git fsck)`)).toBe(true);
  });

  it('finds a tampered asset, naming the bytes found', async () => {
    const { b, asset, snap } = await synced();
    replaceInSnapshot(join(snap, SNAPSHOT_METADATA_ASSETS, asset), 'RELEASE BINARY BYTES\n');
    const problems = failedVerify(await b.engine.verify()).snapshots[0]!.problems;
    expect(problems).toEqual([expect.objectContaining({ file: `${SNAPSHOT_METADATA_ASSETS}/${asset}`, problem: expect.stringMatching(/^checksum mismatch: recorded sha256 [0-9a-f]{64} \(21 bytes\)/) })]);
  });

  it('names every place a damaged asset inode is shared: the other snapshots and the live asset directory', async () => {
    const { b, meta, asset, snap } = await synced();
    meta.put('issues/2.json', sampleIssue(2, 'Second issue'));
    meta.commit('2026-01-02T02:00:00Z');
    const newer = okValue(await b.engine.sync()).snapshot!;
    // Damaged in place (a disk error): the one inode the live directory and both snapshots share.
    const live = join(meta.assetsDir, asset);
    chmodSync(live, 0o644);
    writeFileSync(live, 'RELEASE BINARY BYTES\n');
    const run = failedVerify(await b.engine.verify({ all: true }));
    for (const [self, other] of [[snap, newer.path], [newer.path, snap]] as const) {
      const report = run.snapshots.find((s) => self.endsWith(s.name))!;
      expect(report.problems).toEqual([
        expect.objectContaining({ file: `${SNAPSHOT_METADATA_ASSETS}/${asset}`, sharedWith: [other.split('/').at(-1), 'live metadata assets'] }),
      ]);
    }
  });

  it('refuses a planted file under github-metadata/: verify reports it, restore and export refuse the snapshot', async () => {
    const { b, u, snap } = await synced();
    const planted = join(snap, 'github-metadata');
    chmodSync(planted, 0o755);
    writeFileSync(join(planted, 'README.txt'), 'planted\n');
    chmodSync(planted, 0o555);
    const problems = failedVerify(await b.engine.verify()).snapshots[0]!.problems;
    expect(problems).toContainEqual({ file: 'github-metadata/README.txt', problem: expect.stringContaining('not a file a snapshot holds under github-metadata/') });
    // git does not run against a snapshot that fails its structural checks.
    expect(problems).toContainEqual(expect.objectContaining({ file: 'git fsck', problem: expect.stringMatching(/^not run/) }));
    const restore = await b.engine.restore({ to: join(u.tmp, 'restored') });
    expect(restore.outcomes[0]!.ok ? '' : restore.outcomes[0]!.error).toContain('refusing to restore');
    const exported = await b.engine.exportArchive({ output: join(u.tmp, 'out.tar.gz') });
    expect(exported.outcomes[0]!.ok ? '' : exported.outcomes[0]!.error).toContain('refusing to export');
  });

  it('finds an asset no release names, even one snapshot.json was edited to list', async () => {
    const { b, snap } = await synced();
    const bytes = 'smuggled in\n';
    const name = createHash('sha256').update(bytes).digest('hex');
    const assets = join(snap, SNAPSHOT_METADATA_ASSETS);
    chmodSync(assets, 0o755);
    writeFileSync(join(assets, name), bytes, { mode: 0o444 });
    chmodSync(assets, 0o555);
    const file = join(snap, 'snapshot.json');
    const forged = JSON.parse(readFileSync(file, 'utf8'));
    forged.files[`${SNAPSHOT_METADATA_ASSETS}/${name}`] = { sha256: name, size: bytes.length };
    replaceInSnapshot(file, `${JSON.stringify(forged, null, 2)}\n`);
    const problems = failedVerify(await b.engine.verify()).snapshots[0]!.problems;
    expect(problems).toEqual([
      { file: `${SNAPSHOT_METADATA_ASSETS}/${name}`, problem: 'no release of the recorded commit names this asset' },
      { file: SNAPSHOT_METADATA_ASSETS, problem: `recorded 1 asset(s) of 21 bytes, found 2 of ${21 + bytes.length} bytes` },
    ]);
  });

  it('refuses what would lead git elsewhere inside the metadata repository', async () => {
    const { b, snap } = await synced();
    const repo = join(snap, SNAPSHOT_METADATA_REPO);
    chmodSync(repo, 0o755);
    writeFileSync(join(repo, 'commondir'), '../../..\n');
    chmodSync(repo, 0o555);
    const problems = failedVerify(await b.engine.verify()).snapshots[0]!.problems;
    expect(problems).toContainEqual({ file: `${SNAPSHOT_METADATA_REPO}/commondir`, problem: 'git would read another directory through this file' });
  });

  it('does not let git fall back to the enclosing snapshot when the metadata repository is no repository', async () => {
    const { b, snap } = await synced();
    replaceInSnapshot(join(snap, SNAPSHOT_METADATA_REPO, 'HEAD'), 'garbage\n');
    const problems = failedVerify(await b.engine.verify()).snapshots[0]!.problems;
    expect(problems).toContainEqual({ file: SNAPSHOT_METADATA_REPO, problem: 'not a git repository (git would read the enclosing snapshot instead)' });
    expect(problems).toContainEqual(expect.objectContaining({ file: `${SNAPSHOT_METADATA_REPO}/HEAD`, problem: expect.stringMatching(/^checksum mismatch/) }));
    expect(problems.some((p) => p.file.endsWith('(git fsck)'))).toBe(false);
  });

  it('finds a metadata repository whose main is not the commit snapshot.json records', async () => {
    const { b, meta, commit: older } = setup();
    meta.put('issues/2.json', sampleIssue(2, 'Second issue'));
    const newer = meta.commit('2026-01-01T03:00:00Z');
    const snap = okValue(await b.engine.sync()).snapshot!.path;
    // snapshot.json edited to name the older commit (which the snapshot's metadata repository also holds).
    const file = join(snap, 'snapshot.json');
    const forged = JSON.parse(readFileSync(file, 'utf8'));
    forged.githubMetadata.commit = older;
    replaceInSnapshot(file, `${JSON.stringify(forged, null, 2)}\n`);
    const problems = failedVerify(await b.engine.verify()).snapshots[0]!.problems;
    expect(problems).toEqual([{ file: SNAPSHOT_METADATA_REPO, problem: `main: recorded ${older}, found ${newer}` }]);
  });
});

describe('restore of a snapshot with metadata', () => {
  it('restore --to builds the git repository alone, and --push pushes only its refs', async () => {
    const { b, u } = setup();
    const snap = okValue(await b.engine.sync()).snapshot!.path;
    const to = join(u.tmp, 'restored.git');
    okValue(await b.engine.restore({ to }));
    expect(readdirSync(to)).not.toContain('github-metadata');
    expect(refsOf(to)).toEqual(refsOf(snap));

    const remote = join(makeTempDir(), 'new-home.git');
    cleanups.push(() => rmSync(join(remote, '..'), { recursive: true, force: true }));
    git(join(remote, '..'), 'init', '--bare', '--quiet', remote);
    const pushed = okValue(await b.engine.restore({ push: remote }));
    expect(refsOf(remote)).toEqual(refsOf(u.bare));
    expect(pushed.refsRestored).toBe(Object.keys(refsOf(u.bare)).length);
    // None of the metadata's objects reached the remote.
    const metadataCommit = (await readMetadata(snap)).githubMetadata!.commit;
    expect(() => git(remote, 'cat-file', '-e', metadataCommit)).toThrow();
  });
});

describe('status and list report the metadata', () => {
  it('status and list carry the newest snapshot\'s counts, skips and failures; status reads them from the summary', async () => {
    const { b } = setup();
    okValue(await b.engine.sync());
    const expected = 'metadata:  1 issues, 0 pulls, 1 releases (1 assets skipped: over 100 MiB); pulls failed: HTTP 403: Resource not accessible by integration';
    const args = ['--root', b.root, '--repo', b.settings.repositories[0] as string];
    const text = await runCli(['status', ...args]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`\n    ${expected}\n`);

    const json = JSON.parse((await runCli(['status', ...args, '--json'])).stdout) as RunResult<StatusRepoResult>;
    const status = json.outcomes[0]!.ok ? json.outcomes[0]!.value : null;
    expect(status?.githubMetadata?.kinds.pulls).toEqual({ state: 'failed', count: 0, reason: 'HTTP 403: Resource not accessible by integration' });
    expect(status?.githubMetadata?.assets).toEqual({ files: 1, bytes: 21 });

    const list = JSON.parse((await runCli(['list', ...args, '--json'])).stdout) as RunResult<ListRepoResult>;
    const listed = list.outcomes[0]!.ok ? list.outcomes[0]!.value.snapshots : [];
    expect(listed.map((s) => s.githubMetadata?.kinds.issues?.count)).toEqual([1]);
    expect((await runCli(['list', ...args])).stdout).toMatch(/metadata \(snapshot-\d{8}-\d{6}\): 1 issues, 0 pulls, 1 releases/);

    // Recorded in the repository summary when the snapshot was taken: status reads no snapshot to say it.
    const snap = join(b.root, 'snapshots/acme/widgets', listed[0]!.name);
    replaceInSnapshot(join(snap, 'snapshot.json'), '{}');
    expect((await runCli(['status', ...args])).stdout).toContain(expected);
  });

  it('a repository without metadata shows no metadata line', async () => {
    const u = createUpstream();
    cleanups.push(u.cleanup);
    const b = createBackup([u]);
    okValue(await b.engine.sync());
    const status = okValue(await b.engine.status());
    expect(status.githubMetadata).toBeUndefined();
    expect((await runCli(['status', '--root', b.root, '--repo', u.bare])).stdout).not.toContain('metadata:');
  });
});
