// The container's long-running entry point: sync every configured repository on a cron schedule (UTC), forever.
//
// Phases of one turn: compute the next fire time -> sleep (abortable) -> build a fresh engine -> sync (which also
// applies retention) -> log the outcome. A run that throws or reports failed repositories is logged and the loop
// goes on; only an abort (SIGTERM/SIGINT in the CLI) ends it. On abort during a run, the same signal reaches the
// engine, which stops its git at once and unwinds between phases, leaving only leftovers the next run removes;
// the daemon waits for it to return and then returns itself: exit 130 when stopped mid-run, 0 when idle.
import type { BackupSettings } from '../config.ts';
import type { Engine } from '../engine/api.ts';
import { errorMessage } from '../errors.ts';
import type { RunResult, SyncRepoResult } from '../types.ts';
import { nextFireTime, parseCron, type CronSchedule } from './cron.ts';

export interface DaemonOptions {
  settings: BackupSettings;
  /** A fresh engine per run, so each run re-reads targets (owners expand to new repositories). */
  engineFactory: (signal: AbortSignal) => Engine;
  /** Aborting ends the daemon: the sleep ends at once, a running sync stops at its next phase boundary. */
  signal: AbortSignal;
  clock?: () => Date;
  /** One line per event; the CLI sends these to stderr (the container's log). */
  log: (line: string) => void;
  /** Run a sync immediately on start, before the first scheduled time. */
  runOnStart?: boolean;
  /** Injected by tests with a fake clock; resolves early (never rejects) when the signal aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Stop after this many runs (tests). */
  maxRuns?: number;
  /** Called once per finished run with its result, or the error that ended it (the CLI's --json prints each). */
  onRun?: (run: number, outcome: { result: RunResult<SyncRepoResult> } | { error: string }) => void;
}

// Sleep in bounded slices and re-read the clock, so a suspended host or a clock step does not skip or delay a run
// by more than a slice.
const MAX_SLEEP_MS = 60_000;

export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

async function sleepUntil(
  target: Date,
  clock: () => Date,
  sleep: (ms: number, signal: AbortSignal) => Promise<void>,
  signal: AbortSignal,
): Promise<void> {
  for (;;) {
    if (signal.aborted) return;
    const remaining = target.getTime() - clock().getTime();
    if (remaining <= 0) return;
    await sleep(Math.min(remaining, MAX_SLEEP_MS), signal);
  }
}

function describeRepo(value: SyncRepoResult): string {
  const { added, updated, forceUpdated, deleted } = value.changes;
  const changes = value.changed
    ? `refs +${added.length} ~${updated.length} !${forceUpdated.length} -${deleted.length}`
    : 'no ref changes';
  const snapshot = value.snapshot ? `, snapshot ${value.snapshot.name}` : '';
  const pruned = value.pruned.length ? `, pruned ${value.pruned.length} (${value.pruned.join(', ')})` : '';
  return `${changes}${snapshot}${pruned}, ${value.snapshotCount} snapshot(s)`;
}

/** Log lines for one finished run; exported for the tests and for anyone rendering a run the same way. */
export function describeRun(run: number, result: RunResult<SyncRepoResult>): string[] {
  const ok = result.outcomes.filter((outcome) => outcome.ok).length;
  const lines = [
    `daemon: run ${run} finished with exit code ${result.exitCode}: ${ok} repositor${ok === 1 ? 'y' : 'ies'} ok, ` +
      `${result.failed.length} failed (${result.startedAt} -> ${result.finishedAt})`,
  ];
  for (const outcome of result.outcomes) {
    lines.push(
      outcome.ok
        ? `daemon:   ${outcome.repo}: ok: ${describeRepo(outcome.value)}`
        : `daemon:   ${outcome.repo}: FAILED (exit ${outcome.exitCode}): ${outcome.error}`,
    );
  }
  return lines;
}

export interface DaemonOutcome {
  runs: number;
  /** Stopped during a run (exit 130) rather than while waiting for the next one (exit 0). */
  stoppedMidRun: boolean;
}

export async function runDaemon(options: DaemonOptions): Promise<DaemonOutcome> {
  const { settings, engineFactory, signal, log } = options;
  const clock = options.clock ?? (() => new Date());
  const sleep = options.sleep ?? abortableSleep;
  // A bad schedule is a configuration error: fail at start (exit 2), not at 02:00.
  const schedule: CronSchedule = parseCron(settings.schedule);

  log(`daemon: started; schedule ${JSON.stringify(schedule.expression)} (UTC), root ${settings.root}`);
  let run = 0;
  let first = true;
  let stoppedMidRun = false;
  while (!signal.aborted) {
    if (!(first && options.runOnStart)) {
      const next = nextFireTime(schedule, clock());
      log(`daemon: next run at ${next.toISOString()}`);
      await sleepUntil(next, clock, sleep, signal);
      if (signal.aborted) break;
    }
    first = false;
    run += 1;
    log(`daemon: run ${run} starting at ${clock().toISOString()}`);
    try {
      const engine = engineFactory(signal);
      const result = await engine.sync();
      for (const line of describeRun(run, result)) log(line);
      options.onRun?.(run, { result });
    } catch (error) {
      // Survive: a broken config file, a full disk or a bug in one run must not stop tomorrow's backup.
      log(`daemon: run ${run} FAILED: ${errorMessage(error)}`);
      options.onRun?.(run, { error: errorMessage(error) });
    }
    if (signal.aborted) {
      stoppedMidRun = true;
      log(`daemon: shutdown requested during run ${run}; anything it left unfinished is cleaned up by the next run`);
    }
    if (options.maxRuns !== undefined && run >= options.maxRuns) break;
  }
  log(`daemon: stopped after ${run} run(s)${stoppedMidRun ? ', the last one before it finished' : ''}`);
  return { runs: run, stoppedMidRun };
}
