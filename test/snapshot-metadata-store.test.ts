// A snapshot's GitHub metadata through everything that carries snapshots (docs/METADATA_FORMAT.md "In a snapshot"):
// the off-site store (the local-directory store and S3 on s3rver behind the recording proxy), a pull onto an empty
// root that then verifies, a hydrate that brings the live metadata repository back, the tar archive, and retention.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../src/engine/index.ts';
import { resolveSettings } from '../src/config.ts';
import { SNAPSHOT_METADATA_ASSETS, SNAPSHOT_METADATA_REPO } from '../src/github-metadata/format.ts';
import { readMetadata } from '../src/metadata.ts';
import { readManifest } from '../src/store/catalog.ts';
import { objectKey } from '../src/store/format.ts';
import { unsafeRepoPathReason } from '../src/store/manifest.ts';
import { pullSnapshot } from '../src/store/pull.ts';
import { pushSnapshot } from '../src/store/push.ts';
import type { Store } from '../src/store/store.ts';
import { cleanupAfterEach } from './helpers/cleanups.ts';
import { TestDirStore } from './helpers/dir-store.ts';
import { createBackup, createUpstream, fakeClock, git, makeTempDir, okValue, refsOf, type Upstream } from './helpers/git-fixtures.ts';
import { createMetadataRepo, sampleIssue, sampleRelease } from './helpers/metadata-repo.ts';
import { S3RVER_ACCESS_KEY_ID, startS3StandIn, type S3StandIn } from './helpers/s3-standin.ts';

const cleanups = cleanupAfterEach();

let s3: S3StandIn;
let savedEnv: NodeJS.ProcessEnv;
beforeAll(async () => {
  savedEnv = { ...process.env };
  process.env.AWS_ACCESS_KEY_ID = S3RVER_ACCESS_KEY_ID;
  process.env.AWS_SECRET_ACCESS_KEY = `s3-test-secret-${randomBytes(12).toString('hex')}`;
  s3 = await startS3StandIn();
});
afterAll(async () => {
  await s3?.close();
  process.env = savedEnv;
});

const ASSET_BYTES = 'release binary bytes\n';

/** An upstream, a backup root with a live metadata repository (an issue, a release with one asset), and one sync. */
async function backupWithMetadata(overrides: Parameters<typeof createBackup>[1] = {}) {
  const u: Upstream = createUpstream();
  cleanups.push(u.cleanup);
  const clock = fakeClock();
  const b = createBackup([u], overrides, clock.now);
  cleanups.push(() => rmSync(join(b.root, '..'), { recursive: true, force: true }));
  const meta = createMetadataRepo(b.root, { owner: 'acme', name: 'widgets' });
  const asset = meta.addAsset(ASSET_BYTES);
  meta.put('issues/1.json', sampleIssue(1, 'First issue', 'the original text'));
  meta.put('releases/7.json', sampleRelease(7, 'v1.0', [{ sha256: asset, size: ASSET_BYTES.length }]));
  const commit = meta.commit('2026-01-01T02:00:00Z', { issues: { state: 'complete', count: 1 }, releases: { state: 'complete', count: 1 } });
  const sync = okValue(await b.engineWith({}, clock.now).sync());
  return { u, b, clock, meta, asset, commit, sync, snapshot: sync.snapshot!.path };
}

/** A root with nothing in it, and an engine for it. */
function emptyRoot(u: Upstream) {
  const root = join(makeTempDir('gpb-root-'), 'backup');
  cleanups.push(() => rmSync(join(root, '..'), { recursive: true, force: true }));
  return { root, engine: createEngine({ settings: resolveSettings({ root, repositories: [u.bare] }, {}) }) };
}

const show = (snapshot: string, spec: string) => git(snapshot, '--git-dir', join(snapshot, SNAPSHOT_METADATA_REPO), 'show', spec);

/** Push the snapshot, pull it onto an empty root as a snapshot, and verify it there. */
async function roundTrip(store: Store, s: Awaited<ReturnType<typeof backupWithMetadata>>) {
  const metadata = await readMetadata(s.snapshot);
  const pushed = await pushSnapshot(store, s.snapshot);
  expect(pushed.alreadyInStore).toBe(false);
  const manifest = await readManifest(store, 'acme/widgets', metadata.name);
  const paths = manifest.files.map((f) => f.path);
  expect(paths).toContain(`${SNAPSHOT_METADATA_ASSETS}/${s.asset}`);
  expect(paths.filter((p) => p.startsWith(`${SNAPSHOT_METADATA_REPO}/`)).sort()).toEqual(Object.keys(metadata.files).filter((p) => p.startsWith(`${SNAPSHOT_METADATA_REPO}/`)).sort());
  // The asset is one object named by its content, like every other file.
  const assetEntry = manifest.files.find((f) => f.path.endsWith(s.asset));
  expect(assetEntry && 'key' in assetEntry ? assetEntry.key : null).toBe(objectKey(s.asset));

  const fresh = emptyRoot(s.u);
  const dest = join(fresh.root, 'snapshots', 'acme', 'widgets', metadata.name);
  await pullSnapshot(store, manifest, dest, { layout: 'snapshot' });
  expect(JSON.parse(show(dest, 'main:issues/1.json')).body).toBe('the original text');
  const verify = okValue(await fresh.engine.verify());
  expect(verify.snapshots[0]).toMatchObject({ name: metadata.name, ok: true, filesChecked: Object.keys(metadata.files).length });

  // Pulled as a working repository, the metadata is left out: it is not part of the git repository.
  const repo = join(makeTempDir('gpb-pull-'), 'widgets.git');
  cleanups.push(() => rmSync(join(repo, '..'), { recursive: true, force: true }));
  await pullSnapshot(store, manifest, repo, { layout: 'repository' });
  expect(existsSync(join(repo, 'github-metadata'))).toBe(false);
  expect(refsOf(repo)).toEqual(refsOf(s.u.bare));
  return manifest;
}

describe('the off-site store carries the metadata', () => {
  it('a local-directory store: push, pull onto an empty root, verify', async () => {
    const s = await backupWithMetadata();
    const storeDir = makeTempDir('gpb-store-');
    cleanups.push(() => rmSync(storeDir, { recursive: true, force: true }));
    const store = new TestDirStore(storeDir);
    await roundTrip(store, s);
    // A second push of the same snapshot uploads nothing.
    expect((await pushSnapshot(store, s.snapshot)).alreadyInStore).toBe(true);
  });

  it('S3 (s3rver): push, pull onto an empty root, verify; the asset went up as one PUT of its bytes', async () => {
    const s = await backupWithMetadata();
    const prefix = `meta-${randomBytes(4).toString('hex')}`;
    s3.requests.length = 0;
    await roundTrip(s3.store(prefix), s);
    const puts = s3.requests.filter((r) => r.method === 'PUT' && r.path === `/backups/${prefix}/${objectKey(s.asset)}`);
    expect(puts).toHaveLength(1);
    expect(puts[0]!.body.toString()).toBe(ASSET_BYTES);
  });

  it('a hydrate from the store brings back the live metadata repository and its assets', async () => {
    const storeDir = makeTempDir('gpb-store-');
    cleanups.push(() => rmSync(storeDir, { recursive: true, force: true }));
    const store = { url: `file://${storeDir}` };
    const s = await backupWithMetadata({ store });
    expect(s.sync.pushed?.snapshots).toEqual([s.sync.snapshot!.name]);

    // A cold start (a hosted runner): an empty root with the same store.
    const fresh = emptyRoot(s.u);
    const engine = createEngine({ settings: { ...resolveSettings({ root: fresh.root, repositories: [s.u.bare] }, {}), store } });
    const synced = okValue(await engine.sync());
    expect(synced.hydrated).toMatchObject({ snapshot: s.sync.snapshot!.name });
    // The live metadata repository continues the same history, and the asset is there, shared with the snapshot.
    const live = join(fresh.root, 'metadata', 'acme', 'widgets.git');
    expect(git(live, 'rev-parse', 'refs/heads/main').trim()).toBe(s.commit);
    const asset = join(fresh.root, 'metadata', 'acme', 'widgets.assets', s.asset);
    expect(statSync(asset).ino).toBe(statSync(join(fresh.root, 'snapshots', 'acme', 'widgets', s.sync.snapshot!.name, SNAPSHOT_METADATA_ASSETS, s.asset)).ino);
    // Nothing changed since: no new snapshot, and the hydrated one still verifies.
    expect(synced.snapshot).toBeNull();
    expect(okValue(await engine.verify()).snapshots[0]!.ok).toBe(true);
    // The mirror built from the snapshot holds no metadata.
    expect(readdirSync(join(fresh.root, 'immutable', 'acme', 'widgets.git'))).not.toContain('github-metadata');
  });
});

describe('a root that lost its live metadata', () => {
  it('gets it back from the newest snapshot before the capture (a runner cache that kept the mirror and snapshots only)', async () => {
    const s = await backupWithMetadata();
    rmSync(join(s.b.root, 'metadata'), { recursive: true, force: true });
    const again = okValue(await s.b.engineWith({}, s.clock.now).sync());
    // The same commit as the newest snapshot's: nothing changed, so no snapshot.
    expect(again.snapshot).toBeNull();
    expect(git(s.meta.dir, 'rev-parse', 'refs/heads/main').trim()).toBe(s.commit);
    expect(statSync(join(s.meta.assetsDir, s.asset)).ino).toBe(statSync(join(s.snapshot, SNAPSHOT_METADATA_ASSETS, s.asset)).ino);
    const log = readdirSync(join(s.b.root, 'logs')).map((f) => readFileSync(join(s.b.root, 'logs', f), 'utf8')).join('');
    expect(log).toContain(`acme/widgets: the live GitHub metadata was missing: brought back from ${s.sync.snapshot!.name}`);
  });
});

describe('manifest paths under github-metadata/', () => {
  const SHA = 'ab'.repeat(32);
  it.each([
    [`github-metadata/assets/${SHA}`, null],
    ['github-metadata/repo.git/HEAD', null],
    [`github-metadata/repo.git/objects/pack/pack-${'c'.repeat(40)}.pack`, null],
    ['github-metadata/repo.git/hooks/post-update', 'not a file a snapshot holds'],
    ['github-metadata/repo.git/objects/info/alternates', 'not a file a snapshot holds'],
    ['github-metadata/README.txt', 'not a file a snapshot holds'],
    ['github-metadata/assets/not-a-sha256', 'not a file a snapshot holds'],
  ])('%s: %s', (path, refused) => {
    const reason = unsafeRepoPathReason(path);
    if (refused === null) expect(reason).toBeNull();
    else expect(reason).toContain(refused);
  });
});

describe('a killed hydrate', () => {
  it('leaves a temporary that the next writer removes, and nothing else beside the live metadata is touched', async () => {
    const s = await backupWithMetadata();
    const parent = join(s.b.root, 'metadata', 'acme');
    const leftover = join(parent, '.tmp-hydrate-widgets-0123abcd');
    const other = join(parent, '.tmp-hydrate-gadgets-0123abcd'); // another repository's: its own writer's business
    for (const dir of [leftover, other]) mkdirSync(join(dir, 'objects'), { recursive: true });
    okValue(await s.b.engineWith({}, s.clock.now).sync());
    expect(existsSync(leftover)).toBe(false);
    expect(existsSync(other)).toBe(true);
    expect(readdirSync(parent).sort()).toEqual(['.tmp-hydrate-gadgets-0123abcd', 'widgets.assets', 'widgets.git']);
  });
});

describe('archives and retention carry the metadata', () => {
  it('export writes the subtree into the archive; restore from it checks every file and builds the git repository alone', async () => {
    const s = await backupWithMetadata();
    const out = join(s.u.tmp, 'widgets.tar.gz');
    okValue(await s.b.engine.exportArchive({ output: out }));
    const entries: string[] = [];
    await tar.list({ file: out, onReadEntry: (entry) => entries.push(entry.path) });
    const name = s.sync.snapshot!.name;
    expect(entries).toContain(`${name}/${SNAPSHOT_METADATA_ASSETS}/${s.asset}`);
    expect(entries).toContain(`${name}/${SNAPSHOT_METADATA_REPO}/HEAD`);

    const to = join(s.u.tmp, 'from-archive.git');
    const restored = okValue(await emptyRoot(s.u).engine.restore({ fromArchive: out, to }));
    expect(restored.mode).toBe('archive');
    expect(readdirSync(to)).not.toContain('github-metadata');
    expect(refsOf(to)).toEqual(refsOf(s.u.bare));
  });

  it('retention removes an old snapshot with metadata and leaves the live assets and the newer snapshot whole', async () => {
    const s = await backupWithMetadata({ retentionDays: 1, keepMin: 1 });
    s.meta.put('issues/1.json', sampleIssue(1, 'First issue', 'edited'));
    s.meta.commit('2026-01-03T02:00:00Z', { issues: { state: 'complete', count: 1 }, releases: { state: 'complete', count: 1 } });
    s.clock.advanceDays(3);
    const second = okValue(await s.b.engineWith({}, s.clock.now).sync());
    expect(second.pruned).toEqual([s.sync.snapshot!.name]);
    expect(existsSync(s.snapshot)).toBe(false);
    expect(statSync(join(s.meta.assetsDir, s.asset)).size).toBe(ASSET_BYTES.length);
    expect(JSON.parse(show(second.snapshot!.path, 'main:issues/1.json')).body).toBe('edited');
    expect(okValue(await s.b.engineWith({}, s.clock.now).verify({ all: true })).snapshots.map((v) => v.ok)).toEqual([true]);
  });
});
