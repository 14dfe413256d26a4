// Retention policy: a pure function from snapshots + policy to keep/remove decisions with reasons
// (docs/ARCHITECTURE.md invariant 5). No filesystem, no clock: the caller passes `now` and the recorded times.
import { UsageError } from './errors.ts';
import type { PruneDecision } from './types.ts';

const DAY_MS = 86_400_000;

export interface RetentionPolicy {
  /** Snapshots strictly older than this many days may be removed. Exactly `retentionDays` old is kept. */
  retentionDays: number;
  /** Never leave fewer than this many snapshots: the `keepMin` newest are always kept. */
  keepMin: number;
  now: Date;
  /** Names of snapshots being read (a restore, verify or export in progress): never removed. */
  inUse?: ReadonlySet<string>;
}

export interface RetainedSnapshot {
  name: string;
  /** The time recorded in snapshot.json, never the directory's mtime (mtimes change on copy/restore). */
  createdAt: Date;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function assertPolicy(policy: RetentionPolicy): void {
  const { retentionDays, keepMin, now } = policy;
  if (typeof retentionDays !== 'number' || !Number.isFinite(retentionDays) || retentionDays < 0) {
    throw new UsageError(`invalid retention days ${String(retentionDays)}: expected a number >= 0`);
  }
  if (typeof keepMin !== 'number' || !Number.isSafeInteger(keepMin) || keepMin < 0) {
    throw new UsageError(`invalid keep-min ${String(keepMin)}: expected a whole number >= 0`);
  }
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) {
    throw new UsageError('invalid retention clock: "now" is not a valid date');
  }
}

/**
 * One decision per snapshot, newest first. A snapshot is removed only when all of these hold:
 * it is not the newest, it is not in use, it is not among the `keepMin` newest, and its age
 * (now - createdAt) is strictly greater than `retentionDays` days. The edge is inclusive on the
 * keep side: a snapshot exactly 30 days old is kept, 30 days and 1 ms old is removed.
 *
 * Because removals only ever come from the old tail of the sorted list, at least
 * max(1, keepMin) snapshots always survive (when there are that many).
 * A snapshot whose recorded time is not a valid date is kept (we cannot prove it is old) and listed last.
 */
export function planRetention(snapshots: readonly RetainedSnapshot[], policy: RetentionPolicy): PruneDecision[] {
  assertPolicy(policy);
  const { retentionDays, keepMin, now, inUse } = policy;
  const limitMs = retentionDays * DAY_MS;
  const nowMs = now.getTime();
  const days = plural(retentionDays, 'day');

  const valid = snapshots.filter((s) => !Number.isNaN(s.createdAt.getTime()));
  const invalid = snapshots.filter((s) => Number.isNaN(s.createdAt.getTime()));
  // Newest first; equal times fall back to the name (which also encodes time) so the order is deterministic.
  const sorted = [...valid].sort(
    (a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.name < b.name ? 1 : a.name > b.name ? -1 : 0),
  );

  const decisions: PruneDecision[] = sorted.map((snapshot, index) => {
    const createdAt = snapshot.createdAt.toISOString();
    const keep = (reason: string): PruneDecision => ({ name: snapshot.name, createdAt, keep: true, reason });
    if (index === 0) return keep('newest snapshot');
    if (inUse?.has(snapshot.name)) return keep('in use');
    if (nowMs - snapshot.createdAt.getTime() <= limitMs) return keep(`within ${days}`);
    if (index < keepMin) return keep(`keep-min: ${keepMin} newest kept`);
    return { name: snapshot.name, createdAt, keep: false, reason: `older than ${days}` };
  });
  for (const snapshot of invalid) {
    decisions.push({ name: snapshot.name, createdAt: 'invalid', keep: true, reason: 'creation time unknown' });
  }
  return decisions;
}
