import type { Command } from './command.ts';
import { OPERATIONS } from '../operations/index.ts';
import { describeHead } from './render.ts';
import { emptyShard, shardNote } from '../shard.ts';
import { formatBytes } from '../format.ts';
import { describeMetadata } from '../github-metadata/describe.ts';
import type { Health, RunResult, StatusRepoResult } from '../types.ts';

// ✓ only for healthy; ⚠ for what is not failing yet but is no backup to count on; ✗ for failures.
const MARK: Record<Health, string> = { healthy: '✓', stale: '⚠', uninitialized: '⚠', failing: '✗' };
const ORDER: Health[] = ['healthy', 'stale', 'failing', 'uninitialized'];

/** health reports an unhealthy repository as a failed outcome with its status in `details`. */
function statusOf(outcome: RunResult<StatusRepoResult>['outcomes'][number]): StatusRepoResult | undefined {
  if (outcome.ok) return outcome.value;
  const details = outcome.details as Partial<StatusRepoResult> | undefined;
  return details && typeof details.health === 'string' && typeof details.healthReason === 'string' ? (details as StatusRepoResult) : undefined;
}

function describe(v: StatusRepoResult): string[] {
  return [
    `mirror:    ${v.initialized ? `${v.branches} branches, ${v.tags} tags` : 'not initialized'}`,
    `HEAD:      ${describeHead(v.head)}`,
    `last sync: ${v.lastSync ? `${v.lastSync.at} ${v.lastSync.ok ? 'ok' : `FAILED: ${v.lastSync.error ?? ''}`}` : 'never'}`,
    `snapshots: ${v.snapshotCount}${v.snapshotCount ? ` (newest ${v.newestSnapshot ?? 'none trusted'}, oldest ${v.oldestSnapshot})` : ''}`,
    `disk used: ${formatBytes(v.diskUsedBytes)} (apparent ${formatBytes(v.apparentBytes)}: hard links counted once)`,
    ...(v.githubMetadata ? [`metadata:  ${describeMetadata(v.githubMetadata)}`] : []),
    ...(v.wikiOf ? [`wiki of:   ${v.wikiOf}`] : []),
    ...(v.lfs ? [`LFS:       ${v.lfs.objects} objects, ${formatBytes(v.lfs.bytes)}`] : []),
    ...v.pinned.map((p) => `pinned:    ${p.name}: ${p.reason}`),
    ...v.warnings.map((w) => `⚠ ${w}`),
  ];
}

export function renderStatus(result: RunResult<StatusRepoResult>): string {
  const lines: string[] = [];
  const counts = new Map<string, number>();
  for (const outcome of result.outcomes) {
    const v = statusOf(outcome);
    const verdict = v?.health ?? 'unreadable';
    counts.set(verdict, (counts.get(verdict) ?? 0) + 1);
    if (!v) {
      lines.push(`✗ ${outcome.repo}: ${outcome.ok ? '' : outcome.error}`);
      continue;
    }
    lines.push(`${MARK[v.health]} ${outcome.repo}: ${v.health.toUpperCase()}: ${v.healthReason}`, ...describe(v).map((l) => `    ${l}`));
  }
  const byVerdict = [...ORDER, 'unreadable'].filter((h) => counts.has(h)).map((h) => `${counts.get(h)} ${h}`);
  const verdict = `${byVerdict.join(', ') || 'no repositories'}${result.exitCode ? ` (exit ${result.exitCode})` : ''}${shardNote(result)}`;
  lines.push('', `${result.command}: ${emptyShard(result) ?? verdict}`);
  return lines.join('\n');
}

export const statusCommand: Command<StatusRepoResult> = {
  name: OPERATIONS.status.name,
  summary: OPERATIONS.status.summary,
  usage: 'status [--repo R]... [--json]',
  execute: ({ engine }) => OPERATIONS.status.run(engine, {}),
  render: renderStatus,
};

export const healthCommand: Command<StatusRepoResult> = {
  name: OPERATIONS.health.name,
  summary: OPERATIONS.health.summary,
  usage: 'health [--repo R]... [--json]',
  execute: ({ engine }) => OPERATIONS.health.run(engine, {}),
  render: renderStatus,
};
