// Is a snapshot being taken the previous snapshot's repository again? Then git would say of it exactly what it said
// of that one (its refs, HEAD, HEAD's commit, the root commits), and the snapshot records the same without asking
// (docs/BENCHMARKS.md "A snapshot of an unchanged mirror"). Pure: it compares the two snapshots' recorded checksums.
import type { SnapshotMetadata } from './metadata.ts';
import { isMetadataPath, treatmentOf } from './snapshot-files.ts';

type Checksums = SnapshotMetadata['files'];

const same = (a: Checksums[string] | undefined, b: Checksums[string] | undefined) => !!a && !!b && a.sha256 === b.sha256 && a.size === b.size;

/**
 * True when every file of the new copy's repository other than its object files (HEAD, packed-refs, every loose
 * ref, config, shallow, info/*) has the previous snapshot's bytes, no such file was added or left out, and every
 * object file of the previous snapshot is in the new one with its bytes. The same refs over at least the same
 * objects resolve the same (a ref whose object is missing is left out by git: it is then missing from both), reach
 * the same commits and have the same roots. The GitHub metadata under github-metadata/ is not the repository and is
 * not compared. Any difference answers false, and the caller asks git.
 */
export function repeatsPrevious(previous: Checksums, current: Checksums): boolean {
  for (const [rel, recorded] of Object.entries(previous)) {
    if (isMetadataPath(rel)) continue;
    if (!same(recorded, current[rel])) return false;
  }
  for (const rel of Object.keys(current)) {
    if (isMetadataPath(rel) || treatmentOf(rel) === 'link') continue;
    if (!previous[rel]) return false;
  }
  return true;
}
