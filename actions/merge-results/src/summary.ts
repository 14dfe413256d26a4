// The merged run's job summary and outputs (docs/GITHUB_ACTIONS.md "Sharded backups"). Pure: rendering only.
import { renderSummary, type AnyRepoResult } from '../../backup/src/summary.ts';
import type { RunResult } from '../../../src/types.ts';
import type { MergedRun } from './merge.ts';

const took = (from: string, to: string) => {
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) && ms >= 0 ? `${Math.round(ms / 1000)} s` : '?';
};

export function renderMergedSummary(merged: MergedRun): string {
  const rows = [
    ...merged.shards.map((s) => `| ${s.index}/${merged.count} | ${s.repositories} | ${s.failed} | ${s.exitCode} | ${s.attempt} | ${took(s.startedAt, s.finishedAt)} |`),
    ...merged.missing.map((i) => `| ${i}/${merged.count} | — | — | no result | — | — |`),
  ];
  const verdict = mergedStatus(merged) === 'success' ? 'every shard reported, nothing failed' : 'FAILED';
  return [
    `## Sharded backup \`${merged.result.command}\`: ${merged.count} shards, ${verdict}`,
    '',
    '| shard | repositories | failed | exit | attempt | took |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    ...(merged.missing.length ? [`**Shards without a result:** ${merged.missing.map((i) => `${i}/${merged.count}`).join(', ')} (the job failed before uploading it, or was cancelled).`, ''] : []),
    ...(merged.problems.length ? ['**Result files refused:**', ...merged.problems.map((p) => `- ${p}`), ''] : []),
    renderSummary(merged.result as RunResult<AnyRepoResult>),
  ].join('\n');
}

export function mergedStatus(merged: MergedRun): 'success' | 'failure' {
  return merged.result.exitCode === 0 && !merged.missing.length && !merged.problems.length ? 'success' : 'failure';
}

export interface MergedOutputs {
  status: 'success' | 'failure';
  'failed-repositories': string;
  'missing-shards': string;
  'result-json': string;
}

export function mergedOutputs(merged: MergedRun): MergedOutputs {
  return {
    status: mergedStatus(merged),
    'failed-repositories': merged.result.failed.join('\n'),
    'missing-shards': merged.missing.map((i) => `${i}/${merged.count}`).join('\n'),
    'result-json': JSON.stringify(merged.result),
  };
}
