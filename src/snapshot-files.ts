// Which files of a bare mirror a snapshot shares, copies or leaves out (docs/ARCHITECTURE.md invariant 2). Pure.
export type FileTreatment = 'link' | 'copy' | 'skip';

// Object files are written once (to a temporary name, then renamed) and never modified in place: safe to share.
const LINKABLE = [
  /^objects\/pack\/pack-[0-9a-f]{40,64}\.(pack|idx|rev|bitmap|mtimes|promisor)$/,
  /^objects\/[0-9a-f]{2}\/[0-9a-f]{38,62}$/,
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
];

export const METADATA_FILE = 'snapshot.json';

export function treatmentOf(relPath: string): FileTreatment {
  if (relPath === METADATA_FILE) return 'skip';
  if (SKIPPED.some((re) => re.test(relPath))) return 'skip';
  if (LINKABLE.some((re) => re.test(relPath))) return 'link';
  return 'copy';
}

/** Directories whose whole content is left out, so a walk need not descend into them. */
export function isSkippedDir(relPath: string): boolean {
  return relPath === 'hooks' || /^objects\/(incoming|tmp_objdir)-/.test(relPath);
}
