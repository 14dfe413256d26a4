// Lays a repository's files into a new directory: object files hard-linked, copied or borrowed, everything else
// copied, unsafe or transient files left out, and a config of ours instead of the source's (docs/OPERATIONS.md,
// "What git is allowed to read"). Shared by snapshot (mirror -> snapshot) and restore (snapshot -> repository).
import { existsSync, realpathSync } from 'node:fs';
import { chmod, copyFile, link, lstat, mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BackupError } from '../errors.ts';
import { mapBounded } from '../bounded.ts';
import { walkFiles, type WalkEntry } from '../fsutil.ts';
import { isSkippedDir, treatmentOf } from '../snapshot-files.ts';

// Directories git needs to recognise a repository (objects/ and refs/), even when packed refs leave refs/ empty.
const SKELETON = ['objects/pack', 'refs'];

export interface MaterializedFile extends WalkEntry {
  treatment: 'link' | 'copy';
  dest: string;
}

export interface MaterializeOptions {
  /**
   * Object files: shared by hard link (safe: git never changes them in place), copied, or borrowed (left where they
   * are and reached through objects/info/alternates: a scratch repository for git to read a snapshot through).
   */
  objects: 'link' | 'copy' | 'borrow';
  /** The text of the new repository's `config`: the source's own is never copied. */
  config: string;
  /** Mode for copied files: 0o444 in snapshots, 0o644 in restored repositories. */
  copyMode: number;
  /**
   * Nothing is flushed here (callers written when it was a choice still say false): a snapshot flushes its whole
   * tree at once before its rename (snapshot.ts).
   */
  fsync?: false;
  /** Called every few hundred files so a long copy can be abandoned. */
  checkpoint?: () => void;
}

/** Links and copies in flight at once (src/bounded.ts). */
const AT_ONCE = 64;

export async function materialize(source: string, dest: string, options: MaterializeOptions): Promise<MaterializedFile[]> {
  const files = await walkFiles(source, { skipDir: isSkippedDir });
  const made = new Set<string>();
  const ensureDir = async (dir: string) => {
    if (made.has(dir)) return;
    await mkdir(dir, { recursive: true });
    made.add(dir);
  };
  for (const d of SKELETON) await ensureDir(join(dest, d));
  const out: MaterializedFile[] = [];
  const configFile = join(dest, 'config');
  await writeFile(configFile, options.config, { mode: options.copyMode });
  const written = await lstat(configFile);
  out.push({ rel: 'config', abs: configFile, dest: configFile, treatment: 'copy', size: written.size, ino: written.ino, dev: written.dev, blocks: written.blocks, mode: written.mode });
  if (options.objects === 'borrow') {
    await ensureDir(join(dest, 'objects/info'));
    await writeFile(join(dest, 'objects/info/alternates'), `${realpathSync(join(source, 'objects'))}\n`);
    // git-lfs has no alternates: a link lets it read the LFS objects where they are (restore --push uploads them).
    if (existsSync(join(source, 'lfs/objects'))) {
      await ensureDir(join(dest, 'lfs'));
      await symlink(realpathSync(join(source, 'lfs/objects')), join(dest, 'lfs/objects'));
    }
  }
  const laid: MaterializedFile[] = [];
  for (const file of files) {
    const treatment = treatmentOf(file.rel);
    if (treatment === 'skip' || file.rel === 'config') continue;
    if (treatment === 'link' && options.objects === 'borrow') continue;
    laid.push({ ...file, treatment, dest: join(dest, file.rel) });
  }
  // Directories first, parents before children (the walk is sorted), then the files side by side.
  for (const file of laid) await ensureDir(dirname(file.dest));
  await mapBounded(laid, AT_ONCE, async (file, index) => {
    if (index % 256 === 0) options.checkpoint?.();
    await layFile(file, dest, options);
  });
  out.push(...laid);
  return out;
}

async function layFile(file: MaterializedFile, dest: string, options: MaterializeOptions): Promise<void> {
  if (file.treatment === 'link' && options.objects === 'link') return hardLink(file.abs, file.dest, file.rel, dest);
  await copyFile(file.abs, file.dest);
  await chmod(file.dest, file.treatment === 'link' ? 0o444 : options.copyMode);
}

/** Share a file written once (an object file, a release asset) by hard link, or say why the root cannot. */
export async function hardLink(source: string, target: string, rel: string, dest: string): Promise<void> {
  await link(source, target).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EXDEV' && error.code !== 'EPERM' && error.code !== 'EMLINK') throw error;
    throw new BackupError(
      `cannot hard-link ${rel} into ${dest} (${error.code}): the mirror and its snapshots must be on one filesystem ` +
        'that supports hard links (one volume for the whole backup root, not one per directory)',
    );
  });
}
