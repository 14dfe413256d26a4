import type { Command } from './command.ts';
import { describeHead, renderOutcomes } from './render.ts';
import { formatBytes } from '../format.ts';
import type { ListRepoResult } from '../types.ts';

export const listCommand: Command<ListRepoResult> = {
  name: 'list',
  summary: 'list the snapshots of each repository with time, HEAD commit and size',
  usage: 'list [--repo R]...',
  execute: ({ engine }) => engine.list(),
  render: (result) =>
    renderOutcomes(
      result,
      (v) => [
        `${v.snapshots.length} snapshot(s)${v.warning ? `: ${v.warning}` : ''}`,
        ...[...v.snapshots].reverse().map((s) => `${s.name}  ${s.createdAt || '(metadata unreadable)'}  ${formatBytes(s.sizeBytes).padStart(9)}  ${describeHead(s.head)}`),
      ],
      (v) => (v.warning ? '⚠' : '✓'),
    ),
};
