// Scratch directories of restores from the store or from an archive (docs/OPERATIONS.md "Stopping and crashes"):
// the pulled or extracted snapshot, checked there before restore builds from it. They live in the root's
// immutable/ (the same file system as the mirrors, so an in-place restore can hard-link from them), and their
// names carry the run that made them, so the next run removes those of dead runs and never one still in use.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { removeTree } from '../fsutil.ts';
import { runAlive, runMarker } from '../process-tree.ts';
import type { EngineContext } from './context.ts';

export type ScratchKind = 'store' | 'archive';

// .tmp-<kind>-<pid>.<start time>-<8 hex>: the run marker (src/process-tree.ts) with its ":" written as "."; and the
// extraction's own temporary beside it (`<scratch>.tmp-<hex>`, src/archive.ts), renamed to the scratch when whole.
const SCRATCH = /^\.tmp-(store|archive)-(\d+)\.(\d+|x)-[0-9a-f]{8}(\.tmp-[0-9a-f]+)?$/;

/** A new scratch path for this run (not created: pull and extraction create it themselves). */
export async function scratchPath(ctx: EngineContext, kind: ScratchKind): Promise<string> {
  await mkdir(ctx.layout.immutableDir, { recursive: true });
  const [pid, start] = runMarker().split(':') as [string, string];
  return join(ctx.layout.immutableDir, `.tmp-${kind}-${pid}.${start === '?' ? 'x' : start}-${randomBytes(4).toString('hex')}`);
}

/** Remove the scratch directories runs that are gone left behind (a kill -9, a power cut). Returns their names. */
export async function removeDeadScratch(ctx: EngineContext): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(ctx.layout.immutableDir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = SCRATCH.exec(name);
    if (!m || runAlive(`${m[2]}:${m[3] === 'x' ? '?' : m[3]}`)) continue;
    await removeTree(join(ctx.layout.immutableDir, name));
    ctx.logger.log('warn', `removed ${join(ctx.layout.immutableDir, name)}, the scratch directory of an interrupted restore`);
    removed.push(name);
  }
  return removed;
}
