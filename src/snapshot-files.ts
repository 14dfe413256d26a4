// Which files of a bare mirror a snapshot shares, copies or leaves out (docs/ARCHITECTURE.md invariant 2), and which
// files a snapshot directory may hold beside its bare repository (the GitHub metadata, docs/METADATA_FORMAT.md
// "In a snapshot"). Pure.
import { SNAPSHOT_METADATA_ASSETS, SNAPSHOT_METADATA_DIR, SNAPSHOT_METADATA_REPO } from './github-metadata/format.ts';
import { isLfsScratch } from './lfs.ts';

export type FileTreatment = 'link' | 'copy' | 'skip';

// Object files are written once (to a temporary name, then renamed) and never modified in place: safe to share.
// So are git-lfs's objects, named by the sha256 of their content (src/lfs.ts).
const LINKABLE = [
  /^objects\/pack\/pack-[0-9a-f]{40,64}\.(pack|idx|rev|bitmap|mtimes|promisor)$/,
  /^objects\/[0-9a-f]{2}\/[0-9a-f]{38,62}$/,
  /^lfs\/objects\/[0-9a-f]{2}\/[0-9a-f]{2}\/[0-9a-f]{64}$/,
];

// Rewritten in place by git, temporary, or dangerous to carry (a hook must never run from a snapshot).
const SKIPPED = [
  /^FETCH_HEAD$/,
  /\.lock$/,
  // Only under objects/: a branch may well be called tmp_fix (a loose ref file refs/heads/tmp_fix).
  /^objects\/(.*\/)?tmp[_-][^/]*$/,
  /^objects\/(incoming|tmp_objdir)-[^/]+(\/|$)/,
  /^objects\/pack\/\.tmp-/,
  /^hooks(\/|$)/,
  /^objects\/info\/alternates$/,
  /^objects\/info\/http-alternates$/,
  /^gc\.pid$/,
  /^gc\.log$/,
  // A snapshot's GitHub metadata is not part of its bare repository: a restored or hydrated repository leaves it out.
  new RegExp(`^${SNAPSHOT_METADATA_DIR}(/|$)`),
];

export const METADATA_FILE = 'snapshot.json';

/** What becomes of a file of a bare repository (the mirror, or a repository built from a snapshot). */
export function treatmentOf(relPath: string): FileTreatment {
  if (relPath === METADATA_FILE) return 'skip';
  if (SKIPPED.some((re) => re.test(relPath)) || isLfsScratch(relPath)) return 'skip';
  if (LINKABLE.some((re) => re.test(relPath))) return 'link';
  return 'copy';
}

/** Directories whose whole content is left out, so a walk need not descend into them. */
export function isSkippedDir(relPath: string): boolean {
  return relPath === 'hooks' || relPath === SNAPSHOT_METADATA_DIR || /^objects\/(incoming|tmp_objdir)-/.test(relPath) || isLfsScratch(relPath);
}

const METADATA_REPO_PREFIX = `${SNAPSHOT_METADATA_REPO}/`;
const METADATA_ASSET = new RegExp(`^${SNAPSHOT_METADATA_ASSETS}/[0-9a-f]{64}$`);

/** True for every path under the snapshot's github-metadata/ directory, whether or not it belongs there. */
export function isMetadataPath(relPath: string): boolean {
  return relPath === SNAPSHOT_METADATA_DIR || relPath.startsWith(`${SNAPSHOT_METADATA_DIR}/`);
}

/**
 * What a file of a snapshot directory is: its bare repository's files as treatmentOf says; under github-metadata/,
 * the metadata repository's files by the same rules, and release assets (assets/<sha256>, written once) shared.
 * Anything else there is 'skip': no snapshot holds it.
 */
export function snapshotFileTreatment(relPath: string): FileTreatment {
  if (!isMetadataPath(relPath)) return treatmentOf(relPath);
  const inRepo = metadataRepoPath(relPath);
  if (inRepo !== null) return treatmentOf(inRepo);
  return METADATA_ASSET.test(relPath) ? 'link' : 'skip';
}

/** The path inside the metadata repository of a snapshot file under github-metadata/repo.git/, else null. */
export function metadataRepoPath(relPath: string): string | null {
  return relPath.startsWith(METADATA_REPO_PREFIX) ? relPath.slice(METADATA_REPO_PREFIX.length) : null;
}
