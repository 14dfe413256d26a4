// Runs one task per repository with bounded concurrency; one repository's failure never stops the others.
import { BackupError, ExitCode, errorMessage, exitCodeOf, type ExitCodeValue } from '../errors.ts';
import type { RepoOutcome, RepoTarget, RunResult } from '../types.ts';
import type { Redactor } from '../redact.ts';
import { beginStep } from '../activity.ts';
import type { ProgressSink } from '../progress.ts';
import type { Pacer } from './pacer.ts';

export async function runPerRepo<T>(
  command: string,
  targets: RepoTarget[],
  concurrency: number,
  clock: () => Date,
  redactor: Redactor,
  task: (target: RepoTarget) => Promise<T>,
  progress?: ProgressSink,
  /** Slows the run down when the GitHub API budget runs low (src/engine/pacer.ts). */
  pacer?: Pacer,
): Promise<RunResult<T>> {
  const startedAt = clock().toISOString();
  progress?.({ type: 'run', command, total: targets.length });
  const outcomes: RepoOutcome<T>[] = new Array(targets.length);
  let next = 0;
  async function worker(slot: number): Promise<void> {
    while (next < targets.length) {
      if (pacer && !(await pacer.mayStart(slot))) continue;
      if (next >= targets.length) break;
      const index = next++;
      const target = targets[index]!;
      const endStep = beginStep(`${command} ${target.id}`);
      progress?.({ type: 'repository', repo: target.id, state: 'started' });
      try {
        outcomes[index] = { repo: target.id, ok: true, value: await task(target) };
      } catch (error) {
        const details = error instanceof BackupError ? error.details : undefined;
        outcomes[index] = {
          repo: target.id,
          ok: false,
          error: redactor.redact(errorMessage(error)),
          exitCode: exitCodeOf(error),
          ...(details === undefined ? {} : { details: redactor.redactDeep(details) }),
        };
      } finally {
        endStep();
        progress?.({ type: 'repository', repo: target.id, state: outcomes[index]?.ok ? 'finished' : 'failed' });
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, targets.length)) }, (_, slot) => worker(slot)));
  return finishRun(command, startedAt, clock().toISOString(), outcomes);
}

function finishRun<T>(command: string, startedAt: string, finishedAt: string, outcomes: RepoOutcome<T>[]): RunResult<T> {
  const failures = outcomes.filter((o): o is Extract<RepoOutcome<T>, { ok: false }> => !o.ok);
  // A repository with nothing upstream to back up (SyncRepoResult.skipped: a wiki GitHub does not have) neither
  // succeeded nor failed: a run whose only other repository failed exits with that failure's code, not 3.
  const skipped = outcomes.filter((o) => o.ok && typeof (o.value as { skipped?: unknown } | null)?.skipped === 'string').length;
  return { command, startedAt, finishedAt, outcomes, failed: failures.map((f) => f.repo), exitCode: combinedExitCode(outcomes.length - skipped, failures.map((f) => f.exitCode)) };
}

/** Stopped on request -> 130 (the run did not finish); all failed alike -> that code; some failed -> partial (3). */
export function combinedExitCode(total: number, failureCodes: ExitCodeValue[]): ExitCodeValue {
  if (failureCodes.length === 0) return ExitCode.OK;
  if (failureCodes.includes(ExitCode.INTERRUPTED)) return ExitCode.INTERRUPTED;
  if (failureCodes.length < total) return ExitCode.PARTIAL;
  const first = failureCodes[0]!;
  return failureCodes.every((c) => c === first) ? first : ExitCode.FAILURE;
}
