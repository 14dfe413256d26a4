import type { Command } from './command.ts';
import { describeHead, renderOutcomes } from './render.ts';
import { formatBytes } from '../format.ts';
import type { SnapshotRepoResult } from '../types.ts';
import { describeStorePush } from './store.ts';

export const snapshotCommand: Command<SnapshotRepoResult> = {
  name: 'snapshot',
  summary: 'take a snapshot of each mirror now, whether or not anything changed',
  usage: 'snapshot [--repo R]...',
  execute: ({ engine }) => engine.snapshot(),
  render: (result) =>
    renderOutcomes(result, (v) => [`${v.snapshot.name} (${v.snapshot.refCount} refs, ${formatBytes(v.snapshot.sizeBytes)})`, `HEAD ${describeHead(v.snapshot.head)}`, ...(v.pushed ? [describeStorePush(v.pushed)] : [])]),
};
