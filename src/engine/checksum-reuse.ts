// What a snapshot being built may take from the previous snapshot's record instead of reading a file again
// (docs/BENCHMARKS.md "A snapshot of an unchanged mirror").
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { SnapshotMetadata } from '../metadata.ts';

/** The newest snapshot: its directory and its validated snapshot.json. */
export interface PreviousSnapshot {
  dir: string;
  metadata: SnapshotMetadata;
}

/**
 * A hard-linked object file that is the very same inode as the previous snapshot's file at `rel` has the checksum
 * recorded there: object files never change in place. Null when it is not (then the file is hashed).
 */
export async function reusableChecksum(previous: PreviousSnapshot | null, rel: string, ino: number, size: number): Promise<SnapshotMetadata['files'][string] | null> {
  const recorded = previous?.metadata.files[rel];
  if (!previous || !recorded || recorded.size !== size) return null;
  try {
    return (await stat(join(previous.dir, rel))).ino === ino ? recorded : null;
  } catch {
    return null;
  }
}
