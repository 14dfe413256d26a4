// How fast a run may go given the GitHub API budget it has left (docs/OPERATIONS.md "Rate limits"). Pure. A run over
// a large organisation spends a request or more per repository; going on at full speed into an empty budget fails
// every repository after that point, so a low budget slows the run down instead, and an exhausted one waits for the
// reset rather than spending the reserve.

/** What the last API response said (x-ratelimit-*), with the reset as ms since the epoch. */
export interface ApiBudget {
  limit: number;
  remaining: number;
  resetAt: number;
}

/** Requests kept back for what a run must still do (owner listings, retries, another job on the same budget). */
export const RESERVE = 20;
/** A single wait never exceeds this; the next repository asks again (the budget may have been reset meanwhile). */
export const MAX_PAUSE_MS = 15 * 60_000;

export interface Pace {
  /** How many repositories may run at once now. */
  concurrency: number;
  /** How long to wait before starting the next repository. */
  pauseMs: number;
  mode: 'full' | 'slow' | 'wait-for-reset';
}

/** Below this many requests left, the run slows down: a tenth of the limit, and never less than twice the reserve. */
export function lowWater(limit: number): number {
  return Math.max(2 * RESERVE, Math.ceil(limit / 10));
}

export function paceFor(budget: ApiBudget | null, now: number, concurrency: number): Pace {
  const full: Pace = { concurrency, pauseMs: 0, mode: 'full' };
  // Nothing known yet, or the window it describes is over: GitHub has refilled the budget.
  if (!budget || budget.resetAt <= now || budget.remaining >= lowWater(budget.limit)) return full;
  const untilReset = budget.resetAt - now;
  if (budget.remaining <= RESERVE) return { concurrency: 1, pauseMs: Math.min(untilReset, MAX_PAUSE_MS), mode: 'wait-for-reset' };
  // Spread what is left above the reserve evenly over the time until the reset, one repository at a time.
  return { concurrency: 1, pauseMs: Math.min(Math.ceil(untilReset / (budget.remaining - RESERVE)), MAX_PAUSE_MS), mode: 'slow' };
}

/** The budget an API response's headers describe, or null when they describe none (or another resource's). */
export function budgetFromHeaders(headers: Record<string, string | number | undefined>): ApiBudget | null {
  const resource = headers['x-ratelimit-resource'];
  if (resource !== undefined && resource !== 'core') return null;
  const [limit, remaining, reset] = ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'].map((h) => Number(headers[h]));
  if (![limit, remaining, reset].every((n) => Number.isFinite(n) && n! >= 0) || headers['x-ratelimit-remaining'] === undefined) return null;
  return { limit: limit!, remaining: remaining!, resetAt: reset! * 1000 };
}

/** Of two readings, the one to trust: a later window's, or within one window the lower count (responses overlap). */
export function newerBudget(previous: ApiBudget | null, next: ApiBudget): ApiBudget {
  if (!previous || next.resetAt > previous.resetAt) return next;
  if (next.resetAt < previous.resetAt) return previous;
  return next.remaining < previous.remaining ? next : previous;
}
