// The merge-results action: read every shard's result file from a directory (what actions/download-artifact left),
// merge them (merge.ts), write one job summary and the outputs a report-failure step needs.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as core from '@actions/core';
import { errorMessage, UsageError } from '../../../src/errors.ts';
import { Redactor } from '../../../src/redact.ts';
import { mergeShardResults, type ResultText } from './merge.ts';
import { mergedOutputs, renderMergedSummary } from './summary.ts';

/** Result files are small; anything bigger is not one of ours and is not read whole. */
const MAX_RESULT_BYTES = 64 * 1024 * 1024;

function resultFiles(dir: string): ResultText[] {
  const out: ResultText[] = [];
  const visit = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.isFile() && entry.name.endsWith('.json')) {
        const file = relative(dir, path);
        out.push(statSync(path).size > MAX_RESULT_BYTES ? { file, text: '' } : { file, text: readFileSync(path, 'utf8') });
      }
    }
  };
  visit(dir);
  return out;
}

export async function run(): Promise<void> {
  const redactor = new Redactor();
  try {
    const dir = core.getInput('results') || 'backup-results';
    const rawCount = core.getInput('shards');
    const expected = rawCount ? Number(rawCount) : undefined;
    if (expected !== undefined && !(Number.isInteger(expected) && expected >= 1 && expected <= 9999)) throw new UsageError(`input "shards" must be a whole number from 1 to 9999, got ${JSON.stringify(rawCount)}`);
    let files: ResultText[];
    try {
      files = resultFiles(dir);
    } catch (error) {
      throw new UsageError(`cannot read the shard results in ${dir}: ${(error as NodeJS.ErrnoException).code ?? errorMessage(error)}`);
    }
    if (!files.length && expected === undefined) throw new UsageError(`no shard results (*.json) in ${dir}, and no "shards" input to say how many were expected`);
    const merged = mergeShardResults(files, expected);
    core.info(`merged ${merged.shards.length} of ${merged.count} shards: ${merged.result.outcomes.length} repositories, ${merged.result.failed.length} failed`);
    for (const [name, value] of Object.entries(mergedOutputs(merged))) core.setOutput(name, redactor.redact(value));
    if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(redactor.redact(renderMergedSummary(merged)), true).write();
    const failOn = (core.getInput('fail-on-failure') || 'true').toLowerCase() !== 'false';
    if (failOn && mergedOutputs(merged).status === 'failure') {
      const parts = [
        ...(merged.result.failed.length ? [`${merged.result.failed.length} repositories failed: ${merged.result.failed.join(', ')}`] : []),
        ...(merged.missing.length ? [`no result from shard(s) ${merged.missing.map((i) => `${i}/${merged.count}`).join(', ')}`] : []),
        ...merged.problems,
        ...(merged.result.exitCode !== 0 && !merged.result.failed.length && !merged.missing.length && !merged.problems.length ? [`a shard exited ${merged.result.exitCode}`] : []),
      ];
      core.setFailed(redactor.redact(`sharded backup ${merged.result.command} failed: ${parts.join('; ')}`));
    }
  } catch (error) {
    core.setFailed(redactor.redact(errorMessage(error)));
  }
}
