// Pure comparisons of ref maps (ref key -> object id), and the lossless form ref names are kept in.
import { z } from 'zod';
import type { RefChanges } from './types.ts';

/**
 * A ref name as this tool keeps it: git's bytes, losslessly, as a string (docs/OPERATIONS.md "Ref names").
 * Valid UTF-8 stays as it is; each byte that is not part of a valid UTF-8 sequence, and the backslash (which git
 * never allows in a ref name), is written `\xHH`. So two names differing in any byte have different keys, a
 * key compares byte-exactly with `===`, and `refKeyToBytes` gives the bytes back for git.
 */
export type RefKey = string;

/** Ref key -> object id (hex). What snapshot.json's `refs` and the store's manifest hold. */
export type RefMap = Record<RefKey, string>;

const OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const KEY_ESCAPE = /\\x([0-9a-f]{2})/g;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decodesAlone(bytes: Uint8Array): string | null {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

const hexByte = (b: number) => `\\x${b.toString(16).padStart(2, '0')}`;

export function refKeyFromBytes(bytes: Uint8Array): RefKey {
  const whole = decodesAlone(bytes);
  if (whole !== null && !whole.includes('\\')) return whole;
  let key = '';
  for (let i = 0; i < bytes.length; ) {
    let taken = 0;
    // The shortest prefix (1 to 4 bytes) that is one valid UTF-8 character.
    for (let len = 1; len <= 4 && i + len <= bytes.length && !taken; len++) {
      const char = decodesAlone(bytes.subarray(i, i + len));
      if (char !== null && [...char].length === 1) {
        key += char === '\\' ? hexByte(0x5c) : char;
        taken = len;
      }
    }
    if (!taken) {
      key += hexByte(bytes[i]!);
      taken = 1;
    }
    i += taken;
  }
  return key;
}

export function refKeyToBytes(key: RefKey): Buffer {
  const parts: Buffer[] = [];
  let last = 0;
  for (const match of key.matchAll(KEY_ESCAPE)) {
    parts.push(Buffer.from(key.slice(last, match.index), 'utf8'), Buffer.from([parseInt(match[1]!, 16)]));
    last = match.index + match[0].length;
  }
  parts.push(Buffer.from(key.slice(last), 'utf8'));
  return Buffer.concat(parts);
}

/** True when the key is the name git shows as text (no byte had to be escaped). */
export const isPlainRefKey = (key: RefKey): boolean => !key.includes('\\');

/** The schema of a recorded ref map, for snapshot.json and the store's manifest. */
export const refMapSchema = z.record(z.string().min(1), z.string().regex(OBJECT_ID, 'expected an object id'));

/**
 * A fetch lands in this namespace first, under a name unique to the run, and reaches the real refs only after the
 * guards pass (docs/OPERATIONS.md "Sync"). Upstream refs under it are never fetched, so it can never collide.
 */
export const STAGING_PREFIX = 'refs/backup-manager-staging/';

export const isStagingRef = (key: RefKey): boolean => key.startsWith(STAGING_PREFIX);

/** Refs a mirror keeps: GitHub's hidden pull-request refs only when asked for. */
export function isBackedUpRef(name: string, includePullRefs: boolean): boolean {
  if (!name.startsWith('refs/') || isStagingRef(name)) return false;
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
export function suspiciousRefLoss(mirror: RefMap, upstream: RefMap, baseline = 'the mirror'): string | null {
  const had = Object.keys(mirror).length;
  if (had === 0) return null;
  const lost = Object.keys(mirror).filter((ref) => !(ref in upstream)).length;
  if (Object.keys(upstream).length === 0) return `upstream has no refs at all (${baseline} has ${had})`;
  if (had >= 10 && lost / had > 0.5) return `upstream lost ${lost} of ${had} refs${baseline === 'the mirror' ? '' : ` (compared with ${baseline})`}`;
  return null;
}

/** refs/heads/a/b -> refs/heads, refs/heads/a: the directories a ref name lives in. */
function parentsOf(ref: RefKey): string[] {
  const parts = ref.split('/');
  return parts.slice(1, -1).map((_, i) => parts.slice(0, i + 2).join('/'));
}

/**
 * True when a ref to create and a ref to delete are a file and a directory of each other (refs/heads/a and
 * refs/heads/a/b): git cannot do both in one transaction, so the deletions must land first.
 */
export function hasDirectoryConflict(created: readonly RefKey[], deleted: readonly RefKey[]): boolean {
  if (!created.length || !deleted.length) return false;
  const gone = new Set(deleted);
  const goneDirs = new Set(deleted.flatMap(parentsOf));
  return created.some((ref) => goneDirs.has(ref) || parentsOf(ref).some((dir) => gone.has(dir)));
}
