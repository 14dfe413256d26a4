// Bottleneck (the scheduler under @octokit/plugin-throttling and @octokit/plugin-retry) defers every step of a job
// with setTimeout(0) so that its in-process store behaves like its Redis one: submit, register, run and free each
// wait for a timer. Node runs a 0 ms timer after at least 1 ms, and every request of our client passes three
// Bottleneck jobs (retry's limiter, throttling's retry limiter, throttling's global group): about 12 ms of doing
// nothing per request, against 1.5 ms for the request itself (docs/BENCHMARKS.md "GitHub metadata").
//
// Here those steps are deferred with setImmediate instead: still asynchronous, still after pending I/O and in the
// order they were asked, only without the clamp. Waits that mean something keep their timers: a job that must wait
// (the write pacing's minTime, a Retry-After, a retry's backoff) or that can expire is run exactly as Bottleneck runs
// it. Applied to the one Bottleneck class both plugins import (bottleneck/light.js), for every Octokit of the process.
import Bottleneck from 'bottleneck/light.js';

/** The release whose internals this reaches into; Bottleneck has had no other since 2019. */
const KNOWN_VERSION = '2.19.5';

interface ScheduledJob {
  options: { expiration?: number | null };
  doRun(): void;
  doExecute(chained: unknown, clearGlobalState: () => boolean, run: (wait: number) => void, free: unknown): Promise<unknown>;
}

/** The parts of a limiter's internals used here (bottleneck/light.js 2.19.5, `Bottleneck.prototype._run`). */
interface LimiterInternals {
  _limiter: unknown;
  _scheduled: Record<string, { timeout: unknown; job: ScheduledJob }>;
  _clearGlobalState(index: string): boolean;
  _free(index: string, job: ScheduledJob, ...rest: unknown[]): unknown;
  _run(index: string, job: ScheduledJob, wait: number): unknown;
  _store: { Promise: PromiseConstructor; yieldLoop(t?: number): Promise<void> };
}

const applied = Symbol.for('github-private-backup.bottleneck-immediate');

/**
 * Make Bottleneck's zero waits immediate. Idempotent. Returns false, changing nothing, on a Bottleneck other than the
 * one this was written against: it then works as shipped, only slower.
 */
export function useImmediateScheduling(): boolean {
  const limiter = Bottleneck.prototype as unknown as LimiterInternals & { [applied]?: true };
  if (limiter[applied]) return true;
  if ((Bottleneck as unknown as { version?: string }).version !== KNOWN_VERSION) return false;
  const store = Object.getPrototypeOf((new Bottleneck() as unknown as LimiterInternals)._store) as LimiterInternals['_store'];
  if (typeof store.yieldLoop !== 'function' || typeof limiter._run !== 'function') return false;

  const yieldLoop = store.yieldLoop;
  store.yieldLoop = function (this: LimiterInternals['_store'], t = 0) {
    if (t > 0) return yieldLoop.call(this, t);
    return new this.Promise<void>((resolve) => setImmediate(resolve));
  };

  const run = limiter._run;
  limiter._run = function (this: LimiterInternals, index, job, wait) {
    if (wait > 0 || job.options.expiration != null) return run.call(this, index, job, wait);
    // Bottleneck's own _run, with setImmediate for setTimeout(…, 0). Only `stop()` would clear this handle, and neither
    // plugin nor this project calls it.
    job.doRun();
    const clearGlobalState = this._clearGlobalState.bind(this, index);
    const again = this._run.bind(this, index, job);
    const free = this._free.bind(this, index, job);
    const timeout = setImmediate(() => void job.doExecute(this._limiter, clearGlobalState, again, free));
    return (this._scheduled[index] = { timeout, job });
  };
  limiter[applied] = true;
  return true;
}
