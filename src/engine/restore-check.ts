// How restore checks what it built before anything is swapped in (docs/RESTORE_RUNBOOK.md "How a restore is
// checked"): every file against the sha256 snapshot.json recorded, and git's view of the objects. By default git
// checks connectivity only (every object every ref needs is there and parses as a commit or tree); `full` runs the
// whole `git fsck`, which also re-hashes every object: the slow part, minutes on a large repository.
import { join } from 'node:path';
import { sha256File, walkFiles, type WalkEntry } from '../fsutil.ts';
import type { SnapshotMetadata } from '../metadata.ts';
import { METADATA_FILE, treatmentOf } from '../snapshot-files.ts';
import type { VerifyProblem } from '../types.ts';
import type { RestoreOptions } from './api.ts';

export type RestoreVerifyMode = NonNullable<RestoreOptions['verify']>;

/** A file of the built repository (or, for objects it borrows, of the snapshot) under the path snapshot.json uses. */
export interface BuiltFile {
  rel: string;
  path: string;
  size: number;
}

/**
 * The snapshot's object files a borrowing repository reaches where they are instead of holding them: git's through
 * objects/info/alternates, LFS objects through its lfs/objects link (materialize.ts).
 */
export async function borrowedObjects(snapshotDir: string): Promise<BuiltFile[]> {
  const inDir = async (dir: string) =>
    (await walkFiles(join(snapshotDir, dir)).catch(() => [] as WalkEntry[])).map((f: WalkEntry) => ({ rel: `${dir}/${f.rel}`, path: f.abs, size: f.size }));
  return [...(await inDir('objects')), ...(await inDir('lfs/objects'))].filter((f) => treatmentOf(f.rel) === 'link');
}

/** What snapshot.json records that a repository built from the snapshot must hold: its repository files, less our config. */
function expectedFiles(metadata: SnapshotMetadata): string[] {
  return Object.keys(metadata.files).filter((rel) => rel !== 'config' && rel !== METADATA_FILE && treatmentOf(rel) !== 'skip');
}

/**
 * Every file of the built repository has the size and sha256 recorded for it, and none recorded is missing. The
 * config is ours (never the snapshot's), so it is not compared.
 */
export async function checkAgainstRecord(built: readonly BuiltFile[], metadata: SnapshotMetadata): Promise<VerifyProblem[]> {
  const problems: VerifyProblem[] = [];
  const present = new Set<string>();
  for (const file of built) {
    if (file.rel === 'config') continue;
    present.add(file.rel);
    const recorded = metadata.files[file.rel];
    if (!recorded) {
      problems.push({ file: file.rel, problem: 'not recorded in snapshot.json' });
      continue;
    }
    if (file.size !== recorded.size) {
      problems.push({ file: file.rel, problem: `size ${file.size}, recorded ${recorded.size}` });
      continue;
    }
    const actual = await sha256File(file.path);
    if (actual !== recorded.sha256) problems.push({ file: file.rel, problem: `checksum mismatch: recorded sha256 ${recorded.sha256}, found ${actual}` });
  }
  for (const rel of expectedFiles(metadata)) if (!present.has(rel)) problems.push({ file: rel, problem: 'recorded in snapshot.json but missing' });
  return problems;
}
