// Many processes may read a snapshot at once (verify, restore, export); prune must never remove one being read.
// Each reader registers its own lock file; a short gate lock makes "register a reader" and "check for readers,
// then remove" exclusive, so a snapshot is never removed under a reader that got in first, and a reader that
// comes after a removal finds the snapshot gone and says so.
import { randomBytes } from 'node:crypto';
import { readdir, rmdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { BackupError, LockHeldError } from '../errors.ts';
import { exists } from '../fsutil.ts';
import { acquireLock, withLock, type Lock } from '../lock.ts';
import type { RepoTarget } from '../types.ts';
import type { EngineContext } from './context.ts';

const GATE_WAIT_MS = 10_000;
const UNWRITABLE = new Set(['EROFS', 'ENOSPC', 'EACCES', 'EPERM', 'EDQUOT']);

/** Run `fn` registered as a reader of the snapshot; prune leaves it alone until `fn` ends. */
export async function whileReading<T>(ctx: EngineContext, target: RepoTarget, name: string, command: string, fn: () => Promise<T>): Promise<T> {
  const what = `${command} ${target.id} ${name}`;
  const options = { command: what, logger: ctx.logger, clock: ctx.clock };
  let mine: Lock | undefined;
  try {
    await withLock(ctx.layout.snapshotGate(target, name), { ...options, waitMs: GATE_WAIT_MS }, async () => {
      if (!(await exists(join(ctx.layout.snapshotParent(target), name)))) {
        throw new BackupError(`${target.id} has no snapshot ${name} (it was just pruned?)`);
      }
      const file = join(ctx.layout.snapshotReaders(target, name), `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}.lock`);
      mine = await acquireLock(file, options);
    });
  } catch (error) {
    // A backup root mounted read-only (restoring from old media) or a full disk must still be readable: read
    // without registering. Prune cannot run there either, since it needs the same locks.
    const code = (error as NodeJS.ErrnoException).code;
    if (!code || !UNWRITABLE.has(code)) throw error;
    ctx.logger.log('warn', `reading ${target.id} ${name} without registering as a reader: ${code}`);
    return fn();
  }
  try {
    return await fn();
  } finally {
    await mine!.release();
    // The last reader out removes the empty registration directory (under the gate: nobody is registering).
    await withLock(ctx.layout.snapshotGate(target, name), { ...options, waitMs: GATE_WAIT_MS }, () =>
      rmdir(ctx.layout.snapshotReaders(target, name)).catch(() => undefined),
    ).catch(() => undefined);
  }
}

/** Live readers of the snapshot; registrations left by dead processes are cleared on the way. */
async function liveReaders(ctx: EngineContext, dir: string): Promise<number> {
  let live = 0;
  for (const file of await readdir(dir).catch(() => [] as string[])) {
    if (!file.endsWith('.lock')) continue;
    try {
      // Succeeds only for a stale registration (its process is gone): take it and drop it.
      await (await acquireLock(join(dir, file), { command: 'prune (reader check)', logger: ctx.logger, clock: ctx.clock })).release();
    } catch (error) {
      if (!(error instanceof LockHeldError)) throw error;
      live++;
    }
  }
  return live;
}

/**
 * Run `remove` only if nobody reads the snapshot, holding the gate so no reader can register meanwhile.
 * Returns false (and runs nothing) when it is being read.
 */
export async function whenUnread(ctx: EngineContext, target: RepoTarget, name: string, remove: () => Promise<void>): Promise<boolean> {
  try {
    return await withLock(ctx.layout.snapshotGate(target, name), { command: `prune ${target.id} ${name}`, logger: ctx.logger, clock: ctx.clock }, async () => {
      const dir = ctx.layout.snapshotReaders(target, name);
      if ((await liveReaders(ctx, dir)) > 0) return false;
      await remove();
      await rmdir(dir).catch(() => undefined);
      return true;
    });
  } catch (error) {
    if (error instanceof LockHeldError) return false; // a reader is registering right now
    throw error;
  }
}
