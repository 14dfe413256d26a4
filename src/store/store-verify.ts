// store verify: every manifest readable and every object it names present with the stored size it recorded (one
// listing of objects/); with read-data (all, or a random subset), every chosen object downloaded and its sha256
// checked, and every chosen pack checked by git verify-pack against its index (docs/STORE_FORMAT.md "Verify").
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { AbortedError, errorMessage } from '../errors.ts';
import { createGitCommandManager, type GitCommandManager } from '../git/git.ts';
import { Redactor } from '../redact.ts';
import { listStoredSnapshots, readManifest } from './catalog.ts';
import { ensureStoreFormat, OBJECTS_PREFIX } from './format.ts';
import { storedFiles, type Manifest, type StoredManifestFile } from './manifest.ts';
import type { Store } from './store.ts';
import { forEachLimit, Sha256Check } from './transfer.ts';

export interface StoreVerifyOptions {
  /** Only this repository's manifests (owner/name). */
  repository?: string;
  /** Download and check this share of the referenced objects: 1 is --read-data, 0.05 is --read-data-subset 5%. */
  readData?: number;
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

export interface StoreVerifyResult {
  ok: boolean;
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

export async function verifyStore(store: Store, options: StoreVerifyOptions = {}): Promise<StoreVerifyResult> {
  await ensureStoreFormat(store, { create: false });
  const problems: StoreVerifyProblem[] = [];
  const snapshots = await listStoredSnapshots(store, options.repository);
  const manifests: Manifest[] = [];
  for (const s of snapshots) {
    try {
      manifests.push(await readManifest(store, s.repository, s.snapshot));
    } catch (error) {
      problems.push({ snapshot: `${s.repository} ${s.snapshot}`, key: s.key, problem: `unreadable manifest: ${errorMessage(error)}` });
    }
  }

  const stored = new Map<string, number>();
  for await (const object of store.list(OBJECTS_PREFIX)) stored.set(object.key, object.size);

  // Each object once, with the first manifest file that names it (its checksum is in its key, so any will do).
  const references = new Map<string, Reference>();
  for (const manifest of manifests) {
    // Files the manifest carries (snapshot.json, packed-refs) were checked against their sha256 when it was read.
    for (const file of storedFiles(manifest)) {
      const size = stored.get(file.key);
      const snapshot = `${manifest.repository} ${manifest.name}`;
      if (size === undefined) problems.push({ snapshot, key: file.key, path: file.path, problem: 'missing object' });
      else if (size !== file.storedSize) problems.push({ snapshot, key: file.key, path: file.path, problem: `stored size ${size}, the manifest recorded ${file.storedSize}` });
      else if (!references.has(file.key)) references.set(file.key, { file, manifest });
    }
  }
  const referenced = new Set(manifests.flatMap((m) => storedFiles(m).map((f) => f.key)));
  const result: StoreVerifyResult = {
    ok: false,
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

/** Download one object and check it; a pack also with git verify-pack against its index. Null or 'pack-checked' when sound. */
async function readObject(store: Store, ref: Reference, git: GitCommandManager, tmp: string): Promise<string | null | 'pack-checked'> {
  const { file, manifest } = ref;
  const isPack = /^objects\/pack\/pack-[0-9a-f]+\.pack$/.test(file.path);
  const index = isPack ? storedFiles(manifest).find((f) => f.path === file.path.replace(/\.pack$/, '.idx')) : undefined;
  const dir = isPack ? await mkdtemp(join(tmp, 'pack-')) : null;
  try {
    const download = async (f: StoredManifestFile, to: NodeJS.WritableStream) =>
      pipeline(await store.getStream(f.key), new Sha256Check(f, `${f.key} (${f.path})`), to);
    try {
      await download(file, dir ? createWriteStream(join(dir, basename(file.path))) : discard());
    } catch (error) {
      return errorMessage(error);
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
