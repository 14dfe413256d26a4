// Snapshot and repository names: pure, validated, sortable by time (docs/ARCHITECTURE.md "The backup root").
import { UsageError } from './errors.ts';

// snapshot-YYYYMMDD-HHMMSS, and -NNN after it for the second and later snapshot taken within that second.
const SNAPSHOT_RE = /^snapshot-(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})(?:-(\d{3}))?$/;
/** How many snapshots one second can name: the base name, then -001 to -999. */
export const MAX_SNAPSHOTS_PER_SECOND = 1000;
// GitHub's own rules for owners and repository names, minus anything that could escape a directory.
const OWNER_RE = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
const REPO_RE = /^[A-Za-z0-9._-]{1,100}$/;

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

export function snapshotName(at: Date): string {
  return (
    `snapshot-${pad(at.getUTCFullYear(), 4)}${pad(at.getUTCMonth() + 1)}${pad(at.getUTCDate())}` +
    `-${pad(at.getUTCHours())}${pad(at.getUTCMinutes())}${pad(at.getUTCSeconds())}`
  );
}

/**
 * The name for the `sequence`-th snapshot taken within the second of `at` (0 for the first). Fixed-width suffixes
 * keep plain string order equal to time order: base < base-001 < base-002 < the next second's base.
 */
export function snapshotNameInSecond(at: Date, sequence: number): string {
  if (!Number.isSafeInteger(sequence) || sequence < 0 || sequence >= MAX_SNAPSHOTS_PER_SECOND) {
    throw new RangeError(`snapshot sequence ${sequence} is outside 0..${MAX_SNAPSHOTS_PER_SECOND - 1}`);
  }
  return sequence === 0 ? snapshotName(at) : `${snapshotName(at)}-${pad(sequence, 3)}`;
}

export function isSnapshotName(name: string): boolean {
  return parseSnapshotTime(name) !== undefined;
}

/** The UTC time (to the second) a snapshot name encodes, or undefined for anything that is not a snapshot name. */
export function parseSnapshotTime(name: string): Date | undefined {
  const m = SNAPSHOT_RE.exec(name);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const at = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  // Reject 20261332-256199 and friends: the date must round-trip. -000 is never made (the first is the base name).
  if (m[7] === '000') return undefined;
  return snapshotName(at) === name.slice(0, 'snapshot-YYYYMMDD-HHMMSS'.length) ? at : undefined;
}

/** Validate a snapshot name typed by a user; "latest" is resolved by the caller. */
export function assertSnapshotName(name: string): string {
  if (!isSnapshotName(name)) {
    throw new UsageError(`invalid snapshot name ${JSON.stringify(name)}: expected "latest" or snapshot-YYYYMMDD-HHMMSS (optionally -NNN)`);
  }
  return name;
}

export function isValidOwner(owner: string): boolean {
  return OWNER_RE.test(owner);
}

export function isValidRepoName(name: string): boolean {
  return REPO_RE.test(name) && name !== '.' && name !== '..' && !name.endsWith('.git') && !name.startsWith('-');
}

export function assertRepoId(owner: string, name: string): void {
  if (!isValidOwner(owner)) throw new UsageError(`invalid repository owner ${JSON.stringify(owner)}`);
  if (!isValidRepoName(name)) throw new UsageError(`invalid repository name ${JSON.stringify(name)}`);
}

/** logs/backup-YYYYMMDD.log */
export function logFileName(at: Date): string {
  return `backup-${pad(at.getUTCFullYear(), 4)}${pad(at.getUTCMonth() + 1)}${pad(at.getUTCDate())}.log`;
}
