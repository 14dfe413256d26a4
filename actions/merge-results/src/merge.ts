// The matrix's shards, merged into one result (docs/GITHUB_ACTIONS.md "Sharded backups"). Pure: files in, one run
// result and what is wrong with the set out. A re-run job's newer attempt replaces its shard's earlier one; a shard
// that never reported, or files that disagree on the matrix, fail the merged run: a backup nobody ran is not a success.
import { combinedExitCode } from '../../../src/engine/run.ts';
import { ExitCode, type ExitCodeValue } from '../../../src/errors.ts';
import type { RepoOutcome, RunResult } from '../../../src/types.ts';
import { shardResultSchema, type ShardResultFile } from './result-file.ts';

export interface ResultText {
  /** Where it came from, for messages. */
  file: string;
  text: string;
}

export interface ShardLine {
  index: number;
  attempt: number;
  repositories: number;
  failed: number;
  exitCode: number;
  startedAt: string;
  finishedAt: string;
}

export interface MergedRun {
  /** Shards expected (the matrix's N, from the files or the caller). */
  count: number;
  shards: ShardLine[];
  missing: number[];
  /** Files refused, and disagreements between them, each with its file. */
  problems: string[];
  /** Every shard's repositories as one run, failed ones listed, exit code over all of them. */
  result: RunResult<unknown>;
}

/** Parse one file; a problem is returned as text naming the file, never thrown. */
export function parseResultFile(input: ResultText): ShardResultFile | string {
  let json: unknown;
  try {
    json = JSON.parse(input.text);
  } catch (error) {
    return `${input.file}: not JSON (${(error as Error).message})`;
  }
  const parsed = shardResultSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return `${input.file}: not a shard result at ${issue.path.join('.') || '(top)'}: ${issue.message}`;
  }
  return parsed.data as ShardResultFile;
}

export function mergeShardResults(inputs: readonly ResultText[], expectedCount?: number): MergedRun {
  const problems: string[] = [];
  const files: Array<{ file: string; data: ShardResultFile }> = [];
  for (const input of inputs) {
    const parsed = parseResultFile(input);
    if (typeof parsed === 'string') problems.push(parsed);
    else files.push({ file: input.file, data: parsed });
  }
  const count = expectedCount ?? Math.max(0, ...files.map((f) => f.data.shard.count));
  const command = files[0]?.data.result.command ?? 'sync';
  const chosen = new Map<number, { file: string; data: ShardResultFile }>();
  for (const f of files) {
    if (f.data.shard.count !== count) {
      problems.push(`${f.file}: shard ${f.data.shard.index}/${f.data.shard.count} is not from this ${count}-shard matrix`);
      continue;
    }
    if (f.data.result.command !== command) {
      problems.push(`${f.file}: a ${f.data.result.command} result among ${command} results`);
      continue;
    }
    const held = chosen.get(f.data.shard.index);
    if (!held || f.data.attempt > held.data.attempt) chosen.set(f.data.shard.index, f);
    else if (f.data.attempt === held.data.attempt) problems.push(`${f.file}: shard ${f.data.shard.index} attempt ${f.data.attempt} reported twice (also ${held.file})`);
  }
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !chosen.has(i));

  const shards = [...chosen.values()].sort((a, b) => a.data.shard.index - b.data.shard.index);
  const outcomes: RepoOutcome<unknown>[] = [];
  const seen = new Map<string, number>();
  for (const { file, data } of shards) {
    for (const o of data.result.outcomes) {
      const earlier = seen.get(o.repo.toLowerCase());
      // A repository's shard is fixed by its name: one in two shards means the files are not one matrix's.
      if (earlier !== undefined) problems.push(`${file}: ${o.repo} is in shard ${data.shard.index} and in shard ${earlier}`);
      else {
        seen.set(o.repo.toLowerCase(), data.shard.index);
        outcomes.push(o);
      }
    }
  }
  outcomes.sort((a, b) => (a.repo.toLowerCase() < b.repo.toLowerCase() ? -1 : 1));
  const failures = outcomes.filter((o): o is Extract<RepoOutcome<unknown>, { ok: false }> => !o.ok);
  // A shard that failed as a whole (its job's own exit code) counts even when it reported no repository.
  const shardCodes = shards.filter((s) => s.data.result.outcomes.length === 0 && s.data.result.exitCode !== 0).map((s) => s.data.result.exitCode as ExitCodeValue);
  let exitCode = combinedExitCode(outcomes.length + shardCodes.length, [...failures.map((f) => f.exitCode), ...shardCodes]);
  if ((missing.length || problems.length) && exitCode === ExitCode.OK) exitCode = ExitCode.FAILURE;
  const times = shards.map((s) => s.data.result);
  return {
    count,
    shards: shards.map(({ data }) => ({
      index: data.shard.index,
      attempt: data.attempt,
      repositories: data.result.outcomes.length,
      failed: data.result.failed.length,
      exitCode: data.result.exitCode,
      startedAt: data.result.startedAt,
      finishedAt: data.result.finishedAt,
    })),
    missing,
    problems,
    result: {
      command,
      startedAt: times.map((t) => t.startedAt).sort()[0] ?? '',
      finishedAt: times.map((t) => t.finishedAt).sort().at(-1) ?? '',
      outcomes,
      failed: failures.map((f) => f.repo),
      exitCode,
    },
  };
}
