// Which snapshot times to trust (docs/OPERATIONS.md "Time and clock skew"). A snapshot's name was made by the
// engine from its clock at the moment it was taken, so the name orders snapshots; the createdAt recorded inside
// snapshot.json must agree with it, and neither may lie in the future. Pure: the caller passes `now`.
import { parseSnapshotTime } from './naming.ts';

/** Clocks of machines sharing a root (host and container, two runners) drift a little; more than this is skew. */
export const CLOCK_SKEW_TOLERANCE_MS = 10 * 60_000;

/** True when `at` is later than `now` by more than the tolerance: a clock was (or is) wrong. */
export function isInFuture(at: Date, now: Date): boolean {
  return at.getTime() - now.getTime() > CLOCK_SKEW_TOLERANCE_MS;
}

/** A snapshot whose name says it was taken later than now (beyond the tolerance). */
export function isFutureDated(name: string, now: Date): boolean {
  const at = parseSnapshotTime(name);
  return at !== undefined && isInFuture(at, now);
}

/**
 * Does a recorded time (snapshot.json's createdAt) agree with the name made from the same clock reading? The name
 * keeps whole seconds, so the recorded time must fall within that second.
 */
export function timeAgreesWithName(name: string, recorded: Date): boolean {
  const named = parseSnapshotTime(name);
  if (!named || Number.isNaN(recorded.getTime())) return false;
  const delta = recorded.getTime() - named.getTime();
  return delta >= 0 && delta < 1000;
}

/**
 * "latest": the newest snapshot whose name is not in the future. A snapshot taken while the clock ran ahead sorts
 * after every genuine one; trusting it would make restore hand back old data as the newest.
 * `names` are sorted oldest first (plain string order is time order).
 */
export function newestTrusted(names: readonly string[], now: Date): string | undefined {
  for (let i = names.length - 1; i >= 0; i--) if (!isFutureDated(names[i]!, now)) return names[i];
  return undefined;
}

export function describeAge(ms: number): string {
  const hours = ms / 3_600_000;
  if (Math.abs(hours) < 48) return `${Math.round(hours)} h`;
  return `${Math.round(hours / 24)} days`;
}
