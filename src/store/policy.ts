// The store's retention policy (config store.retention, docs/STORE_FORMAT.md "Prune"): restic-style
// {days, weekly, monthly, yearly}, a pure function from snapshots + policy to keep/forget decisions with reasons.
// No clock, no store: the caller passes `now` and the snapshots' times. Semantics:
//  - days N: every snapshot at most N days old is kept (inclusive, like the local retentionDays);
//  - weekly/monthly/yearly N: for the last N ISO weeks / calendar months / years (UTC) that have snapshots, the
//    newest snapshot of each is kept (restic's --keep-weekly and friends);
//  - keepMin N: the N newest are kept; the newest is always kept.
import { UsageError } from '../errors.ts';

const DAY_MS = 86_400_000;

export interface StoreRetentionPolicy {
  days: number;
  weekly: number;
  monthly: number;
  yearly: number;
  keepMin: number;
  now: Date;
}

export interface StoreRetentionSnapshot {
  name: string;
  createdAt: Date;
}

export interface StoreRetentionDecision {
  name: string;
  createdAt: string;
  keep: boolean;
  /** Every rule that keeps it, or the one reason it goes. */
  reasons: string[];
}

/** The store's policy from config: unset fields fall back to the local policy (retentionDays, keepMin), buckets to 0. */
export function resolveStorePolicy(
  configured: { days?: number; weekly?: number; monthly?: number; yearly?: number } | undefined,
  local: { retentionDays: number; keepMin: number },
  now: Date,
): StoreRetentionPolicy {
  return {
    days: configured?.days ?? local.retentionDays,
    weekly: configured?.weekly ?? 0,
    monthly: configured?.monthly ?? 0,
    yearly: configured?.yearly ?? 0,
    keepMin: local.keepMin,
    now,
  };
}

function assertPolicy(policy: StoreRetentionPolicy): void {
  for (const field of ['days', 'weekly', 'monthly', 'yearly', 'keepMin'] as const) {
    const value = policy[field];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw new UsageError(`invalid store retention ${field} ${String(value)}: expected a whole number >= 0`);
    }
  }
  if (!(policy.now instanceof Date) || Number.isNaN(policy.now.getTime())) throw new UsageError('invalid retention clock: "now" is not a valid date');
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** ISO 8601 week of a UTC time, e.g. 2026-W53 for 2027-01-01 (weeks start on Monday; week 1 holds the first Thursday). */
export function isoWeek(at: Date): string {
  const day = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
  const weekday = day.getUTCDay() || 7; // Monday 1 .. Sunday 7
  day.setUTCDate(day.getUTCDate() + 4 - weekday); // the Thursday of this week decides its year
  const year = day.getUTCFullYear();
  const week = Math.ceil(((day.getTime() - Date.UTC(year, 0, 1)) / DAY_MS + 1) / 7);
  return `${year}-W${pad(week)}`;
}

const BUCKETS = [
  { field: 'weekly', label: 'weekly', of: isoWeek },
  { field: 'monthly', label: 'monthly', of: (d: Date) => `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}` },
  { field: 'yearly', label: 'yearly', of: (d: Date) => pad(d.getUTCFullYear(), 4) },
] as const;

/** One decision per snapshot, newest first; snapshots whose time is not a valid date are kept and listed last. */
export function planStoreRetention(snapshots: readonly StoreRetentionSnapshot[], policy: StoreRetentionPolicy): StoreRetentionDecision[] {
  assertPolicy(policy);
  const valid = snapshots.filter((s) => !Number.isNaN(s.createdAt.getTime()));
  const invalid = snapshots.filter((s) => Number.isNaN(s.createdAt.getTime()));
  const sorted = [...valid].sort(
    (a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.name < b.name ? 1 : a.name > b.name ? -1 : 0),
  );
  const remaining = { weekly: policy.weekly, monthly: policy.monthly, yearly: policy.yearly };
  const lastBucket: Record<string, string | undefined> = {};
  const limitMs = policy.days * DAY_MS;

  const decisions = sorted.map((snapshot, index): StoreRetentionDecision => {
    const reasons: string[] = [];
    if (index === 0) reasons.push('newest snapshot');
    if (index < policy.keepMin) reasons.push(`keep-min: ${policy.keepMin} newest kept`);
    if (policy.now.getTime() - snapshot.createdAt.getTime() <= limitMs) reasons.push(`within ${policy.days} day${policy.days === 1 ? '' : 's'}`);
    for (const bucket of BUCKETS) {
      const key = bucket.of(snapshot.createdAt);
      if (remaining[bucket.field] > 0 && lastBucket[bucket.field] !== key) {
        lastBucket[bucket.field] = key;
        remaining[bucket.field]--;
        reasons.push(`${bucket.label} ${key}`);
      }
    }
    const createdAt = snapshot.createdAt.toISOString();
    if (reasons.length) return { name: snapshot.name, createdAt, keep: true, reasons };
    return { name: snapshot.name, createdAt, keep: false, reasons: [`older than ${policy.days} day${policy.days === 1 ? '' : 's'} and not kept by any weekly, monthly or yearly rule`] };
  });
  for (const snapshot of invalid) decisions.push({ name: snapshot.name, createdAt: 'invalid', keep: true, reasons: ['creation time unknown'] });
  return decisions;
}
