// A sharded run's result, uploaded as an artifact for the matrix's merge job (actions/merge-results,
// docs/GITHUB_ACTIONS.md "Sharded backups"). Never throws: a failed upload is a warning here, and the merge job
// reports the shard as missing, which fails the run there.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as core from '@actions/core';
import { DefaultArtifactClient } from '@actions/artifact';
import type { Shard } from '../../../src/shard.ts';
import type { RunResult } from '../../../src/types.ts';
import { RESULT_FORMAT, resultArtifactName, resultFileName, type ShardResultFile } from '../../merge-results/src/result-file.ts';

export const RESULT_RETENTION_DAYS = 7;

export async function uploadShardResult(options: { result: RunResult<unknown>; shard: Shard; runId: string; runAttempt: string; tempDir: string }): Promise<boolean> {
  const { shard } = options;
  const attempt = Number(options.runAttempt) || 1;
  const name = resultArtifactName(shard, attempt);
  if (!process.env.ACTIONS_RUNTIME_TOKEN || !process.env.ACTIONS_RESULTS_URL) {
    core.warning(`artifact service not available (ACTIONS_RUNTIME_TOKEN / ACTIONS_RESULTS_URL unset): the result of shard ${shard.index}/${shard.count} was not uploaded`);
    return false;
  }
  try {
    const dir = mkdtempSync(join(options.tempDir, 'gpb-result-'));
    const file = join(dir, resultFileName(shard, attempt));
    const body: ShardResultFile = { format: RESULT_FORMAT, runId: options.runId, attempt, shard: { index: shard.index, count: shard.count }, result: options.result };
    writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
    const { id } = await new DefaultArtifactClient().uploadArtifact(name, [file], dir, { retentionDays: RESULT_RETENTION_DAYS });
    core.info(`uploaded the result of shard ${shard.index}/${shard.count} as artifact ${name} (id ${id})`);
    return true;
  } catch (error) {
    core.warning(`could not upload the result of shard ${shard.index}/${shard.count} as artifact ${name}: ${error instanceof Error ? error.message : String(error)}`);
    return false;
  }
}
