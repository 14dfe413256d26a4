// How a process of ours stops on SIGINT/SIGTERM (docs/OPERATIONS.md "Stopping and crashes"), for every entry point:
// the first signal aborts the run, which stops each git we started and lets the engine unwind between steps; a second
// one kills our git children and leaves at once. The Actions runner sends SIGINT on cancel, then SIGTERM 7.5 s later.
import { ExitCode } from './errors.ts';
import { descendantsOf, signalAll } from './process-tree.ts';

export type StopSignal = 'SIGINT' | 'SIGTERM';

export interface StopSignalHandlers {
  /** Say at once that the run is stopping (it may take a moment to unwind). */
  stopping(signal: StopSignal): void;
  /** Say that the process leaves now, before the exit. */
  leaving(signal: StopSignal): void;
}

/** Installs the handlers on this process; the returned signal is aborted by the first SIGINT or SIGTERM. */
export function stopOnSignals(say: StopSignalHandlers): AbortSignal {
  const controller = new AbortController();
  let received = 0;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (++received > 1) {
        signalAll(descendantsOf(process.pid).map((p) => p.pid), 'SIGKILL');
        say.leaving(sig);
        process.exit(ExitCode.INTERRUPTED);
      }
      say.stopping(sig);
      controller.abort();
      // The executor interrupts each git it started; their helpers (git-remote-https, git-lfs) get SIGTERM here.
      signalAll(descendantsOf(process.pid).map((p) => p.pid), 'SIGTERM');
    });
  }
  return controller.signal;
}
