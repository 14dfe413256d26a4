// Push real snapshots into a directory store and pull them back onto an empty directory: byte-identical files,
// git fsck clean, identical refs; a second push uploads nothing; a new day's push uploads only the new pack.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync, chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { cleanupAfterEach } from './helpers/cleanups.ts';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { walkFiles } from '../src/fsutil.ts';
import { readMetadata } from '../src/metadata.ts';
import { encryptedStore } from '../src/store/encrypted-store.ts';
import { listStoredSnapshots, readManifest, resolveStoredSnapshot } from '../src/store/catalog.ts';
import { ensureStoreFormat, formatMarkerKey, manifestKey, objectKey } from '../src/store/format.ts';
import { isDerivedFile, isRebuiltFile, manifestMetadata, parseManifest, serializeManifest, storedFiles, unsafeRepoPathReason, type Manifest } from '../src/store/manifest.ts';
import { pullSnapshot } from '../src/store/pull.ts';
import { PushSession, pushSnapshot } from '../src/store/push.ts';
import { git, makeTempDir, refsOf } from './helpers/git-fixtures.ts';
import { contentFingerprint, overwrite, storeScenario, type StoreScenario } from './helpers/store-fixtures.ts';

const cleanups = cleanupAfterEach();

function scenario(): StoreScenario {
  const s = storeScenario();
  cleanups.push(s.cleanup);
  return s;
}

const fsckClean = (dir: string) => execFileSync('git', ['-c', 'safe.directory=*', 'fsck', '--full', '--strict', '--no-dangling'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('store push and pull', () => {
  it('pushes a snapshot and pulls it onto an empty directory: same bytes, git fsck clean, same refs', async () => {
    const s = scenario();
    const snapshot = await s.syncSnapshot();
    const metadata = await readMetadata(snapshot);
    const result = await pushSnapshot(s.store, snapshot);
    expect(result).toMatchObject({ repository: 'acme/widgets', snapshot: metadata.name, alreadyInStore: false, reusedObjects: 0 });
    // snapshot.json and packed-refs travel inside the manifest, pack indexes are rebuilt from their packs; every
    // other file is an object.
    const carried = ['packed-refs', 'snapshot.json'];
    const derived = Object.keys(metadata.files).filter((p) => /^objects\/pack\/pack-[0-9a-f]{40}\.(idx|rev)$/.test(p));
    expect(Object.keys(metadata.files)).toContain('packed-refs');
    expect(derived.filter((p) => p.endsWith('.idx')).length).toBeGreaterThan(0);
    expect(result.uploadedObjects).toBe(Object.keys(metadata.files).length - 1 - derived.length);
    expect(result.derivedFiles).toBe(derived.length);

    // The store holds the marker, one object per file content, and the manifest: no pack index.
    expect(existsSync(s.store.filePath(formatMarkerKey()))).toBe(true);
    expect(formatMarkerKey()).toBe('store-format-v2.json');
    for (const [path, file] of Object.entries(metadata.files)) {
      if (carried.includes(path) || derived.includes(path)) expect(existsSync(s.store.filePath(objectKey(file.sha256))), path).toBe(false);
      else expect(readFileSync(s.store.filePath(objectKey(file.sha256)))).toEqual(readFileSync(join(snapshot, path)));
    }
    // The manifest is gzip-compressed JSON whose snapshot is snapshot.json, and the only list of refs.
    const stored = readFileSync(s.store.filePath(manifestKey('acme/widgets', metadata.name)));
    const json = JSON.parse(gunzipSync(stored).toString('utf8')) as Record<string, unknown>;
    expect(`${JSON.stringify(json.snapshot, null, 2)}\n`).toBe(readFileSync(join(snapshot, 'snapshot.json'), 'utf8'));
    expect(Object.keys(json)).not.toContain('refs');
    const manifest = await readManifest(s.store, 'acme/widgets', metadata.name);
    expect(manifestMetadata(manifest).refs).toEqual(metadata.refs);
    expect(manifest.files.map((f) => f.path)).toEqual([...Object.keys(metadata.files), 'snapshot.json'].sort());
    expect(manifest.files.filter(isRebuiltFile).map((f) => f.path)).toEqual(carried);
    expect(manifest.files.filter(isDerivedFile)).toEqual(derived.map((path) => ({ path, ...metadata.files[path]!, derivedFrom: path.replace(/\.(idx|rev)$/, '.pack') })));
    expect(manifest.version).toBe(3);

    // As a snapshot: byte-identical, snapshot.json and the rebuilt indexes included.
    const asSnapshot = join(makeTempDir('gpb-pull-'), 'snap');
    await pullSnapshot(s.store, manifest, asSnapshot, { layout: 'snapshot' });
    expect(await contentFingerprint(asSnapshot)).toEqual(await contentFingerprint(snapshot));
    // As a repository on an empty machine: fsck clean, refs and HEAD as upstream.
    const repo = join(makeTempDir('gpb-pull-'), 'widgets.git');
    await pullSnapshot(s.store, manifest, repo, { layout: 'repository' });
    expect(existsSync(join(repo, 'snapshot.json'))).toBe(false);
    fsckClean(repo);
    expect(refsOf(repo)).toEqual(refsOf(s.upstream.bare));
    expect(git(repo, 'symbolic-ref', 'HEAD').trim()).toBe('refs/heads/main');
    const clone = join(makeTempDir('gpb-clone-'), 'w');
    git(repo, 'clone', '--quiet', repo, clone);
    expect(git(clone, 'log', '-1', '--format=%s').trim()).toBe('Merge feature');
  });

  it('a second push uploads nothing, and a day with nothing new costs at most 3 requests', async () => {
    const s = scenario();
    const snapshot = await s.syncSnapshot();
    await pushSnapshot(s.store, snapshot);
    const before = s.store.calls.length;
    const again = await pushSnapshot(s.store, snapshot);
    expect(again.alreadyInStore).toBe(true);
    expect(s.store.calls.slice(before).filter((c) => c.op === 'putOnce')).toEqual([]);

    const mark = s.store.calls.length;
    const session = new PushSession(s.store);
    const results = await session.pushRepository('acme/widgets', [snapshot]);
    await session.close();
    expect(results).toEqual([]);
    const calls = s.store.calls.slice(mark);
    expect(calls.length).toBeLessThanOrEqual(3);
    expect(calls.every((c) => c.op === 'list')).toBe(true);
  });

  it('the next day uploads only the new pack, the changed small files and the manifest', async () => {
    const s = scenario();
    const first = await s.syncSnapshot();
    await pushSnapshot(s.store, first);
    s.clock.advanceDays(1);
    const second = await s.syncSnapshot('day two');
    const [m1, m2] = [await readMetadata(first), await readMetadata(second)];
    const newFiles = Object.entries(m2.files).filter(([path, f]) => m1.files[path]?.sha256 !== f.sha256);
    const newPacks = newFiles.filter(([path]) => /\.pack$/.test(path));
    expect(newPacks).toHaveLength(1);

    const mark = s.store.calls.length;
    const session = new PushSession(s.store);
    const [result] = await session.pushRepository('acme/widgets', [first, second]);
    await session.close();
    const calls = s.store.calls.slice(mark);
    // Besides objects and the manifest, only the push's lease: written, a look for a prune's, deleted when done.
    expect(calls.filter((c) => c.key.startsWith('locks/')).map((c) => `${c.op} ${c.key.replace(/\/[^/]+\/\d+$/, '/ID/N')}`)).toEqual([
      'putOnce locks/shared/ID/N',
      'list locks/exclusive/',
      'delete locks/shared/ID/N',
    ]);
    const written = calls.filter((c) => c.op === 'putOnce' && !c.key.startsWith('locks/')).map((c) => c.key);
    // packed-refs changed too, but it travels in the manifest, as snapshot.json does; the new pack's index is
    // rebuilt from it.
    const uploadedFiles = newFiles.filter(([path]) => path !== 'packed-refs' && !path.endsWith('.idx'));
    expect(uploadedFiles.length).toBe(newFiles.length - 2);
    const expectedKeys = new Set([...uploadedFiles.map(([, f]) => objectKey(f.sha256)), manifestKey('acme/widgets', m2.name)]);
    expect(new Set(written)).toEqual(expectedKeys);
    // The push listed what the store holds, so it never asked about a key before writing it.
    expect(calls.filter((c) => c.op === 'head')).toEqual([]);
    expect(result!.reusedObjects).toBeGreaterThan(0);
    const manifest = await readManifest(s.store, 'acme/widgets', m2.name);

    // Bytes: the new pack plus small files (the bench measures the ratio over 30 days).
    const newPackBytes = newPacks.reduce((n, [, f]) => n + f.size, 0);
    const smallBytes = uploadedFiles.filter(([path]) => !/\.pack$/.test(path)).reduce((n, [, f]) => n + f.size, 0);
    const manifestBytes = readFileSync(s.store.filePath(manifestKey('acme/widgets', m2.name))).length;
    expect(result!.uploadedBytes).toBe(newPackBytes + smallBytes + manifestBytes);

    // Both snapshots are listed, and the newer one restores with the new commit.
    expect((await listStoredSnapshots(s.store, 'acme/widgets')).map((x) => x.snapshot)).toEqual([m1.name, m2.name]);
    expect((await resolveStoredSnapshot(s.store, 'acme/widgets')).snapshot).toBe(m2.name);
    const repo = join(makeTempDir('gpb-pull-'), 'w.git');
    await pullSnapshot(s.store, manifest, repo, { layout: 'repository' });
    fsckClean(repo);
    expect(refsOf(repo)).toEqual(refsOf(s.upstream.bare));
  });

  it('identical files across repositories are stored once', async () => {
    const a = scenario();
    const snapA = await a.syncSnapshot();
    await pushSnapshot(a.store, snapA);
    const b = storeScenario({ owner: 'acme', name: 'gadgets' });
    cleanups.push(b.cleanup);
    const snapB = await b.syncSnapshot();
    const result = await pushSnapshot(a.store, snapB);
    // HEAD, description and the like have the same bytes in both mirrors.
    expect(result.reusedObjects).toBeGreaterThan(0);
    expect((await listStoredSnapshots(a.store)).map((x) => x.repository)).toEqual(['acme/gadgets', 'acme/widgets']);
  });

  it('refuses to push a snapshot whose file no longer matches snapshot.json, and writes no manifest', async () => {
    const s = scenario();
    const snapshot = await s.syncSnapshot();
    const metadata = await readMetadata(snapshot);
    const pack = Object.keys(metadata.files).find((p) => p.endsWith('.pack'))!;
    // Same size, one byte flipped: only the checksum check while streaming can see it.
    const path = join(snapshot, pack);
    const bytes = readFileSync(path);
    bytes[bytes.length - 30]! ^= 0xff;
    chmodSync(path, 0o644);
    writeFileSync(path, bytes);
    await expect(pushSnapshot(s.store, snapshot)).rejects.toThrow(/does not match its recorded checksum/);
    expect(existsSync(s.store.filePath(objectKey(metadata.files[pack]!.sha256)))).toBe(false);
    expect(existsSync(s.store.filePath(manifestKey('acme/widgets', metadata.name)))).toBe(false);
  });

  it('writes Object Lock retention of now + days on every object and the manifest', async () => {
    const s = scenario();
    const snapshot = await s.syncSnapshot();
    const retained: Array<{ key: string; until: Date }> = [];
    const recording = Object.create(s.store) as typeof s.store;
    recording.putOnce = (key, body, options) => {
      if (options?.retention) retained.push({ key, until: options.retention.until });
      return s.store.putOnce(key, body, options);
    };
    const now = new Date('2026-05-01T00:00:00Z');
    const result = await pushSnapshot(recording, snapshot, { objectLock: { mode: 'COMPLIANCE', days: 90 }, clock: () => now });
    expect(retained).toHaveLength(result.uploadedObjects + 1);
    expect(retained.map((r) => r.key)).toContain(manifestKey('acme/widgets', result.snapshot));
    expect(new Set(retained.map((r) => r.until.toISOString()))).toEqual(new Set(['2026-07-30T00:00:00.000Z']));
  });
});

describe('store push and pull with encryption', () => {
  it('the backup side pushes with only the public key; the bucket holds no plaintext; the identity pulls it back', async () => {
    const s = scenario();
    const secret = `planted-${Date.now()}-do-not-leak`;
    writeFileSync(join(s.upstream.work, 'secret.txt'), `${secret}\n`);
    git(s.upstream.work, 'add', 'secret.txt');
    git(s.upstream.work, 'commit', '--quiet', '-m', `commit carrying ${secret}`);
    s.upstream.push('main');
    const snapshot = await s.syncSnapshot();
    const identity = await generateIdentity();
    const recipient = await identityToRecipient(identity);
    const writer = encryptedStore(s.store, [recipient]);
    const result = await pushSnapshot(writer, snapshot);
    expect(result.uploadedObjects).toBeGreaterThanOrEqual(3);
    expect(result.derivedFiles).toBeGreaterThan(0);
    // Loose objects and packs are zlib-compressed; commit subjects also sit in plain text in snapshot.json.
    for (const file of await walkFiles(s.store.dir)) expect(readFileSync(file.abs).includes(secret), file.rel).toBe(false);
    await expect(readManifest(writer, 'acme/widgets', result.snapshot)).rejects.toThrow(/BACKUP_AGE_IDENTITY_FILE/);

    const reader = encryptedStore(s.store, [recipient], [identity]);
    const manifest = await readManifest(reader, 'acme/widgets', result.snapshot);
    // Ciphertext is larger than the plaintext of the files stored as objects.
    expect(manifest.totals.storedBytes).toBeGreaterThan(storedFiles(manifest).reduce((n, f) => n + f.size, 0));
    const repo = join(makeTempDir('gpb-pull-'), 'w.git');
    await pullSnapshot(reader, manifest, repo, { layout: 'repository' });
    fsckClean(repo);
    expect(refsOf(repo)).toEqual(refsOf(s.upstream.bare));
    expect((await pushSnapshot(writer, snapshot)).alreadyInStore).toBe(true);
  });
});

describe('store format', () => {
  it('refuses a store written by another major version', async () => {
    const s = scenario();
    await ensureStoreFormat(s.store, { create: true });
    await s.store.putOnce(formatMarkerKey(3), Buffer.from('{}'));
    await expect(ensureStoreFormat(s.store, { create: true })).rejects.toThrow(/holds store format version 3; .*upgrade github-private-backup/);
    const snapshot = await s.syncSnapshot();
    await expect(pushSnapshot(s.store, snapshot)).rejects.toThrow(/version 3/);
  });

  it('refuses a version-1 store, whose manifests it cannot read, and writes nothing to it', async () => {
    const s = scenario();
    await s.store.putOnce(formatMarkerKey(1), Buffer.from('{}'));
    const snapshot = await s.syncSnapshot();
    await expect(pushSnapshot(s.store, snapshot)).rejects.toThrow(/holds store format version 1; .*an earlier github-private-backup wrote it/);
    expect(s.store.calls.filter((c) => c.op === 'putOnce').map((c) => c.key)).toEqual([formatMarkerKey(1)]);
  });

  it('readers refuse a directory that is not a store', async () => {
    const s = scenario();
    await expect(ensureStoreFormat(s.store, { create: false })).rejects.toThrow(/not a github-private-backup store/);
  });
});

describe('pull never trusts the manifest', () => {
  async function pushed(): Promise<{ s: StoreScenario; manifest: Manifest }> {
    const s = scenario();
    const snapshot = await s.syncSnapshot();
    const result = await pushSnapshot(s.store, snapshot);
    return { s, manifest: await readManifest(s.store, 'acme/widgets', result.snapshot) };
  }

  it.each([
    ['../escape', /"\." or "\.\."/],
    ['objects/../../escape', /"\." or "\.\."/],
    ['/etc/passwd', /absolute path/],
    ['hooks/post-checkout', /not a file a snapshot holds/],
    ['objects/info/alternates', /not a file a snapshot holds/],
    ['refs/heads/main.lock', /not a file a snapshot holds/],
    ['refs//heads', /path segment/],
    ['refs\\heads\\x', /backslash/],
    ['.git/config', /nested \.git/],
  ])('refuses the path %s', async (path, reason) => {
    expect(unsafeRepoPathReason(path)).toMatch(reason);
    const { s, manifest } = await pushed();
    const evil: Manifest = { ...manifest, files: [...manifest.files, { ...storedFiles(manifest)[0]!, path }] };
    const dest = join(makeTempDir('gpb-pull-'), 'x');
    await expect(pullSnapshot(s.store, evil, dest, { layout: 'repository' })).rejects.toThrow(/manifest refused/);
    expect(existsSync(dest)).toBe(false);
    // parseManifest refuses the same bytes read from a store.
    const bytes = gzipSync(JSON.stringify(evil));
    expect(() => parseManifest(bytes, 'test')).toThrow(/manifest refused/);
  });

  it('accepts every path a real snapshot holds', async () => {
    const { manifest } = await pushed();
    for (const file of manifest.files) expect(unsafeRepoPathReason(file.path)).toBeNull();
    expect(() => serializeManifest(manifest)).not.toThrow();
  });

  it('a tampered object fails the pull and leaves nothing behind', async () => {
    const { s, manifest } = await pushed();
    const pack = storedFiles(manifest).find((f) => f.path.endsWith('.pack'))!;
    const stored = s.store.filePath(pack.key);
    const bytes = readFileSync(stored);
    bytes[20]! ^= 0x01;
    overwrite(stored, bytes);
    const dest = join(makeTempDir('gpb-pull-'), 'x');
    await expect(pullSnapshot(s.store, manifest, dest, { layout: 'repository' })).rejects.toThrow(/does not match its recorded checksum/);
    expect(existsSync(dest)).toBe(false);
  });

  it('refuses a destination that is not empty, and leaves it alone', async () => {
    const { s, manifest } = await pushed();
    const dest = makeTempDir('gpb-pull-');
    mkdirSync(join(dest, 'keep'));
    await expect(pullSnapshot(s.store, manifest, dest, { layout: 'repository' })).rejects.toThrow(/not empty/);
    expect(readdirSync(dest)).toEqual(['keep']);
  });

  it('a manifest under another repository\'s key is refused', async () => {
    const { s, manifest } = await pushed();
    const key = manifestKey('acme/other', manifest.name);
    await s.store.putOnce(key, serializeManifest(manifest));
    await expect(readManifest(s.store, 'acme/other', manifest.name)).rejects.toThrow(/describes acme\/widgets/);
  });
});
