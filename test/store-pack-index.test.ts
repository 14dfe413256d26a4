// Pack indexes derived instead of stored (docs/STORE_FORMAT.md "Pack indexes"): git index-pack with the flags of
// src/store/pack-index.ts rebuilds git's own .idx and .rev byte for byte from real packs (a clone, fetches whose thin
// packs git completed with --fix-thin, a geometric repack as sync runs it); a push uploads no index it can derive
// and uploads one it cannot, before its pack; every pull rebuilds and checks them; a store written with uploaded
// indexes (manifest version 2) still restores; a forged manifest or a replaced pack is refused.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createGitCommandManager } from '../src/git/git.ts';
import { readMetadata, type SnapshotMetadata } from '../src/metadata.ts';
import { Redactor } from '../src/redact.ts';
import { readManifest } from '../src/store/catalog.ts';
import { manifestKey, objectKey } from '../src/store/format.ts';
import { isDerivedFile, isStoredFile, parseManifest, serializeManifest, storedFiles, type Manifest, type ManifestFile } from '../src/store/manifest.ts';
import { rebuildPackIndex } from '../src/store/pack-index.ts';
import { pullSnapshot } from '../src/store/pull.ts';
import { PushSession, pushSnapshot } from '../src/store/push.ts';
import { sha256Hex } from '../src/store/rebuilt-files.ts';
import { verifyStore } from '../src/store/store-verify.ts';
import { cleanupAfterEach } from './helpers/cleanups.ts';
import { createUpstream, git, makeTempDir, refsOf } from './helpers/git-fixtures.ts';
import { contentFingerprint, forgeFiles, storeScenario, type StoreScenario } from './helpers/store-fixtures.ts';

const cleanups = cleanupAfterEach();
const gitManager = createGitCommandManager({ redactor: new Redactor() });

function scenario(): StoreScenario {
  const s = storeScenario();
  cleanups.push(s.cleanup);
  return s;
}

const fsckClean = (dir: string) => execFileSync('git', ['-c', 'safe.directory=*', 'fsck', '--full', '--strict', '--no-dangling'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const packDir = (repo: string) => join(repo, 'objects', 'pack');
const packsIn = (repo: string) => readdirSync(packDir(repo)).filter((n) => n.endsWith('.pack'));
/** Objects in a pack, as its .idx lists them. */
const objectsIn = (idx: string) => execFileSync('git', ['show-index'], { input: readFileSync(idx), encoding: 'utf8' }).split('\n').filter(Boolean).length;
/** The .idx and .rev of a pack as a manifest would record them. */
function recorded(repo: string, pack: string): Array<{ path: string; size: number; sha256: string }> {
  return ['.idx', '.rev']
    .map((ext) => pack.replace(/\.pack$/, ext))
    .filter((name) => existsSync(join(packDir(repo), name)))
    .map((name) => {
      const bytes = readFileSync(join(packDir(repo), name));
      return { path: `objects/pack/${name}`, size: bytes.length, sha256: sha256Hex(bytes) };
    });
}

/** Rebuild every pack's index files of `repo` into a directory of their own and compare them with git's. */
async function expectRebuiltExactly(repo: string, packs: string[]): Promise<void> {
  for (const pack of packs) {
    const out = makeTempDir('gpb-rebuilt-');
    cleanups.push(() => rmSync(out, { recursive: true, force: true }));
    const expected = recorded(repo, pack);
    const written = await rebuildPackIndex(gitManager, join(packDir(repo), pack), expected, out, 'test');
    for (const file of expected) expect(readFileSync(written.get(file.path)!), file.path).toEqual(readFileSync(join(repo, file.path)));
  }
}

describe('git index-pack rebuilds git\'s own pack indexes', () => {
  it('of a clone, of fetches whose thin packs --fix-thin completed (with a .rev), and of a geometric repack, byte for byte', async () => {
    const upstream = createUpstream();
    cleanups.push(() => upstream.cleanup());
    // A file big enough that each day's change travels as a delta against the copy the mirror already has.
    const lines = Array.from({ length: 3000 }, (_, i) => `line ${i} of a file that changes a little every day`);
    const commitDay = (day: number) => {
      lines[day * 11] = `changed on day ${day}`;
      writeFileSync(join(upstream.work, 'big.txt'), `${lines.join('\n')}\n`);
      git(upstream.work, 'add', 'big.txt');
      git(upstream.work, 'commit', '--quiet', '-m', `day ${day}`);
      upstream.push('main');
    };
    commitDay(0);
    const tmp = makeTempDir('gpb-index-pack-');
    cleanups.push(() => rmSync(tmp, { recursive: true, force: true }));
    const mirror = join(tmp, 'mirror.git');
    git(tmp, 'clone', '--quiet', '--mirror', upstream.bare, mirror);
    await expectRebuiltExactly(mirror, packsIn(mirror));

    for (const day of [1, 2, 3]) {
      commitDay(day);
      const before = new Set(packsIn(mirror));
      const old = git(mirror, 'rev-parse', 'main').trim();
      const rev = day === 3 ? ['-c', 'pack.writeReverseIndex=true'] : [];
      git(mirror, '-c', 'fetch.unpackLimit=1', ...rev, 'fetch', '--quiet', 'origin');
      const fetched = packsIn(mirror).filter((p) => !before.has(p));
      expect(fetched).toHaveLength(1);
      // The server sent a thin pack (a delta against a blob only the mirror has); --fix-thin appended that base.
      const sent = git(upstream.bare, 'rev-list', '--objects', `${old}..main`).split('\n').filter(Boolean).length;
      expect(objectsIn(join(packDir(mirror), fetched[0]!.replace(/\.pack$/, '.idx')))).toBeGreaterThan(sent);
      expect(recorded(mirror, fetched[0]!).map((f) => f.path.slice(-4))).toEqual(day === 3 ? ['.idx', '.rev'] : ['.idx']);
      await expectRebuiltExactly(mirror, fetched);
    }
    git(mirror, 'repack', '-d', '--geometric=2', '--quiet', '--no-write-bitmap-index');
    await expectRebuiltExactly(mirror, packsIn(mirror));
  });

  it('a rebuilt file that differs from the recorded one is an error naming it, and nothing is left of it', async () => {
    const s = scenario();
    const snapshot = await s.syncSnapshot();
    const [pack] = packsIn(snapshot);
    const [idx] = recorded(snapshot, pack!);
    const out = makeTempDir('gpb-rebuilt-');
    cleanups.push(() => rmSync(out, { recursive: true, force: true }));
    await expect(rebuildPackIndex(gitManager, join(packDir(snapshot), pack!), [{ ...idx!, sha256: '0'.repeat(64) }], out, 'test')).rejects.toThrow(
      /^test: objects\/pack\/pack-[0-9a-f]{40}\.idx rebuilt by git index-pack from objects\/pack\/pack-[0-9a-f]{40}\.pack is not the file the manifest records .*: the pack or the manifest was changed after the push$/,
    );
    expect(readdirSync(out)).toEqual([]);
  });
});

describe('a push derives what it can and uploads what it cannot', () => {
  it('an index that does not rebuild byte for byte (version 1) is uploaded, before its pack, and comes back exactly', async () => {
    const s = scenario();
    const original = await s.syncSnapshot();
    const copy = join(makeTempDir('gpb-v1-index-'), 'snapshot-20260101-020000');
    cleanups.push(() => execFileSync('rm', ['-rf', join(copy, '..')]));
    cpSync(original, copy, { recursive: true });
    execFileSync('chmod', ['-R', 'u+w', copy]);
    const [pack] = packsIn(copy);
    const idxPath = `objects/pack/${pack!.replace(/\.pack$/, '.idx')}`;
    rmSync(join(copy, idxPath));
    execFileSync('git', ['index-pack', '--index-version=1', '-o', join(copy, idxPath), join(copy, 'objects', 'pack', pack!)], { cwd: makeTempDir('gpb-cwd-'), stdio: 'ignore' });
    const metadata: SnapshotMetadata = await readMetadata(copy);
    const v1 = readFileSync(join(copy, idxPath));
    metadata.files[idxPath] = { sha256: sha256Hex(v1), size: v1.length };
    writeFileSync(join(copy, 'snapshot.json'), `${JSON.stringify(metadata, null, 2)}\n`);

    const result = await pushSnapshot(s.store, copy);
    expect(result.derivedFiles).toBe(0);
    const manifest = await readManifest(s.store, 'acme/widgets', metadata.name);
    expect(manifest.files.find((f) => f.path === idxPath)).toMatchObject({ key: objectKey(sha256Hex(v1)) });
    expect(readFileSync(s.store.filePath(objectKey(sha256Hex(v1))))).toEqual(v1);
    const puts = s.store.calls.filter((c) => c.op === 'putOnce').map((c) => c.key);
    expect(puts.indexOf(objectKey(sha256Hex(v1)))).toBeLessThan(puts.indexOf(objectKey(metadata.files[`objects/pack/${pack}`]!.sha256)));

    const pulled = join(makeTempDir('gpb-pull-'), 'snap');
    await pullSnapshot(s.store, manifest, pulled, { layout: 'snapshot' });
    expect(await contentFingerprint(pulled)).toEqual(await contentFingerprint(copy));
  });
});

/** The manifest as a store format 2 writer (before version 3) wrote it: every index uploaded as an object. */
async function asVersion2(s: StoreScenario, manifest: Manifest, snapshotDir: string): Promise<Manifest> {
  const files: ManifestFile[] = [];
  for (const file of manifest.files) {
    if (!isDerivedFile(file)) {
      files.push(file);
      continue;
    }
    const key = objectKey(file.sha256);
    const put = await s.store.putOnce(key, readFileSync(join(snapshotDir, file.path)));
    files.push({ path: file.path, size: file.size, sha256: file.sha256, key, storedSize: put.storedSize });
  }
  const storedBytes = files.reduce((n, f) => n + (isStoredFile(f) ? f.storedSize : 0), 0);
  return { ...manifest, version: 2, files, totals: { ...manifest.totals, storedBytes } };
}

describe('a store written with uploaded indexes (manifest version 2)', () => {
  it('still restores and verifies, and the next push keeps referencing the old indexes and derives only the new one', async () => {
    const s = scenario();
    const first = await s.syncSnapshot();
    const m1 = await readManifest(s.store, 'acme/widgets', (await pushSnapshot(s.store, first)).snapshot);
    const old = await asVersion2(s, m1, first);
    rmSync(s.store.filePath(manifestKey('acme/widgets', old.name)), { force: true });
    await s.store.putOnce(manifestKey('acme/widgets', old.name), serializeManifest(old));
    const stored = await readManifest(s.store, 'acme/widgets', old.name);
    expect(stored.version).toBe(2);
    expect(stored.files.filter(isDerivedFile)).toEqual([]);

    const repo = join(makeTempDir('gpb-pull-'), 'w.git');
    await pullSnapshot(s.store, stored, repo, { layout: 'repository' });
    fsckClean(repo);
    expect(await contentFingerprint(packDir(repo))).toEqual(await contentFingerprint(packDir(first)));
    const verified = await verifyStore(s.store, { readData: 1 });
    expect(verified).toMatchObject({ ok: true, problems: [] });
    expect(verified.packsChecked).toBeGreaterThan(0);

    s.clock.advanceDays(1);
    const second = await s.syncSnapshot('day two');
    const session = new PushSession(s.store);
    const mark = s.store.calls.length;
    const [result] = await session.pushRepository('acme/widgets', [first, second]);
    await session.close();
    const m2 = await readManifest(s.store, 'acme/widgets', result!.snapshot);
    expect(m2.version).toBe(3);
    const newPack = packsIn(second).find((p) => !packsIn(first).includes(p))!;
    const byPath = new Map(m2.files.map((f) => [f.path, f]));
    for (const pack of packsIn(first)) expect(isStoredFile(byPath.get(`objects/pack/${pack.replace(/\.pack$/, '.idx')}`)!)).toBe(true);
    expect(byPath.get(`objects/pack/${newPack.replace(/\.pack$/, '.idx')}`)).toMatchObject({ derivedFrom: `objects/pack/${newPack}` });
    const written = s.store.calls.slice(mark).filter((c) => c.op === 'putOnce').map((c) => c.key);
    expect(written).not.toContain(objectKey(sha256Hex(readFileSync(join(packDir(second), newPack.replace(/\.pack$/, '.idx'))))));

    const pulled = join(makeTempDir('gpb-pull-'), 'snap');
    await pullSnapshot(s.store, m2, pulled, { layout: 'snapshot' });
    expect(await contentFingerprint(pulled)).toEqual(await contentFingerprint(second));
    fsckClean(pulled);
    expect(refsOf(pulled)).toEqual(refsOf(s.upstream.bare));
  });
});

describe('derived indexes are checked, never trusted', () => {
  async function pushed(): Promise<{ s: StoreScenario; manifest: Manifest; snapshot: string }> {
    const s = scenario();
    const snapshot = await s.syncSnapshot();
    const result = await pushSnapshot(s.store, snapshot);
    return { s, snapshot, manifest: await readManifest(s.store, 'acme/widgets', result.snapshot) };
  }

  it('a manifest whose index checksum was changed: the pull fails naming it, leaves nothing, and verify --read-data finds it', async () => {
    const { s, manifest } = await pushed();
    const forged = forgeFiles(manifest, 'snapshot-20300101-000000', manifest.files.map((f) => (isDerivedFile(f) ? { ...f, sha256: sha256Hex(Buffer.from('another index')) } : f)));
    const dest = join(makeTempDir('gpb-pull-'), 'x');
    await expect(pullSnapshot(s.store, forged, dest, { layout: 'repository' })).rejects.toThrow(/objects\/pack\/pack-[0-9a-f]{40}\.idx rebuilt by git index-pack from .* is not the file the manifest records/);
    expect(existsSync(dest)).toBe(false);
    await s.store.putOnce(manifestKey('acme/widgets', forged.name), serializeManifest(forged));
    const result = await verifyStore(s.store, { readData: 1 });
    expect(result.problems).toEqual([expect.objectContaining({ snapshot: `acme/widgets ${forged.name}`, problem: expect.stringMatching(/is not the file the manifest records/) })]);
  });

  it('a pack replaced by another real pack under its own checksum: the rebuilt index gives it away', async () => {
    const { s, manifest } = await pushed();
    const other = execFileSync('git', ['pack-objects', '--revs', '--stdout', '-q'], { cwd: s.upstream.bare, input: 'v1.0\n' });
    const sha256 = sha256Hex(other);
    await s.store.putOnce(objectKey(sha256), other);
    const forged = forgeFiles(
      manifest,
      'snapshot-20300101-000000',
      manifest.files.map((f) => (isStoredFile(f) && f.path.endsWith('.pack') ? { ...f, sha256, key: objectKey(sha256), size: other.length, storedSize: other.length } : f)),
    );
    const dest = join(makeTempDir('gpb-pull-'), 'x');
    await expect(pullSnapshot(s.store, forged, dest, { layout: 'repository' })).rejects.toThrow(/\.idx rebuilt by git index-pack from objects\/pack\/pack-[0-9a-f]{40}\.pack is not the file the manifest records/);
    expect(existsSync(dest)).toBe(false);
  });

  it('refuses a derived file that is not a pack\'s own index, whose pack is not stored, or in a version-2 manifest', async () => {
    const { manifest } = await pushed();
    const derived = manifest.files.find(isDerivedFile)!;
    const pack = storedFiles(manifest).find((f) => f.path === derived.derivedFrom)!;
    const refused = (m: Manifest) => () => parseManifest(gzipSync(JSON.stringify(m)), 'test');
    const withFiles = (files: ManifestFile[]) => forgeFiles(manifest, manifest.name, files);
    expect(refused(withFiles(manifest.files.map((f) => (f === derived ? { ...f, derivedFrom: 'objects/pack/pack-0000000000000000000000000000000000000000.pack' } : f))))).toThrow(
      /manifest refused: .*only a pack's own \.idx or \.rev is derived/,
    );
    expect(refused(withFiles(manifest.files.filter((f) => f !== pack)))).toThrow(/manifest refused: .*is not a stored file of this manifest/);
    expect(refused({ ...manifest, version: 2 })).toThrow(/manifest refused: .*a version-2 manifest derives no files/);
    const config = storedFiles(manifest).find((f) => f.path === 'config')!;
    expect(refused(withFiles(manifest.files.map((f) => (f === config ? { path: 'config', size: f.size, sha256: f.sha256, derivedFrom: derived.derivedFrom } : f))))).toThrow(
      /manifest refused: .*only a pack's own \.idx or \.rev is derived/,
    );
  });
});
