// Retention policy: a pure function from snapshots + policy to keep/remove decisions with reasons
// (docs/ARCHITECTURE.md invariant 5, docs/OPERATIONS.md "Retention"). No filesystem, no clock: the caller passes
// `now` and the recorded times.
//
// Snapshots are ordered and aged by their name, which the engine made from its clock when it took them; the
// createdAt recorded in snapshot.json is a claim to check against it, never the key (a tampered createdAt once
// made a 2099 snapshot the permanent newest, and a 1970 one got the newest backup deleted). Two kinds of snapshot
// are kept but never counted as the newest or toward keep-min, so they cannot push a genuine snapshot out:
// one named in the future (a clock ran ahead: docs/OPERATIONS.md "Time and clock skew"), and one whose createdAt
// disagrees with its name (tampered or damaged: verify reports it).
import { UsageError } from './errors.ts';
import { parseSnapshotTime } from './naming.ts';
import { describeAge, isInFuture, timeAgreesWithName } from './snapshot-time.ts';
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
  /** Pinned snapshots and why: never removed, and kept apart from the rotation (not the newest, not toward keep-min). */
  pinned?: ReadonlyMap<string, string>;
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

type Trust = 'trusted' | 'future' | 'disagrees';

interface Classified {
  snapshot: RetainedSnapshot;
  /** The time the name encodes. */
  at: Date;
  trust: Trust;
}

/** Snapshots with a valid name, newest first by name, each with how far its time can be trusted. */
function classify(snapshots: readonly RetainedSnapshot[], now: Date): { named: Classified[]; unnamed: RetainedSnapshot[] } {
  const named: Classified[] = [];
  const unnamed: RetainedSnapshot[] = [];
  for (const snapshot of snapshots) {
    const at = parseSnapshotTime(snapshot.name);
    if (!at) {
      unnamed.push(snapshot);
      continue;
    }
    const trust: Trust = isInFuture(at, now) ? 'future' : timeAgreesWithName(snapshot.name, snapshot.createdAt) ? 'trusted' : 'disagrees';
    named.push({ snapshot, at, trust });
  }
  // Plain string order of names is time order (base < base-001 < the next second).
  named.sort((a, b) => (a.snapshot.name < b.snapshot.name ? 1 : a.snapshot.name > b.snapshot.name ? -1 : 0));
  return { named, unnamed };
}

const recorded = (s: RetainedSnapshot) => (Number.isNaN(s.createdAt.getTime()) ? 'invalid' : s.createdAt.toISOString());

/**
 * One decision per snapshot, newest first by name. A snapshot is removed only when all of these hold: its time is
 * trusted (named no later than now, createdAt agreeing with the name), it is not the newest trusted snapshot, it is
 * not in use, it is not among the `keepMin` newest trusted snapshots, and its age (now - the name's time) is
 * strictly greater than `retentionDays` days. The edge is inclusive on the keep side: a snapshot exactly 30 days old
 * is kept, 30 days and 1 s old is removed.
 *
 * A pinned snapshot is kept whatever its age or trust, and counted neither as the newest nor toward keep-min: a
 * snapshot taken before a risky change never pushes a daily one out.
 *
 * Because removals only ever come from the old tail of the trusted list, at least max(1, keepMin) trusted snapshots
 * always survive (when there are that many). A snapshot whose name is not a snapshot name is kept and listed last.
 */
export function planRetention(snapshots: readonly RetainedSnapshot[], policy: RetentionPolicy): PruneDecision[] {
  assertPolicy(policy);
  const { retentionDays, keepMin, now, inUse, pinned } = policy;
  const limitMs = retentionDays * DAY_MS;
  const days = plural(retentionDays, 'day');
  const { named, unnamed } = classify(snapshots, now);

  let trustedIndex = 0;
  const decisions: PruneDecision[] = named.map(({ snapshot, at, trust }) => {
    const createdAt = recorded(snapshot);
    const keep = (reason: string): PruneDecision => ({ name: snapshot.name, createdAt, keep: true, reason });
    const pin = pinned?.get(snapshot.name);
    if (pin !== undefined) return keep(`pinned: ${pin}`);
    if (trust === 'future') return keep('named in the future (clock skew): kept, never counted as the newest or toward keep-min');
    if (trust === 'disagrees') return keep('recorded createdAt disagrees with the name: kept, never counted toward keep-min (run verify)');
    const index = trustedIndex++;
    if (index === 0) return keep('newest snapshot');
    if (inUse?.has(snapshot.name)) return keep('in use');
    if (now.getTime() - at.getTime() <= limitMs) return keep(`within ${days}`);
    if (index < keepMin) return keep(`keep-min: ${keepMin} newest kept`);
    return { name: snapshot.name, createdAt, keep: false, reason: `older than ${days}` };
  });
  for (const snapshot of unnamed) {
    decisions.push({ name: snapshot.name, createdAt: recorded(snapshot), keep: true, reason: 'creation time unknown' });
  }
  return decisions;
}

/** What a person should hear about a repository's snapshot times before trusting a prune (same inputs as the plan). */
export function retentionWarnings(snapshots: readonly RetainedSnapshot[], policy: RetentionPolicy): string[] {
  assertPolicy(policy);
  const { retentionDays, now } = policy;
  const { named } = classify(snapshots, now);
  const warnings: string[] = [];
  const future = named.filter((c) => c.trust === 'future');
  if (future.length) {
    warnings.push(
      `${plural(future.length, 'snapshot')} named in the future (newest ${future[0]!.snapshot.name}, clock now ${now.toISOString()}): ` +
        'a clock ran ahead, or this one is behind; they are kept and never used as the newest or "latest"',
    );
  }
  const disagreeing = named.filter((c) => c.trust === 'disagrees');
  if (disagreeing.length) {
    warnings.push(
      `${plural(disagreeing.length, 'snapshot')} whose recorded createdAt disagrees with the name (${disagreeing.map((c) => c.snapshot.name).join(', ')}): ` +
        'kept and never counted toward keep-min; run verify on them',
    );
  }
  const trusted = named.filter((c) => c.trust === 'trusted');
  const newest = trusted[0];
  if (newest && now.getTime() - newest.at.getTime() > retentionDays * DAY_MS) {
    warnings.push(
      `every snapshot is older than ${plural(retentionDays, 'day')} (the newest, ${newest.snapshot.name}, is ${describeAge(now.getTime() - newest.at.getTime())} old): ` +
        'only the newest and the keep-min newest are kept; if the repository changed since, syncs are not running (see status)',
    );
  }
  return warnings;
}
