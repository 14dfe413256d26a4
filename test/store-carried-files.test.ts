// The two files a manifest carries instead of objects (docs/STORE_FORMAT.md "Files the manifest carries"):
// snapshot.json and packed-refs come back byte for byte, also for ref names that are not UTF-8 and annotated tags;
// a file that would not render back exactly is stored as an object instead; a manifest whose carried files do not
// match their checksums, or that uncompresses without end, is refused.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readMetadata, type SnapshotMetadata } from '../src/metadata.ts';
import { refKeyFromBytes } from '../src/refs.ts';
import { readManifest } from '../src/store/catalog.ts';
import { manifestKey } from '../src/store/format.ts';
import { isRebuiltFile, MAX_MANIFEST_BYTES, parseManifest, type Manifest } from '../src/store/manifest.ts';
import { pullSnapshot } from '../src/store/pull.ts';
import { pushSnapshot } from '../src/store/push.ts';
import { packedRefsSpec, renderPackedRefs, sha256Hex } from '../src/store/rebuilt-files.ts';
import { cleanupAfterEach } from './helpers/cleanups.ts';
import { git, makeTempDir } from './helpers/git-fixtures.ts';
import { contentFingerprint, storeScenario, type StoreScenario } from './helpers/store-fixtures.ts';

const cleanups = cleanupAfterEach();

function scenario(): StoreScenario {
  const s = storeScenario();
  cleanups.push(s.cleanup);
  return s;
}

const carried = (manifest: Manifest) => manifest.files.filter(isRebuiltFile).map((f) => f.path);

/** Set a ref to raw name bytes (git takes any bytes but a few; argv cannot carry invalid UTF-8). */
function setRawRef(bare: string, name: Buffer, oid: string): void {
  execFileSync('git', ['update-ref', '--stdin', '-z'], { cwd: bare, input: Buffer.concat([Buffer.from('update '), name, Buffer.from(`\0${oid}\0\0`)]) });
}

describe('files the manifest carries', () => {
  it('packed-refs with a non-UTF-8 ref name and a peeled annotated tag comes back byte for byte', async () => {
    const s = scenario();
    const raw = Buffer.concat([Buffer.from('refs/heads/caf'), Buffer.from([0xe9, 0xff])]);
    setRawRef(s.upstream.bare, raw, git(s.upstream.bare, 'rev-parse', 'main').trim());
    const snapshot = await s.syncSnapshot();
    const metadata = await readMetadata(snapshot);
    expect(Object.keys(metadata.refs)).toContain(refKeyFromBytes(raw));
    const packed = readFileSync(join(snapshot, 'packed-refs'));
    expect(packed.includes(raw)).toBe(true);
    expect(packed.toString('latin1')).toMatch(/\n\^[0-9a-f]{40}\n/); // v1.1 is annotated

    const result = await pushSnapshot(s.store, snapshot);
    const manifest = await readManifest(s.store, 'acme/widgets', result.snapshot);
    expect(carried(manifest)).toEqual(['packed-refs', 'snapshot.json']);
    expect(Object.keys(manifest.packedRefs!.peeled)).toEqual(['refs/tags/v1.1']);
    const pulled = join(makeTempDir('gpb-pull-'), 'snap');
    await pullSnapshot(s.store, manifest, pulled, { layout: 'snapshot' });
    expect(await contentFingerprint(pulled)).toEqual(await contentFingerprint(snapshot));
    expect(readFileSync(join(pulled, 'packed-refs'))).toEqual(packed);
  });

  it('a packed-refs with a stale entry and a snapshot.json another writer formatted are stored as objects, and still come back exactly', async () => {
    const s = scenario();
    const original = await s.syncSnapshot();
    // A snapshot as an older tool or a hand-made one could be: main loose and ahead of its packed entry, and
    // snapshot.json written without indentation.
    const copy = join(makeTempDir('gpb-hand-'), 'snapshot-20260101-020000');
    cpSync(original, copy, { recursive: true });
    execFileSync('chmod', ['-R', 'u+w', copy]);
    const feature = git(copy, 'rev-parse', 'refs/heads/feature').trim();
    mkdirSync(join(copy, 'refs', 'heads'), { recursive: true });
    writeFileSync(join(copy, 'refs', 'heads', 'main'), `${feature}\n`);
    const metadata: SnapshotMetadata = await readMetadata(copy);
    const loose = readFileSync(join(copy, 'refs', 'heads', 'main'));
    metadata.refs['refs/heads/main'] = feature;
    metadata.files['refs/heads/main'] = { sha256: sha256Hex(loose), size: loose.length };
    chmodSync(join(copy, 'snapshot.json'), 0o644);
    writeFileSync(join(copy, 'snapshot.json'), `${JSON.stringify(metadata)}\n`);
    expect(packedRefsSpec(readFileSync(join(copy, 'packed-refs')), metadata.refs)).toBeNull();

    await pushSnapshot(s.store, copy);
    const manifest = await readManifest(s.store, 'acme/widgets', metadata.name);
    expect(carried(manifest)).toEqual([]);
    expect(manifest.packedRefs).toBeNull();
    const pulled = join(makeTempDir('gpb-pull-'), 'snap');
    await pullSnapshot(s.store, manifest, pulled, { layout: 'snapshot' });
    expect(await contentFingerprint(pulled)).toEqual(await contentFingerprint(copy));
    expect(git(pulled, 'rev-parse', 'refs/heads/main').trim()).toBe(feature);
  });

  it('renders git\'s own packed-refs exactly, and refuses to carry one a loose ref overrides', () => {
    const s = scenario();
    const bare = s.upstream.bare;
    const refsNow = () =>
      Object.fromEntries(
        git(bare, 'for-each-ref', '--format=%(refname) %(objectname)')
          .trim()
          .split('\n')
          .map((line) => line.split(' ') as [string, string]),
      );
    git(bare, 'pack-refs', '--all');
    const refs = refsNow();
    const packed = () => readFileSync(join(bare, 'packed-refs'));
    const spec = packedRefsSpec(packed(), refs);
    expect(spec).not.toBeNull();
    expect(renderPackedRefs(refs, spec!)).toEqual(packed());
    // A loose main now overrides its packed entry: no rendering of the refs gives that file.
    git(bare, 'update-ref', 'refs/heads/main', refs['refs/heads/feature']!);
    expect(refsNow()['refs/heads/main']).toBe(refs['refs/heads/feature']);
    expect(packedRefsSpec(packed(), refsNow())).toBeNull();
  });

  it('refuses a manifest whose carried file no longer matches its checksum, and one that uncompresses without end', async () => {
    const s = scenario();
    const snapshot = await s.syncSnapshot();
    const result = await pushSnapshot(s.store, snapshot);
    const manifest = await readManifest(s.store, 'acme/widgets', result.snapshot);
    // Moving a ref inside the carried snapshot.json changes both carried files.
    const recorded = manifest.snapshot as SnapshotMetadata;
    const moved = { ...manifest, snapshot: { ...recorded, refs: { ...recorded.refs, 'refs/heads/main': recorded.refs['refs/heads/feature']! } } };
    expect(() => parseManifest(gzipSync(JSON.stringify(moved)), 'test')).toThrow(/manifest refused: (packed-refs|snapshot\.json): the bytes it rebuilds to do not match its sha256/);
    const dest = join(makeTempDir('gpb-pull-'), 'x');
    await expect(pullSnapshot(s.store, moved, dest, { layout: 'repository' })).rejects.toThrow(/manifest refused/);

    const bomb = gzipSync(Buffer.alloc(MAX_MANIFEST_BYTES + 1, 0x20));
    expect(bomb.length).toBeLessThan(256 * 1024);
    expect(() => parseManifest(bomb, 'test')).toThrow(/manifest cannot be uncompressed: larger than/);
    expect(() => parseManifest(Buffer.from(JSON.stringify(manifest)), 'test')).toThrow(/not gzip-compressed/);
    // The stored manifest is untouched by all this and still restores.
    expect(parseManifest(readFileSync(s.store.filePath(manifestKey('acme/widgets', result.snapshot))), 'test').name).toBe(result.snapshot);
  });
});
