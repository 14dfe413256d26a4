// Large packs and the restore time (docs/STORE_FORMAT.md "Pack indexes", docs/BENCHMARKS.md "Restore from the
// store"): a pack of DERIVE_INDEX_BELOW_BYTES or more keeps its .idx as an object, so a pull downloads it (checked
// against the manifest's sha256) instead of running git index-pack on the whole pack; small packs stay derived; a
// large pack an earlier push derived gets its index uploaded by the next push; and a restore from the store checks
// what it built like any restore, a whole fsck only with --verify full. Real git, a real 17 MiB pack.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createGitCommandManager } from '../src/git/git.ts';
import { readMetadata } from '../src/metadata.ts';
import { Redactor } from '../src/redact.ts';
import { readManifest } from '../src/store/catalog.ts';
import { objectKey } from '../src/store/format.ts';
import { isDerivedFile, isStoredFile, type Manifest } from '../src/store/manifest.ts';
import { pullSnapshot } from '../src/store/pull.ts';
import { DERIVE_INDEX_BELOW_BYTES, PushSession } from '../src/store/push.ts';
import { verifyStore } from '../src/store/store-verify.ts';
import { cleanupAfterEach } from './helpers/cleanups.ts';
import { corruptObjectInPack } from './helpers/damaged-pack.ts';
import { setEnv } from './helpers/env.ts';
import { recordGitCalls } from './helpers/git-calls.ts';
import { createBackup, createUpstream, git, makeTempDir, okValue, refsOf } from './helpers/git-fixtures.ts';
import { contentFingerprint, overwrite, storeScenario, type StoreScenario } from './helpers/store-fixtures.ts';

const cleanups = cleanupAfterEach();
const BIG = DERIVE_INDEX_BELOW_BYTES + (1 << 20);

/** Commit BIG random bytes (zlib cannot shrink them, so the pack that carries them is larger than BIG). */
function commitBigBlob(work: string): string {
  writeFileSync(join(work, 'big.bin'), randomBytes(BIG));
  git(work, 'add', 'big.bin');
  git(work, 'commit', '--quiet', '-m', 'add a big blob');
  git(work, 'push', '--quiet', 'origin', 'main');
  return git(work, 'rev-parse', 'HEAD:big.bin').trim();
}

function scenario(): StoreScenario {
  const s = storeScenario();
  cleanups.push(s.cleanup);
  return s;
}

const packsOf = (snapshot: string) => readdirSync(join(snapshot, 'objects/pack')).filter((n) => n.endsWith('.pack')).map((n) => `objects/pack/${n}`);
const idxOf = (pack: string) => pack.replace(/\.pack$/, '.idx');
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const sizeIn = (snapshot: string, path: string) => readFileSync(join(snapshot, path)).length;

async function push(s: StoreScenario, dirs: string[], options: ConstructorParameters<typeof PushSession>[1] = {}): Promise<Manifest[]> {
  const session = new PushSession(s.store, options);
  try {
    const results = await session.pushRepository('acme/widgets', dirs);
    return Promise.all(results.map((r) => readManifest(s.store, 'acme/widgets', r.snapshot)));
  } finally {
    await session.close();
  }
}

/** Pull `manifest` into a new directory, counting the git index-pack runs it takes (a recording git first on PATH). */
async function pullCountingIndexPacks(s: StoreScenario, manifest: Manifest): Promise<{ dir: string; indexPacks: number }> {
  const tmp = makeTempDir('gpb-large-pull-');
  cleanups.push(() => execFileSync('rm', ['-rf', tmp]));
  const calls = recordGitCalls(tmp);
  const restoreEnv = setEnv({ PATH: calls.path });
  try {
    const dir = join(tmp, 'snap');
    await pullSnapshot(s.store, manifest, dir, { layout: 'snapshot', git: createGitCommandManager({ redactor: new Redactor() }) });
    return { dir, indexPacks: calls.take().filter((c) => c === 'index-pack').length };
  } finally {
    restoreEnv();
  }
}

describe('a pack of 16 MiB or more keeps its index as an object', () => {
  it('its .idx is uploaded and downloaded, a small pack\'s is derived, and the pull runs git index-pack on the small pack only', async () => {
    const s = scenario();
    commitBigBlob(s.upstream.work);
    const first = await s.syncSnapshot();
    s.clock.advanceDays(1);
    const second = await s.syncSnapshot('day two');
    const [bigPack] = packsOf(first);
    const smallPack = packsOf(second).find((p) => p !== bigPack)!;
    expect(sizeIn(first, bigPack!)).toBeGreaterThanOrEqual(DERIVE_INDEX_BELOW_BYTES);
    expect(sizeIn(second, smallPack)).toBeLessThan(DERIVE_INDEX_BELOW_BYTES);

    const [, m2] = await push(s, [first, second]);
    const byPath = new Map(m2!.files.map((f) => [f.path, f]));
    const bigIdx = byPath.get(idxOf(bigPack!))!;
    expect(isStoredFile(bigIdx)).toBe(true);
    // The store holds the snapshot's own index bytes under their sha256.
    expect(readFileSync(s.store.filePath(objectKey(bigIdx.sha256)))).toEqual(readFileSync(join(second, idxOf(bigPack!))));
    expect(byPath.get(idxOf(smallPack))).toMatchObject({ derivedFrom: smallPack });

    const pulled = await pullCountingIndexPacks(s, m2!);
    expect(pulled.indexPacks).toBe(1);
    expect(await contentFingerprint(pulled.dir)).toEqual(await contentFingerprint(second));
    expect(refsOf(pulled.dir)).toEqual(refsOf(s.upstream.bare));
  });

  it('a store whose large pack an earlier push derived still restores, and the next push uploads that index once', async () => {
    const s = scenario();
    commitBigBlob(s.upstream.work);
    const first = await s.syncSnapshot();
    const [bigPack] = packsOf(first);
    // What the version before this rule wrote: every index that rebuilds byte for byte derived, however large.
    const [m1] = await push(s, [first], { deriveIndexBelowBytes: Number.POSITIVE_INFINITY });
    expect(m1!.files.find((f) => f.path === idxOf(bigPack!))).toMatchObject({ derivedFrom: bigPack });
    const bigIdxKey = objectKey((await readMetadata(first)).files[idxOf(bigPack!)]!.sha256);
    expect(existsSync(s.store.filePath(bigIdxKey))).toBe(false);
    const old = await pullCountingIndexPacks(s, m1!);
    expect(old.indexPacks).toBe(1);
    expect(await contentFingerprint(old.dir)).toEqual(await contentFingerprint(first));

    s.clock.advanceDays(1);
    const second = await s.syncSnapshot('day two');
    const mark = s.store.calls.length;
    const [m2] = await push(s, [first, second]);
    expect(s.store.calls.slice(mark).filter((c) => c.op === 'putOnce' && c.key === bigIdxKey)).toHaveLength(1);
    expect(m2!.files.find((f) => f.path === idxOf(bigPack!))).toMatchObject({ key: bigIdxKey });
    // The earlier manifest is never rewritten: it still derives, and still restores.
    expect((await readManifest(s.store, 'acme/widgets', m1!.name)).files.find((f) => f.path === idxOf(bigPack!))).toMatchObject({ derivedFrom: bigPack });

    s.clock.advanceDays(1);
    const third = await s.syncSnapshot('day three');
    const again = s.store.calls.length;
    const [m3] = await push(s, [first, second, third]);
    expect(s.store.calls.slice(again).filter((c) => c.op === 'putOnce' && c.key === bigIdxKey)).toEqual([]);
    expect(m3!.files.find((f) => f.path === idxOf(bigPack!))).toMatchObject({ key: bigIdxKey });
    expect(m3!.files.filter(isDerivedFile).map((f) => f.derivedFrom)).not.toContain(bigPack);
  });

  it('a stored index changed in the store fails the pull naming it, leaves nothing, and store verify --read-data finds it', async () => {
    const s = scenario();
    commitBigBlob(s.upstream.work);
    const first = await s.syncSnapshot();
    const [bigPack] = packsOf(first);
    const [manifest] = await push(s, [first]);
    const idx = manifest!.files.find((f) => f.path === idxOf(bigPack!))!;
    if (!isStoredFile(idx)) throw new Error(`${idx.path} is not stored`);
    // One byte of an object's offset changed: the same size, only its checksum tells it apart.
    const bytes = readFileSync(s.store.filePath(idx.key));
    bytes[bytes.length - 60] = bytes[bytes.length - 60]! ^ 0x01;
    overwrite(s.store.filePath(idx.key), bytes);

    const dest = join(makeTempDir('gpb-large-pull-'), 'x');
    const mismatch = `${escapeRegExp(`${idx.path} (${idx.key})`)}: content does not match its recorded checksum`;
    await expect(pullSnapshot(s.store, manifest!, dest, { layout: 'repository' })).rejects.toThrow(new RegExp(mismatch));
    expect(existsSync(dest)).toBe(false);
    const verified = await verifyStore(s.store, { readData: 1 });
    expect(verified.ok).toBe(false);
    expect(verified.problems).toContainEqual(expect.objectContaining({ path: idx.path, key: idx.key, problem: expect.stringMatching(/content does not match its recorded checksum/) }));
  });
});

describe('restore --from-store checks what it built like any restore', () => {
  it('a blob damaged before the snapshot was taken passes the default check and fails --verify full', async () => {
    const u = createUpstream();
    cleanups.push(u.cleanup);
    const blob = commitBigBlob(u.work);
    const storeDir = makeTempDir('gpb-store-');
    cleanups.push(() => rmSync(storeDir, { recursive: true, force: true }));
    const store = { url: `file://${storeDir}` };
    const b = createBackup([u], { store });
    okValue(await b.engine.init());
    // The damage is in the mirror's pack before any snapshot: snapshot.json and the manifest record its checksum.
    corruptObjectInPack(join(b.root, 'immutable/acme/widgets.git'), blob);
    okValue(await b.engine.snapshot());

    const fresh = createBackup([u], { store });
    const out = makeTempDir('gpb-large-restore-');
    cleanups.push(() => execFileSync('rm', ['-rf', out]));
    const quick = join(out, 'quick');
    expect(okValue(await fresh.engine.restore({ fromStore: true, to: quick }))).toMatchObject({ mode: 'to-dir', fromStore: `file://${storeDir}` });
    // The default check reads no blob; git's whole check finds the damage, which really reached the copy.
    expect(() => execFileSync('git', ['fsck', '--full', '--no-progress'], { cwd: quick, stdio: 'pipe' })).toThrow();
    // Its files are its own: whatever it took from the pulled scratch by hard link, the scratch is gone.
    for (const pack of packsOf(quick)) expect(statSync(join(quick, pack)).nlink).toBe(1);
    expect(readdirSync(join(fresh.root, 'immutable')).filter((n) => n.startsWith('.tmp-store-'))).toEqual([]);

    const full = await fresh.engine.restore({ fromStore: true, to: join(out, 'full'), verify: 'full' });
    expect(full.outcomes[0]!.ok).toBe(false);
    expect(full.outcomes[0]!.ok ? '' : full.outcomes[0]!.error).toMatch(new RegExp(`restored repository failed git fsck: .*${blob}`));
    expect(readdirSync(out)).toEqual(['quick']);
  });
});
