// "latest": the newest snapshot whose time can be trusted (docs/OPERATIONS.md "Time and clock skew"). Not the last
// name alone: a snapshot taken while the clock ran ahead, or one whose snapshot.json contradicts its name, would
// otherwise be handed out as the newest backup for as long as it exists.
import { join } from 'node:path';
import { readMetadata, type SnapshotMetadata } from '../metadata.ts';
import { isFutureDated, timeAgreesWithName } from '../snapshot-time.ts';
import type { RepoTarget } from '../types.ts';
import type { EngineContext } from './context.ts';
import { listSnapshotNames } from './snapshot.ts';

export interface SkippedSnapshot {
  name: string;
  why: string;
}

export interface Latest {
  /** The newest trusted snapshot, or undefined when there is none. */
  name: string | undefined;
  /** Its snapshot.json, read on the way (undefined with the name). */
  metadata?: SnapshotMetadata;
  /** Newer snapshots passed over, newest first, with the reason. */
  skipped: SkippedSnapshot[];
}

/** Walks back from the newest name; usually reads one snapshot.json. */
export async function findLatest(ctx: EngineContext, target: RepoTarget, names?: readonly string[]): Promise<Latest> {
  const all = names ?? (await listSnapshotNames(ctx, target));
  const now = ctx.clock();
  const skipped: SkippedSnapshot[] = [];
  for (let i = all.length - 1; i >= 0; i--) {
    const name = all[i]!;
    if (isFutureDated(name, now)) {
      skipped.push({ name, why: `named in the future (clock now ${now.toISOString()})` });
      continue;
    }
    let metadata: SnapshotMetadata;
    try {
      metadata = await readMetadata(join(ctx.layout.snapshotParent(target), name));
    } catch (error) {
      skipped.push({ name, why: `metadata unreadable (${(error as Error).message})` });
      continue;
    }
    if (!timeAgreesWithName(name, new Date(metadata.createdAt))) {
      skipped.push({ name, why: `its recorded createdAt ${metadata.createdAt} disagrees with the name` });
      continue;
    }
    return { name, metadata, skipped };
  }
  return { name: undefined, skipped };
}

export function describeSkipped(skipped: readonly SkippedSnapshot[]): string {
  return skipped.map((s) => `${s.name}: ${s.why}`).join('; ');
}
