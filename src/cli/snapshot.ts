import type { Command } from './command.ts';
import { OPERATIONS } from '../operations/index.ts';
import { describeHead, renderOutcomes } from './render.ts';
import { formatBytes } from '../format.ts';
import type { SnapshotRepoResult } from '../types.ts';
import { describeStorePush } from './store.ts';

export const snapshotCommand: Command<SnapshotRepoResult> = {
  name: OPERATIONS.snapshot.name,
  summary: OPERATIONS.snapshot.summary,
  usage: 'snapshot [--repo R]...',
  execute: ({ engine }) => OPERATIONS.snapshot.run(engine, {}),
  render: (result) =>
    renderOutcomes(result, (v) => [`${v.snapshot.name} (${v.snapshot.refCount} refs, ${formatBytes(v.snapshot.sizeBytes)})`, `HEAD ${describeHead(v.snapshot.head)}`, ...(v.pushed ? [describeStorePush(v.pushed)] : [])]),
};
