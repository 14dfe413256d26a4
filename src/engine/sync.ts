// init, sync and snapshot for one repository, each under the repository's writer lock.
import { join } from 'node:path';
import { readRefs } from '../git/repo.ts';
import { AbortedError, errorMessage, LockHeldError } from '../errors.ts';
import { withLock } from '../lock.ts';
import { readMetadata } from '../metadata.ts';
import { changeCount, sameRefs } from '../refs.ts';
import type { InitRepoResult, RepoTarget, SnapshotRepoResult, SyncRepoResult } from '../types.ts';
import type { SyncOptions } from './api.ts';
import { throwIfAborted, type EngineContext } from './context.ts';
import { fetchMirror, initMirror } from './mirror.ts';
import { pruneRepo } from './prune.ts';
import { recoverRepository } from './recover.ts';
import { listSnapshotNames, takeSnapshot } from './snapshot.ts';
import { recordSync } from './state.ts';

/** Run a writer of the repository holding its lock, after clearing what an interrupted run left (recover.ts). */
export async function repoLocked<T>(ctx: EngineContext, target: RepoTarget, command: string, fn: () => Promise<T>): Promise<T> {
  const waitMs = Number(process.env.BACKUP_LOCK_WAIT_MS ?? 0);
  throwIfAborted(ctx);
  return withLock(ctx.layout.repoLock(target), { command: `${command} ${target.id}`, waitMs, logger: ctx.logger, clock: ctx.clock }, async () => {
    await recoverRepository(ctx, target);
    return fn();
  });
}

export async function initRepo(ctx: EngineContext, target: RepoTarget): Promise<InitRepoResult> {
  return repoLocked(ctx, target, 'init', async () => {
    const { created, dir, fetch } = await initMirror(ctx, target);
    const refCount = Object.keys(fetch?.refs ?? (await readRefs(ctx.git, dir))).length;
    ctx.logger.log('info', created ? `initialized ${target.id}` : `${target.id} already initialized, nothing to do`, { refs: refCount });
    return { repo: target.id, created, mirror: dir, refCount };
  });
}

export async function syncRepo(ctx: EngineContext, target: RepoTarget, options: SyncOptions = {}): Promise<SyncRepoResult> {
  try {
    return await repoLocked(ctx, target, 'sync', async () => {
      ctx.logger.log('info', `sync ${target.id} started`, { source: target.url });
      const init = await initMirror(ctx, target);
      const fetched = init.fetch ?? (await fetchMirror(ctx, target, init.dir, Boolean(options.allowRefLoss)));
      const { changes } = fetched;
      const names = await listSnapshotNames(ctx, target);
      const newest = names.at(-1);
      let differsFromNewest = true;
      if (newest) {
        try {
          differsFromNewest = !sameRefs((await readMetadata(join(ctx.layout.snapshotParent(target), newest))).refs, fetched.refs);
        } catch {
          differsFromNewest = true; // an unreadable newest snapshot is no baseline: take a fresh one
        }
      }
      const snapshot = differsFromNewest || options.forceSnapshot ? await takeSnapshot(ctx, target) : null;
      const pruned = options.noPrune ? [] : (await pruneRepo(ctx, target)).removed;
      const snapshotCount = (await listSnapshotNames(ctx, target)).length;
      await recordSync(ctx, target, { ok: true, changed: changeCount(changes), snapshot: snapshot?.name ?? newest ?? null });
      ctx.logger.log('info', `sync ${target.id} finished`, {
        added: changes.added.length,
        updated: changes.updated.length,
        forceUpdated: changes.forceUpdated.length,
        deleted: changes.deleted.length,
        snapshot: snapshot?.name ?? null,
        pruned: pruned.length,
      });
      return { repo: target.id, changes, changed: changeCount(changes) > 0, snapshot, pruned, snapshotCount };
    });
  } catch (error) {
    // Another run holding the lock, or a stop on request (a container restart), is not this repository failing:
    // leave its recorded state, and so its health, alone.
    if (error instanceof AbortedError) ctx.logger.log('warn', `sync ${target.id} stopped on request`);
    else if (!(error instanceof LockHeldError)) {
      ctx.logger.log('error', `sync ${target.id} failed: ${errorMessage(error)}`);
      await recordSync(ctx, target, { ok: false, error: errorMessage(error) }).catch(() => undefined);
    }
    throw error;
  }
}

export async function snapshotRepo(ctx: EngineContext, target: RepoTarget): Promise<SnapshotRepoResult> {
  return repoLocked(ctx, target, 'snapshot', async () => ({ repo: target.id, snapshot: await takeSnapshot(ctx, target) }));
}
