// What an in-place restore replaces becomes a pinned snapshot (docs/OPERATIONS.md "Pinned snapshots"): listed,
// verifiable, kept out of retention until unpinned, instead of a directory beside the mirror that nothing lists or
// ever removes. Invariant 7 (docs/ARCHITECTURE.md): if that fails, the moved-aside mirror stays where it is.
import { errorMessage } from '../errors.ts';
import { removeTree } from '../fsutil.ts';
import type { RepoTarget } from '../types.ts';
import type { EngineContext } from './context.ts';
import { pinSnapshot } from './pins.ts';
import { takeSnapshot } from './snapshot.ts';

export const replacedReason = (restored: string) => `replaced by restore of ${restored}`;

export interface KeptMirror {
  /** Where the replaced mirror is now: the pinned snapshot's directory, or the moved-aside mirror if that failed. */
  path: string;
  /** The pinned snapshot it became (absent: it could not be made one and stays at `path`). */
  snapshot?: string;
  reason?: string;
}

/** Call under the repository lock, with `moved` the mirror the swap moved aside and `restored` the snapshot it restored. */
export async function pinReplacedMirror(ctx: EngineContext, target: RepoTarget, moved: string, restored: string): Promise<KeptMirror> {
  const reason = replacedReason(restored);
  try {
    const taken = await takeSnapshot(ctx, target, undefined, moved);
    await pinSnapshot(ctx, target, taken.name, reason);
    // Its object files are hard-linked into the snapshot: removing the moved-aside copy loses nothing.
    await removeTree(moved);
    ctx.logger.log('info', `${target.id}: the replaced mirror is kept as pinned snapshot ${taken.name}`, { reason });
    return { path: taken.path, snapshot: taken.name, reason };
  } catch (error) {
    ctx.logger.log('warn', `${target.id}: the replaced mirror could not be kept as a snapshot (${errorMessage(error)}); it stays at ${moved}`);
    return { path: moved };
  }
}
