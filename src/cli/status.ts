import type { Command } from './command.ts';
import { describeHead, renderOutcomes } from './render.ts';
import { formatBytes } from '../format.ts';
import type { RunResult, StatusRepoResult } from '../types.ts';

export function renderStatus(result: RunResult<StatusRepoResult>): string {
  return renderOutcomes(result, (v) => [
    `${v.health.toUpperCase()}: ${v.healthReason}`,
    `mirror:    ${v.initialized ? `${v.branches} branches, ${v.tags} tags` : 'not initialized'}`,
    `HEAD:      ${describeHead(v.head)}`,
    `last sync: ${v.lastSync ? `${v.lastSync.at} ${v.lastSync.ok ? 'ok' : `FAILED: ${v.lastSync.error ?? ''}`}` : 'never'}`,
    `snapshots: ${v.snapshotCount}${v.snapshotCount ? ` (newest ${v.newestSnapshot}, oldest ${v.oldestSnapshot})` : ''}`,
    `disk used: ${formatBytes(v.diskUsedBytes)} (apparent ${formatBytes(v.apparentBytes)}: hard links counted once)`,
  ]);
}

export const statusCommand: Command<StatusRepoResult> = {
  name: 'status',
  summary: 'per repository: last sync, HEAD, branches and tags, snapshots, disk used, health verdict',
  usage: 'status [--repo R]... [--json]',
  execute: ({ engine }) => engine.status(),
  render: renderStatus,
};

export const healthCommand: Command<StatusRepoResult> = {
  name: 'health',
  summary: 'exit 0 when every repository synced successfully within the last 26 hours, 1 otherwise',
  usage: 'health [--repo R]...',
  execute: ({ engine }) => engine.health(),
  render: renderStatus,
};
