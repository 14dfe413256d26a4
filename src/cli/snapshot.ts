import type { Command } from './command.ts';
import { OPERATIONS, parseInput } from '../operations/index.ts';
import { describeHead, renderOutcomes } from './render.ts';
import { formatBytes } from '../format.ts';
import type { SnapshotRepoResult } from '../types.ts';
import { describeStorePush } from './store.ts';

export const snapshotCommand: Command<SnapshotRepoResult> = {
  name: OPERATIONS.snapshot.name,
  summary: OPERATIONS.snapshot.summary,
  usage: 'snapshot [--repo R]... [--pin --reason TEXT]',
  help: `  --pin              keep this snapshot out of retention until "unpin" (a backup before a risky change)
  --reason TEXT      why it is pinned (required with --pin; shown by list and status)`,
  options: { pin: { type: 'boolean' }, reason: { type: 'string' } },
  execute: ({ engine, values }) => OPERATIONS.snapshot.run(engine, parseInput(OPERATIONS.snapshot, { pin: values.pin as boolean | undefined, reason: values.reason })),
  render: (result) =>
    renderOutcomes(result, (v) => [
      `${v.snapshot.name} (${v.snapshot.refCount} refs, ${formatBytes(v.snapshot.sizeBytes)})`,
      `HEAD ${describeHead(v.snapshot.head)}`,
      ...(v.snapshot.pinned ? [`pinned: ${v.snapshot.pinned.reason} (kept until "unpin ${v.snapshot.name}")`] : []),
      ...(v.pushed ? [describeStorePush(v.pushed)] : []),
    ]),
};
