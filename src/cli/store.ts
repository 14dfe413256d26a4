// backup-manager store push|list|verify|prune: the off-site store (docs/STORE_FORMAT.md, docs/OPERATIONS.md).
import type { Command } from './command.ts';
import { renderOutcomes } from './render.ts';
import { UsageError } from '../errors.ts';
import { formatBytes } from '../format.ts';
import type { RunResult, StoreListRepoResult, StorePushRepoResult, StorePushSummary } from '../types.ts';

type StoreRepoResult = StorePushRepoResult | StoreListRepoResult;

const SUBCOMMANDS = ['push', 'list'] as const;

/** One line for a push, also shown by sync and snapshot. */
export function describeStorePush(v: StorePushSummary): string {
  if (!v.snapshots.length) return `store ${v.store}: nothing to push, it holds every local snapshot`;
  return `store ${v.store}: pushed ${v.snapshots.join(', ')}: ${v.uploadedObjects} object(s) uploaded (${formatBytes(v.uploadedBytes)}), ${v.reusedObjects} already there`;
}

function describePush(v: StorePushRepoResult): string[] {
  return [describeStorePush(v)];
}

function describeList(v: StoreListRepoResult): string[] {
  if (!v.snapshots.length) return ['no snapshots in the store'];
  // Newest first, as `list` prints local snapshots.
  return [`${v.snapshots.length} snapshot(s) in the store`, ...[...v.snapshots].reverse().map((s) => `${s.name}  ${s.createdAt}`)];
}

export const storeCommand: Command<StoreRepoResult> = {
  name: 'store',
  summary: 'the off-site store: push snapshots not yet there, list what it holds',
  usage: 'store push|list',
  help: `  push               upload every local snapshot the store lacks (idempotent; resumes after a kill;
                     uploads only objects the store does not hold; the manifest is written last)
  list               snapshots per repository in the store (all repositories it holds, or --repo)`,
  execute: ({ engine, positionals }) => {
    const [sub, ...rest] = positionals;
    if (!sub || !(SUBCOMMANDS as readonly string[]).includes(sub)) {
      throw new UsageError(`store: expected one of ${SUBCOMMANDS.join(', ')}${sub ? `, got ${JSON.stringify(sub)}` : ''}`);
    }
    if (rest.length) throw new UsageError(`store ${sub} takes no arguments, got ${JSON.stringify(rest.join(' '))}`);
    switch (sub as (typeof SUBCOMMANDS)[number]) {
      case 'push':
        return engine.storePush() as Promise<RunResult<StoreRepoResult>>;
      case 'list':
        return engine.storeList() as Promise<RunResult<StoreRepoResult>>;
    }
  },
  render: (result) =>
    result.command === 'store push'
      ? renderOutcomes(result as RunResult<StorePushRepoResult>, describePush)
      : renderOutcomes(result as RunResult<StoreListRepoResult>, describeList),
};
