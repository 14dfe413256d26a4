// pull: lay a manifest's files out as a bare repository identical to the snapshot it was pushed from
// (docs/STORE_FORMAT.md "Pull"): stored files downloaded, carried ones written, pack indexes rebuilt from their
// packs as each arrives. Every path is checked before use and every file's size and sha256 before it counts; the
// destination is new and only ever holds files this pull created.
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { AbortedError, BackupError } from '../errors.ts';
import { isMetadataPath, METADATA_FILE, snapshotFileTreatment } from '../snapshot-files.ts';
import { fsyncPath, removeTree } from '../fsutil.ts';
import { createGitCommandManager, type GitCommandManager } from '../git/git.ts';
import { Redactor } from '../redact.ts';
import { assertManifestSound, derivedByPack, isDerivedFile, isStoredFile, rebuiltBytes, type Manifest, type RebuiltManifestFile, type StoredManifestFile } from './manifest.ts';
import { rebuildPackIndex } from './pack-index.ts';
import { sha256Hex } from './rebuilt-files.ts';
import type { Store } from './store.ts';
import { forEachLimit, Sha256Check } from './transfer.ts';

// Directories git needs to recognise a repository (objects/ and refs/), even when packed refs leave refs/ empty.
const SKELETON = ['objects/pack', 'refs'];

export interface PullOptions {
  /**
   * 'snapshot': read-only like a local snapshot (files 0444, directories 0555), snapshot.json kept.
   * 'repository': a working bare repository (object files 0444, others 0644), snapshot.json and the GitHub metadata
   * (github-metadata/, not part of the repository) left out.
   */
  layout: 'snapshot' | 'repository';
  /** Downloads in flight at once (default 4). */
  concurrency?: number;
  /** fsync every file (a snapshot must be durable before it is renamed into place). */
  fsync?: boolean;
  signal?: AbortSignal;
  /** Runs git index-pack for the pack indexes a manifest derives (default: one of its own). */
  git?: GitCommandManager;
}

export interface PullResult {
  dir: string;
  files: number;
  bytes: number;
}

async function assertFreshDestination(destDir: string): Promise<boolean> {
  try {
    const entries = await readdir(destDir);
    if (entries.length) throw new BackupError(`${destDir} is not empty: pull only writes into a new or empty directory`);
    return false;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') throw new BackupError(`${destDir} exists and is not a directory`);
    throw error;
  }
}

/** Download one object into `target` (created exclusively: never through an existing file or symlink), checked on the way. */
async function downloadFile(store: Store, file: StoredManifestFile, target: string, mode: number, fsync: boolean, where: string): Promise<void> {
  const partial = `${target}.pull-partial`;
  try {
    const source = await store.getStream(file.key);
    await pipeline(source, new Sha256Check(file, `${where}: ${file.path} (${file.key})`), createWriteStream(partial, { flags: 'wx', mode: 0o600 }));
    if (fsync) await fsyncPath(partial);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
  await chmod(partial, mode);
  await rename(partial, target);
}

/** Write a file the manifest carries (created exclusively, like a download), after checking its bytes once more. */
async function writeRebuilt(manifest: Manifest, file: RebuiltManifestFile, target: string, mode: number, fsync: boolean, where: string): Promise<void> {
  const bytes = rebuiltBytes(manifest, file);
  if (bytes.length !== file.size || sha256Hex(bytes) !== file.sha256) throw new BackupError(`${where}: ${file.path} does not rebuild to its recorded sha256`);
  await writeFile(target, bytes, { flag: 'wx', mode: 0o600 });
  if (fsync) await fsyncPath(target);
  await chmod(target, mode);
}

async function makeReadOnly(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) await makeReadOnly(join(dir, entry.name));
  }
  await chmod(dir, 0o555);
}

/**
 * Download every file of `manifest` into `destDir` (which must not exist, or be empty). On any failure the
 * destination is removed again when this pull created it, so a half-pulled repository is never left looking whole.
 */
export async function pullSnapshot(store: Store, manifest: Manifest, destDir: string, options: PullOptions): Promise<PullResult> {
  const where = `${store.location} ${manifest.repository} ${manifest.name}`;
  // Re-checked here: a caller may hand us a manifest from anywhere.
  assertManifestSound(manifest, where);
  const dest = resolve(destDir);
  const created = await assertFreshDestination(dest);
  const files = manifest.files.filter((f) => options.layout === 'snapshot' || (f.path !== METADATA_FILE && !isMetadataPath(f.path)));
  try {
    await mkdir(dest, { recursive: true });
    for (const dir of SKELETON) await mkdir(join(dest, dir), { recursive: true });
    // Directories first, one by one from paths already proven free of "..", absolute parts and odd characters.
    for (const dir of new Set(files.map((f) => dirname(f.path)).filter((d) => d !== '.'))) await mkdir(join(dest, dir), { recursive: true });
    const modeOf = (path: string) => (options.layout === 'snapshot' || snapshotFileTreatment(path) === 'link' || path === METADATA_FILE ? 0o444 : 0o644);
    const git = options.git ?? createGitCommandManager({ redactor: new Redactor() });
    const derived = derivedByPack(manifest);
    // A pack whose indexes the manifest derives is indexed as soon as it is here (checked), while the other
    // downloads go on: git index-pack is CPU, a download is mostly waiting.
    const rebuildIndexOf = async (pack: string) => {
      const written = await rebuildPackIndex(git, join(dest, pack), derived.get(pack)!, dirname(join(dest, pack)), where);
      for (const [path, abs] of written) {
        if (options.fsync) await fsyncPath(abs);
        await chmod(abs, modeOf(path));
      }
    };
    await forEachLimit(files, options.concurrency ?? 4, async (file) => {
      if (options.signal?.aborted) throw new AbortedError('pull stopped on request');
      if (isStoredFile(file)) {
        await downloadFile(store, file, join(dest, file.path), modeOf(file.path), options.fsync ?? false, where);
        if (derived.has(file.path)) await rebuildIndexOf(file.path);
      } else if (!isDerivedFile(file)) await writeRebuilt(manifest, file, join(dest, file.path), modeOf(file.path), options.fsync ?? false, where);
    });
    if (options.layout === 'snapshot') await makeReadOnly(dest);
    if (options.fsync) await fsyncPath(dest);
  } catch (error) {
    if (created) await removeTree(dest).catch(() => undefined);
    throw error;
  }
  return { dir: dest, files: files.length, bytes: files.reduce((n, f) => n + f.size, 0) };
}
