// The run loop's side of rate-limit-aware concurrency (src/pace.ts decides): every API response's budget is
// observed here, and a worker asks before starting its next repository. Says in the log when the pace changes.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ResponseHeaders } from '../github/client.ts';
import type { Logger } from '../log.ts';
import { budgetFromHeaders, newerBudget, paceFor, type ApiBudget, type Pace } from '../pace.ts';

export interface Pacer {
  /** For GitHubClientOptions.onResponse. */
  observe(headers: ResponseHeaders): void;
  /** Before worker `slot` (0-based) starts a repository: waits as the budget asks; false means sit this turn out. */
  mayStart(slot: number): Promise<boolean>;
}

/** How long a worker that is not needed at the slower pace waits before asking again. */
const SIT_OUT_MS = 250;

export function createPacer(options: { concurrency: number; logger: Logger; signal?: AbortSignal; now?: () => number }): Pacer {
  const now = options.now ?? Date.now;
  let budget: ApiBudget | null = null;
  let mode: Pace['mode'] = 'full';
  const wait = (ms: number) => sleep(ms, undefined, { signal: options.signal }).catch(() => undefined);

  const describe = (pace: Pace, b: ApiBudget): string => {
    const left = `${b.remaining} of ${b.limit} GitHub API requests left until ${new Date(b.resetAt).toISOString()}`;
    if (pace.mode === 'wait-for-reset') return `${left}: waiting for the reset before the next repository`;
    return `${left}: one repository at a time, ${pace.pauseMs} ms apart`;
  };

  return {
    observe(headers) {
      const reading = budgetFromHeaders(headers);
      if (reading) budget = newerBudget(budget, reading);
    },
    async mayStart(slot) {
      const pace = paceFor(budget, now(), options.concurrency);
      if (pace.mode !== mode) {
        options.logger.log(pace.mode === 'full' ? 'info' : 'warn', pace.mode === 'full' ? `GitHub API budget restored: ${options.concurrency} repositories at once again` : describe(pace, budget!));
        mode = pace.mode;
      }
      if (options.signal?.aborted) return true; // the task itself stops at once
      if (slot >= pace.concurrency) {
        await wait(Math.max(SIT_OUT_MS, Math.min(pace.pauseMs, SIT_OUT_MS * 4)));
        return false;
      }
      if (pace.pauseMs) await wait(pace.pauseMs);
      return true;
    },
  };
}
