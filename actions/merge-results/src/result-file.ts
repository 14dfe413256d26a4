// The file a sharded backup job uploads and the merge job reads (docs/GITHUB_ACTIONS.md "Sharded backups"): its
// name and its schema, in one place for both sides. A file that does not match is refused with what is wrong.
import { z } from 'zod';
import type { Shard } from '../../../src/shard.ts';
import type { RunResult } from '../../../src/types.ts';

export const RESULT_FORMAT = 1;

/** Artifact names are unique per workflow run, so a re-run job (a new attempt) uploads under a new name. */
export const resultArtifactName = (shard: Shard, attempt: number) => `backup-result-${shard.index}-of-${shard.count}-attempt-${attempt}`;
export const resultFileName = (shard: Shard, attempt: number) => `${resultArtifactName(shard, attempt)}.json`;

const outcome = z.union([
  z.object({ repo: z.string().min(1), ok: z.literal(true), value: z.unknown() }).loose(),
  z.object({ repo: z.string().min(1), ok: z.literal(false), error: z.string(), exitCode: z.number().int() }).loose(),
]);

export const shardResultSchema = z
  .object({
    format: z.literal(RESULT_FORMAT),
    runId: z.string(),
    attempt: z.number().int().positive(),
    shard: z.object({ index: z.number().int().positive(), count: z.number().int().positive().max(9999) }).refine((s) => s.index <= s.count, 'index must be at most count'),
    result: z
      .object({
        command: z.string().min(1),
        startedAt: z.string(),
        finishedAt: z.string(),
        outcomes: z.array(outcome),
        failed: z.array(z.string()),
        exitCode: z.number().int(),
      })
      .loose(),
  })
  .strict();

export interface ShardResultFile {
  format: typeof RESULT_FORMAT;
  runId: string;
  attempt: number;
  shard: { index: number; count: number };
  result: RunResult<unknown>;
}
