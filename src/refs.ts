// Pure comparisons of ref maps (refname -> object id).
import type { RefChanges } from './types.ts';

export type RefMap = Record<string, string>;

/** Refs a mirror keeps: GitHub's hidden pull-request refs only when asked for. */
export function isBackedUpRef(name: string, includePullRefs: boolean): boolean {
  if (!name.startsWith('refs/')) return false;
  return includePullRefs || !name.startsWith('refs/pull/');
}

/** Refs present on both sides that point somewhere else now: the ones whose ancestry needs asking. */
export function movedRefs(before: RefMap, after: RefMap): { ref: string; from: string; to: string }[] {
  return Object.entries(after)
    .filter(([ref, to]) => before[ref] !== undefined && before[ref] !== to)
    .map(([ref, to]) => ({ ref, from: before[ref]!, to }));
}

/** Classify what changed between two ref maps; moved refs not in `fastForwarded` were force-updated. */
export function diffRefs(before: RefMap, after: RefMap, fastForwarded: ReadonlySet<string>): RefChanges {
  const changes: RefChanges = { added: [], updated: [], forceUpdated: [], deleted: [] };
  for (const [ref, to] of Object.entries(after)) {
    const from = before[ref];
    if (from === undefined) changes.added.push(ref);
    else if (from !== to) (fastForwarded.has(ref) ? changes.updated : changes.forceUpdated).push(ref);
  }
  for (const ref of Object.keys(before)) if (!(ref in after)) changes.deleted.push(ref);
  for (const list of Object.values(changes)) list.sort();
  return changes;
}

export function sameRefs(a: RefMap, b: RefMap): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

export function changeCount(changes: RefChanges): number {
  return changes.added.length + changes.updated.length + changes.forceUpdated.length + changes.deleted.length;
}

/**
 * An upstream that lost all of its refs, or most of a sizeable set, looks wiped or replaced rather than tidied.
 * Returns a reason to refuse, or null.
 */
export function suspiciousRefLoss(mirror: RefMap, upstream: RefMap): string | null {
  const had = Object.keys(mirror).length;
  if (had === 0) return null;
  const lost = Object.keys(mirror).filter((ref) => !(ref in upstream)).length;
  if (Object.keys(upstream).length === 0) return `upstream has no refs at all (the mirror has ${had})`;
  if (had >= 10 && lost / had > 0.5) return `upstream lost ${lost} of ${had} refs`;
  return null;
}
