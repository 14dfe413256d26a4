import type { Command } from './command.ts';
import { OPERATIONS } from '../operations/index.ts';
import { describeHead, renderOutcomes } from './render.ts';
import { formatBytes } from '../format.ts';
import { describeMetadata } from '../github-metadata/describe.ts';
import type { ListRepoResult } from '../types.ts';

/** The newest snapshot's GitHub metadata, in one line (every snapshot's is in --json). */
function metadataLine(v: ListRepoResult): string[] {
  const newest = v.snapshots.at(-1);
  return newest?.githubMetadata ? [`metadata (${newest.name}): ${describeMetadata(newest.githubMetadata)}`] : [];
}

export const listCommand: Command<ListRepoResult> = {
  name: OPERATIONS.list.name,
  summary: OPERATIONS.list.summary,
  usage: 'list [--repo R]...',
  execute: ({ engine }) => OPERATIONS.list.run(engine, {}),
  render: (result) =>
    renderOutcomes(
      result,
      (v) => [
        `${v.snapshots.length} snapshot(s)${v.warning ? `: ${v.warning}` : ''}`,
        ...metadataLine(v),
        ...[...v.snapshots]
          .reverse()
          .map((s) => `${s.name}  ${s.createdAt || '(metadata unreadable)'}  ${formatBytes(s.sizeBytes).padStart(9)}  ${describeHead(s.head)}${s.pinned ? `  [pinned: ${s.pinned.reason}]` : ''}`),
      ],
      (v) => (v.warning ? '⚠' : '✓'),
    ),
};
