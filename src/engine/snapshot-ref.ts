// The reference (src/snapshot-ref.ts) to a snapshot under the root, with its pin.
import { join } from 'node:path';
import { snapshotRef, type SnapshotRef } from '../snapshot-ref.ts';
import type { RepoTarget } from '../types.ts';
import type { EngineContext } from './context.ts';
import { readPins, type Pins } from './pins.ts';

/**
 * For the results of commands that only read the snapshot (verify, export, restore): a pins file that cannot be
 * read leaves `pinned` out rather than failing them; list, status and prune report it (docs/OPERATIONS.md).
 */
export async function localSnapshotRef(ctx: EngineContext, target: RepoTarget, name: string, createdAt: string): Promise<SnapshotRef> {
  const pins: Pins = await readPins(ctx, target).catch(() => new Map());
  return snapshotRef(target.id, name, join(ctx.layout.snapshotParent(target), name), createdAt, pins.get(name));
}
