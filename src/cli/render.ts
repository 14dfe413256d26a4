// Text rendering shared by the commands: one block per repository, then a one-line verdict.
import { EXIT_CODE_HELP } from '../errors.ts';
import { emptyShard, shardNote } from '../shard.ts';
import type { HeadCommit, RunResult } from '../types.ts';

/** `mark` replaces ✓ for a success that still deserves attention (⚠). */
export function renderOutcomes<T>(result: RunResult<T>, describe: (value: T) => string[], mark: (value: T) => string = () => '✓'): string {
  const lines: string[] = [];
  for (const outcome of result.outcomes) {
    if (outcome.ok) {
      const [first = 'ok', ...rest] = describe(outcome.value);
      lines.push(`${mark(outcome.value)} ${outcome.repo}: ${first}`, ...rest.map((l) => `    ${l}`));
    } else {
      lines.push(`✗ ${outcome.repo}: ${outcome.error}`);
    }
  }
  const failed = result.failed.length;
  const total = result.outcomes.length;
  const verdict = failed ? `${failed} of ${total} repositories failed (exit ${result.exitCode})` : `${total} ${total === 1 ? 'repository' : 'repositories'} ok`;
  lines.push('', `${result.command}: ${emptyShard(result) ?? `${verdict}${shardNote(result)}`}`);
  return lines.join('\n');
}

export function describeHead(head: HeadCommit | null): string {
  return head ? `${head.hash.slice(0, 12)} ${head.date} ${JSON.stringify(head.subject).slice(1, -1)}` : '(no HEAD commit)';
}

export const EXIT_STATUS = EXIT_CODE_HELP;
