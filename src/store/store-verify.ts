// store verify: every manifest readable and every object it names present with the stored size it recorded (one
// listing of objects/); with read-data (all, or a random subset), every chosen object downloaded and its sha256
// checked, and every chosen pack checked by git verify-pack against its index (docs/STORE_FORMAT.md "Verify").
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { AbortedError, BackupError, errorMessage, ExitCode } from '../errors.ts';
import { createGitCommandManager, type GitCommandManager } from '../git/git.ts';
import { Redactor } from '../redact.ts';
import { listStoreCatalog, readManifest, type StoredSnapshot } from './catalog.ts';
import { ensureStoreFormat, OBJECTS_PREFIX } from './format.ts';
import { derivedByPack, storedFiles, type Manifest, type StoredManifestFile } from './manifest.ts';
import { readObjectIndex } from './object-index.ts';
import { isPackPath, rebuildPackIndex } from './pack-index.ts';
import type { Store } from './store.ts';
import { forEachLimit, Sha256Check } from './transfer.ts';

export interface StoreVerifyOptions {
  /** Only this repository's manifests (owner/name). */
  repository?: string;
  /** Download and check this share of the referenced objects: 1 is --read-data, 0.05 is --read-data-subset 5%. */
  readData?: number;
  /**
   * Where the list of each snapshot's objects comes from. 'object indexes' when bodies cannot be read (an
   * encrypted store without the identity): existence and sizes are checked, contents cannot be.
   */
  readFrom?: StoreReadFrom;
  /** Picks the subset (tests pass a seeded one). */
  random?: () => number;
  git?: GitCommandManager;
  concurrency?: number;
  signal?: AbortSignal;
}

export interface StoreVerifyProblem {
  /** owner/name snapshot-…, when the problem belongs to one snapshot. */
  snapshot?: string;
  key?: string;
  path?: string;
  problem: string;
}

/** What verify and prune read to learn each snapshot's objects (docs/STORE_FORMAT.md "Object index"). */
export type StoreReadFrom = 'manifests' | 'object indexes';

export interface StoreVerifyResult {
  ok: boolean;
  readFrom: StoreReadFrom;
  snapshots: number;
  /** Distinct objects the manifests reference. */
  objects: number;
  /** Objects no manifest references (an interrupted push; prune removes them after the grace period). */
  unreferencedObjects: number;
  objectsRead: number;
  bytesRead: number;
  packsChecked: number;
  problems: StoreVerifyProblem[];
}

interface Reference {
  file: StoredManifestFile;
  manifest: Manifest;
}

/** Choose ceil(share * n) of `items` at random (at least one when share > 0 and there are any). */
function subset<T>(items: readonly T[], share: number, random: () => number): T[] {
  if (share >= 1) return [...items];
  const shuffled = [...items];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  return shuffled.slice(0, Math.min(items.length, Math.max(1, Math.ceil(share * items.length))));
}

const discard = () =>
  new Writable({
    write(_chunk, _encoding, callback) {
      callback();
    },
  });

/** One stored object a snapshot needs, and the manifest file it is (unknown when only the object index was read). */
interface Needed {
  key: string;
  storedSize: number;
  reference?: Reference;
}

/**
 * The objects `s` needs: from its manifest, whose object index (when it has one) must agree, else `disagree` is
 * told why; or from the index alone. Throws when the one read cannot be.
 */
async function neededObjects(store: Store, s: StoredSnapshot, readFrom: StoreReadFrom, disagree: (problem: string) => void): Promise<Needed[]> {
  if (readFrom === 'object indexes') {
    if (!s.objectIndex) throw new BackupError('no object index beside it (pushed unencrypted, or by an older tool): verify it with BACKUP_AGE_IDENTITY_FILE set');
    const index = await readObjectIndex(store, s.repository, s.snapshot);
    return Object.entries(index.objects).map(([key, storedSize]) => ({ key, storedSize }));
  }
  const manifest = await readManifest(store, s.repository, s.snapshot);
  const needed = storedFiles(manifest).map((file) => ({ key: file.key, storedSize: file.storedSize, reference: { file, manifest } }));
  if (s.objectIndex) {
    try {
      const indexed = Object.entries((await readObjectIndex(store, s.repository, s.snapshot)).objects);
      const byKey = new Map(needed.map((n) => [n.key, n.storedSize]));
      if (indexed.length !== byKey.size || indexed.some(([key, size]) => byKey.get(key) !== size)) disagree('its object index does not list the objects and sizes its manifest names');
    } catch (error) {
      disagree(`unreadable object index: ${errorMessage(error)}`);
    }
  }
  return needed;
}

export async function verifyStore(store: Store, options: StoreVerifyOptions = {}): Promise<StoreVerifyResult> {
  await ensureStoreFormat(store, { create: false });
  const readFrom = options.readFrom ?? 'manifests';
  if (readFrom === 'object indexes' && options.readData) {
    throw new BackupError(`${store.location} is encrypted: reading the data back needs BACKUP_AGE_IDENTITY_FILE (docs/STORE_BACKENDS.md "Encryption")`, ExitCode.AUTH);
  }
  const problems: StoreVerifyProblem[] = [];
  const { snapshots } = await listStoreCatalog(store, options.repository);
  const needs: Needed[][] = [];
  const what = readFrom === 'manifests' ? 'manifest' : 'object index';
  for (const s of snapshots) {
    const snapshot = `${s.repository} ${s.snapshot}`;
    try {
      needs.push(await neededObjects(store, s, readFrom, (problem) => problems.push({ snapshot, key: s.objectIndex!, problem })));
    } catch (error) {
      needs.push([]);
      problems.push({ snapshot, key: readFrom === 'manifests' ? s.key : (s.objectIndex ?? s.key), problem: `unreadable ${what}: ${errorMessage(error)}` });
    }
  }

  const stored = new Map<string, number>();
  for await (const object of store.list(OBJECTS_PREFIX)) stored.set(object.key, object.size);

  // Each object once, with the first manifest file that names it (its checksum is in its key, so any will do); a
  // pack once more for every other set of indexes a manifest derives from it (each manifest vouches for its own).
  const references = new Map<string, Reference>();
  const derivedClaims = new Map<Manifest, Map<string, string>>();
  const claimOf = ({ file, manifest }: Reference): string => {
    if (!derivedClaims.has(manifest)) derivedClaims.set(manifest, new Map([...derivedByPack(manifest)].map(([pack, files]) => [pack, files.map((f) => ` ${f.path}:${f.sha256}`).join('')])));
    return derivedClaims.get(manifest)!.get(file.path) ?? '';
  };
  const referenced = new Set<string>();
  snapshots.forEach((s, i) => {
    const snapshot = `${s.repository} ${s.snapshot}`;
    for (const need of needs[i] ?? []) {
      referenced.add(need.key);
      const size = stored.get(need.key);
      const path = need.reference?.file.path;
      if (size === undefined) problems.push({ snapshot, key: need.key, ...(path ? { path } : {}), problem: 'missing object' });
      else if (size !== need.storedSize) problems.push({ snapshot, key: need.key, ...(path ? { path } : {}), problem: `stored size ${size}, the ${what} recorded ${need.storedSize}` });
      else if (need.reference && !references.has(need.key + claimOf(need.reference))) references.set(need.key + claimOf(need.reference), need.reference);
    }
  });
  const result: StoreVerifyResult = {
    ok: false,
    readFrom,
    snapshots: snapshots.length,
    objects: referenced.size,
    unreferencedObjects: [...stored.keys()].filter((k) => !referenced.has(k)).length,
    objectsRead: 0,
    bytesRead: 0,
    packsChecked: 0,
    problems,
  };

  if (options.readData && options.readData > 0) {
    const chosen = subset([...references.values()], options.readData, options.random ?? Math.random);
    const git = options.git ?? createGitCommandManager({ redactor: new Redactor() });
    const tmp = await mkdtemp(join(tmpdir(), 'gpb-store-verify-'));
    try {
      await forEachLimit(chosen, options.concurrency ?? 4, async (ref) => {
        if (options.signal?.aborted) throw new AbortedError('store verify stopped on request');
        const problem = await readObject(store, ref, git, tmp);
        result.objectsRead++;
        result.bytesRead += ref.file.size;
        if (problem === 'pack-checked') result.packsChecked++;
        else if (problem) problems.push({ snapshot: `${ref.manifest.repository} ${ref.manifest.name}`, key: ref.file.key, path: ref.file.path, problem });
      });
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
  result.ok = problems.length === 0;
  return result;
}

/**
 * Download one object and check it; a pack also against its index: rebuilt by git index-pack and compared with the
 * sha256 the manifest records when the manifest derives it, else downloaded and checked by git verify-pack. Null
 * or 'pack-checked' when sound.
 */
async function readObject(store: Store, ref: Reference, git: GitCommandManager, tmp: string): Promise<string | null | 'pack-checked'> {
  const { file, manifest } = ref;
  const isPack = isPackPath(file.path);
  const derived = isPack ? derivedByPack(manifest).get(file.path) : undefined;
  const index = isPack && !derived ? storedFiles(manifest).find((f) => f.path === file.path.replace(/\.pack$/, '.idx')) : undefined;
  const dir = isPack ? await mkdtemp(join(tmp, 'pack-')) : null;
  try {
    const download = async (f: StoredManifestFile, to: NodeJS.WritableStream) =>
      pipeline(await store.getStream(f.key), new Sha256Check(f, `${f.key} (${f.path})`), to);
    try {
      await download(file, dir ? createWriteStream(join(dir, basename(file.path))) : discard());
    } catch (error) {
      return errorMessage(error);
    }
    if (dir && derived) {
      try {
        await rebuildPackIndex(git, join(dir, basename(file.path)), derived, dir, `${manifest.repository} ${manifest.name}`);
      } catch (error) {
        return errorMessage(error);
      }
      return 'pack-checked';
    }
    if (!dir || !index) return null;
    try {
      await download(index, createWriteStream(join(dir, basename(index.path))));
    } catch (error) {
      return `its index ${index.path} could not be checked: ${errorMessage(error)}`;
    }
    try {
      await git.run(dir, ['verify-pack', basename(index.path)]);
    } catch (error) {
      return `git verify-pack failed: ${errorMessage(error)}`;
    }
    return 'pack-checked';
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}
