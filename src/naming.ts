// Snapshot and repository names: pure, validated, sortable by time (docs/ARCHITECTURE.md "The backup root").
import { UsageError } from './errors.ts';

const SNAPSHOT_RE = /^snapshot-(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})$/;
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

export function isSnapshotName(name: string): boolean {
  return parseSnapshotTime(name) !== undefined;
}

/** The UTC time a snapshot name encodes, or undefined for anything that is not a snapshot name. */
export function parseSnapshotTime(name: string): Date | undefined {
  const m = SNAPSHOT_RE.exec(name);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const at = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  // Reject 20261332-256199 and friends: the date must round-trip.
  return snapshotName(at) === name ? at : undefined;
}

/** Validate a snapshot name typed by a user; "latest" is resolved by the caller. */
export function assertSnapshotName(name: string): string {
  if (!isSnapshotName(name)) {
    throw new UsageError(`invalid snapshot name ${JSON.stringify(name)}: expected "latest" or snapshot-YYYYMMDD-HHMMSS`);
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
