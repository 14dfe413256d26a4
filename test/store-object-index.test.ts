// An encrypted store verified and pruned by the side that holds only the public key (docs/STORE_FORMAT.md "Object
// index"): the plaintext index beside each manifest names only keys and sizes, verify finds a missing or resized
// object from it, prune forgets by the names' times and deletes what no index needs, and what is left restores
// with the identity. --repo narrows prune's policy, never its view of which objects are needed.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { describe, expect, it } from 'vitest';
import { walkFiles } from '../src/fsutil.ts';
import { listStoreCatalog, readManifest } from '../src/store/catalog.ts';
import { encryptedStore } from '../src/store/encrypted-store.ts';
import { storedFiles } from '../src/store/manifest.ts';
import { objectIndexKey, readObjectIndex } from '../src/store/object-index.ts';
import { pullSnapshot } from '../src/store/pull.ts';
import { PushSession } from '../src/store/push.ts';
import { pruneStore, type StorePruneOptions } from '../src/store/store-prune.ts';
import { verifyStore } from '../src/store/store-verify.ts';
import type { Store } from '../src/store/store.ts';
import { cleanupAfterEach } from './helpers/cleanups.ts';
import { createBackup, createUpstream, fakeClock, git, makeTempDir, okValue, refsOf } from './helpers/git-fixtures.ts';
import { TestDirStore } from './helpers/dir-store.ts';

const cleanups = cleanupAfterEach();
const keepNewestOnly: StorePruneOptions['policy'] = { days: 0, weekly: 0, monthly: 0, yearly: 0, keepMin: 1 };
const PLANT = `planted-${Date.now().toString(36)}-never-in-clear`;

interface Encrypted {
  store: TestDirStore;
  writer: Store;
  reader: Store;
  /** Snapshot names per repository, oldest first. */
  names: Record<string, string[]>;
  upstreams: Record<string, ReturnType<typeof createUpstream>>;
}

/**
 * Two repositories, three days each (the mirror repacked before the third, so older packs become theirs alone),
 * pushed to an encrypted directory store by a writer that holds only the public key, with object indexes.
 */
async function encryptedStoreWithHistory(): Promise<Encrypted> {
  const identity = await generateIdentity();
  const recipient = await identityToRecipient(identity);
  const dir = makeTempDir('gpb-store-idx-');
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const store = new TestDirStore(dir);
  const writer = encryptedStore(store, [recipient]);
  const reader = encryptedStore(store, [recipient], [identity]);
  const clock = fakeClock();
  const names: Record<string, string[]> = {};
  const upstreams: Record<string, ReturnType<typeof createUpstream>> = {};
  for (const name of ['widgets', 'gadgets']) {
    const upstream = createUpstream({ name });
    cleanups.push(() => upstream.cleanup());
    upstreams[`acme/${name}`] = upstream;
    const backup = createBackup([upstream], {}, clock.now);
    cleanups.push(() => rmSync(join(backup.root, '..'), { recursive: true, force: true }));
    const dirs: string[] = [];
    for (let day = 0; day < 3; day++) {
      if (day) {
        clock.advanceDays(1);
        // Named for the repository, so the two histories (and their packs) differ.
        upstream.commit(`${name} day ${day} carrying ${PLANT}`, `day-${day}.txt`);
        upstream.push('main');
      }
      if (day === 2) git(join(backup.root, 'immutable', 'acme', `${name}.git`), 'repack', '-a', '-d', '-q');
      dirs.push(okValue(await backup.engineWith({}, clock.now).sync()).snapshot!.path);
    }
    const session = new PushSession(writer, { objectIndex: true });
    await session.pushRepository(`acme/${name}`, dirs);
    await session.close();
    names[`acme/${name}`] = dirs.map((d) => d.split('/').at(-1)!);
  }
  return { store, writer, reader, names, upstreams };
}

/** Make every stored object and index look `days` old (the directory store's lastModified is the file's mtime). */
function ageAll(store: TestDirStore, days: number): void {
  const t = new Date(Date.now() - days * 86_400_000);
  for (const file of execFileSync('find', [store.dir, '-type', 'f'], { encoding: 'utf8' }).trim().split('\n')) utimesSync(file, t, t);
}

describe('object indexes of an encrypted store', () => {
  it('are plaintext lists of keys and sizes that match the manifests, and nothing in the store holds the planted string', async () => {
    const e = await encryptedStoreWithHistory();
    for (const file of await walkFiles(e.store.dir)) expect(readFileSync(file.abs).includes(PLANT), file.rel).toBe(false);
    const name = e.names['acme/widgets']![2]!;
    const raw = readFileSync(e.store.filePath(objectIndexKey('acme/widgets', name)), 'utf8');
    const parsed = JSON.parse(raw) as { objects: Record<string, number> };
    expect(Object.keys(parsed)).toEqual(['format', 'version', 'repository', 'name', 'objects']);
    for (const [key, size] of Object.entries(parsed.objects)) {
      expect(key).toMatch(/^objects\/[0-9a-f]{2}\/[0-9a-f]{64}$/);
      expect(size).toBe(readFileSync(e.store.filePath(key)).length);
    }
    // The manifest beside it is age ciphertext, and what it names is exactly the index.
    expect(readFileSync(e.store.filePath(`snapshots/acme/widgets/${name}.json.gz`)).subarray(0, 21).toString('latin1')).toBe('age-encryption.org/v1');
    const manifest = await readManifest(e.reader, 'acme/widgets', name);
    expect(Object.fromEntries(storedFiles(manifest).map((f) => [f.key, f.storedSize]))).toEqual(parsed.objects);
    // The writer cannot read the manifest, but can read the index.
    await expect(readManifest(e.writer, 'acme/widgets', name)).rejects.toThrow(/BACKUP_AGE_IDENTITY_FILE/);
    expect((await readObjectIndex(e.writer, 'acme/widgets', name)).objects).toEqual(parsed.objects);
  });

  it('let the writer verify existence and sizes, and find a missing and a resized object', async () => {
    const e = await encryptedStoreWithHistory();
    const sound = await verifyStore(e.writer, { readFrom: 'object indexes' });
    expect(sound).toMatchObject({ ok: true, readFrom: 'object indexes', snapshots: 6, problems: [], objectsRead: 0 });
    await expect(verifyStore(e.writer, { readFrom: 'object indexes', readData: 1 })).rejects.toThrow(/needs BACKUP_AGE_IDENTITY_FILE/);

    const index = await readObjectIndex(e.writer, 'acme/widgets', e.names['acme/widgets']![2]!);
    // Two objects of widgets alone (the repositories share a few small files, HEAD for one).
    const gadgets = new Set((await Promise.all(e.names['acme/gadgets']!.map((n) => readObjectIndex(e.writer, 'acme/gadgets', n)))).flatMap((i) => Object.keys(i.objects)));
    const [gone, grown] = Object.keys(index.objects).filter((k) => !gadgets.has(k));
    expect(grown).toBeDefined();
    rmSync(e.store.filePath(gone!));
    execFileSync('chmod', ['u+w', e.store.filePath(grown!)]);
    execFileSync('sh', ['-c', 'printf x >> "$1"', 'sh', e.store.filePath(grown!)]);
    const broken = await verifyStore(e.writer, { readFrom: 'object indexes', repository: 'acme/widgets' });
    expect(broken.ok).toBe(false);
    expect(broken.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: gone, problem: 'missing object' }),
        expect.objectContaining({ key: grown, problem: expect.stringMatching(/^stored size \d+, the object index recorded \d+$/) }),
      ]),
    );
    // With the identity, the manifests are read and the indexes checked against them.
    expect((await verifyStore(e.reader, { repository: 'acme/gadgets' })).ok).toBe(true);
  });

  it('a forged index is caught by a verify with the identity, and a missing one stops the writer\'s prune from deleting anything', async () => {
    const e = await encryptedStoreWithHistory();
    const name = e.names['acme/widgets']![2]!;
    const key = objectIndexKey('acme/widgets', name);
    const index = await readObjectIndex(e.writer, 'acme/widgets', name);
    const [dropped] = Object.keys(index.objects);
    delete index.objects[dropped!];
    rmSync(e.store.filePath(key));
    await e.store.putOnce(key, Buffer.from(JSON.stringify(index)));
    const checked = await verifyStore(e.reader, { repository: 'acme/widgets' });
    expect(checked.problems).toEqual([expect.objectContaining({ key, problem: 'its object index does not list the objects and sizes its manifest names' })]);

    rmSync(e.store.filePath(key));
    ageAll(e.store, 2);
    const before = (await listStoreCatalog(e.store)).snapshots.length;
    const refused = await pruneStore(e.writer, { policy: keepNewestOnly, readFrom: 'object indexes' });
    expect(refused.objects.deleted).toBe(0);
    expect(refused.problems.at(-1)).toMatch(/no object was deleted: a snapshot whose object index cannot be read/);
    // The policy itself still ran: older snapshots of both repositories were forgotten, the newest kept.
    expect((await listStoreCatalog(e.store)).snapshots.length).toBe(before - 4);
  });

  it('let the writer prune: forget by name, delete what no index needs, and the rest restores with the identity', async () => {
    const e = await encryptedStoreWithHistory();
    ageAll(e.store, 2);
    const result = await pruneStore(e.writer, { policy: keepNewestOnly, readFrom: 'object indexes' });
    expect(result.problems).toEqual([]);
    expect(result.readFrom).toBe('object indexes');
    expect(result.repositories.map((r) => [r.repository, r.forgotten])).toEqual([
      ['acme/gadgets', [e.names['acme/gadgets']![1], e.names['acme/gadgets']![0]]],
      ['acme/widgets', [e.names['acme/widgets']![1], e.names['acme/widgets']![0]]],
    ]);
    expect(result.objects.deleted).toBeGreaterThan(0); // the packs the repack replaced
    expect(result.objects.indexesDeleted).toBe(4);
    const catalog = await listStoreCatalog(e.store);
    expect(catalog.orphanIndexes).toEqual([]);
    expect(catalog.snapshots.map((s) => [s.snapshot, s.objectIndex !== null])).toEqual([
      [e.names['acme/gadgets']![2], true],
      [e.names['acme/widgets']![2], true],
    ]);
    expect((await verifyStore(e.reader, { readData: 1 })).problems).toEqual([]);
    for (const repo of ['acme/widgets', 'acme/gadgets']) {
      const dest = join(makeTempDir('gpb-pull-'), 'r.git');
      await pullSnapshot(e.reader, await readManifest(e.reader, repo, e.names[repo]![2]!), dest, { layout: 'repository' });
      git(dest, 'fsck', '--full', '--strict');
      expect(refsOf(dest)).toEqual(refsOf(e.upstreams[repo]!.bare));
    }
  });

  it('a prune narrowed to one repository forgets only its snapshots and keeps every object the other still needs', async () => {
    const e = await encryptedStoreWithHistory();
    ageAll(e.store, 2);
    const result = await pruneStore(e.reader, { policy: keepNewestOnly, repositories: ['acme/widgets'] });
    expect(result.selected).toEqual(['acme/widgets']);
    expect(result.repositories.map((r) => r.repository)).toEqual(['acme/widgets']);
    expect(result.objects.deleted).toBeGreaterThan(0);
    const left = (await listStoreCatalog(e.store)).snapshots.map((s) => `${s.repository} ${s.snapshot}`);
    expect(left).toEqual([...e.names['acme/gadgets']!.map((n) => `acme/gadgets ${n}`), `acme/widgets ${e.names['acme/widgets']![2]}`]);
    expect((await verifyStore(e.reader, { readData: 1 })).problems).toEqual([]);
  });

  it('an index left without its manifest (a push that died between them) is removed once past the grace period', async () => {
    const e = await encryptedStoreWithHistory();
    const name = e.names['acme/widgets']![1]!;
    rmSync(e.store.filePath(`snapshots/acme/widgets/${name}.json.gz`));
    expect((await listStoreCatalog(e.store)).orphanIndexes.map((o) => o.key)).toEqual([objectIndexKey('acme/widgets', name)]);
    const keepAll: StorePruneOptions['policy'] = { days: 10_000, weekly: 0, monthly: 0, yearly: 0, keepMin: 1 };
    expect((await pruneStore(e.writer, { policy: keepAll, readFrom: 'object indexes' })).objects.indexesDeleted).toBe(0); // young
    ageAll(e.store, 2);
    const aged = await pruneStore(e.writer, { policy: keepAll, readFrom: 'object indexes' });
    expect(aged.objects.indexesDeleted).toBe(1);
    expect((await listStoreCatalog(e.store)).orphanIndexes).toEqual([]);
  });
});
