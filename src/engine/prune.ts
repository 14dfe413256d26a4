// Retention by the time recorded in snapshot.json (invariant 5). Removal is rename-then-delete: a snapshot is
// either whole or invisible, never half deleted.
import { randomBytes } from 'node:crypto';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { LockHeldError } from '../errors.ts';
import { removeTree } from '../fsutil.ts';
import { acquireLock } from '../lock.ts';
import { readMetadata } from '../metadata.ts';
import { planRetention, type RetainedSnapshot } from '../retention.ts';
import type { PruneDecision, PruneRepoResult, RepoTarget } from '../types.ts';
import type { PruneOptions } from './api.ts';
import type { EngineContext } from './context.ts';
import { listSnapshotNames } from './snapshot.ts';

export async function pruneRepo(ctx: EngineContext, target: RepoTarget, options: PruneOptions = {}): Promise<PruneRepoResult> {
  const parent = ctx.layout.snapshotParent(target);
  const dated: RetainedSnapshot[] = [];
  const unreadable: PruneDecision[] = [];
  for (const name of await listSnapshotNames(ctx, target)) {
    try {
      dated.push({ name, createdAt: new Date((await readMetadata(join(parent, name))).createdAt) });
    } catch (error) {
      // A snapshot we cannot read is reported by verify, never silently deleted.
      unreadable.push({ name, createdAt: '', keep: true, reason: `kept: metadata unreadable (${(error as Error).message})` });
    }
  }
  const decisions = planRetention(dated, {
    retentionDays: options.retentionDays ?? ctx.settings.retentionDays,
    keepMin: options.keepMin ?? ctx.settings.keepMin,
    now: ctx.clock(),
  });
  const removed: string[] = [];
  for (const decision of decisions) {
    if (decision.keep || options.dryRun) continue;
    try {
      // Holding the reader lock proves nobody is reading it, and keeps new readers out while it goes.
      const lock = await acquireLock(ctx.layout.snapshotReadLock(target, decision.name), { command: 'prune', logger: ctx.logger, clock: ctx.clock });
      try {
        const doomed = join(parent, `.tmp-deleting-${decision.name}-${randomBytes(4).toString('hex')}`);
        await rename(join(parent, decision.name), doomed);
        await removeTree(doomed);
      } finally {
        await lock.release();
      }
      removed.push(decision.name);
      ctx.logger.log('info', `pruned ${target.id} ${decision.name}`, { reason: decision.reason });
    } catch (error) {
      if (!(error instanceof LockHeldError)) throw error;
      decision.keep = true;
      decision.reason = 'in use: being read by another process';
    }
  }
  return { repo: target.id, dryRun: Boolean(options.dryRun), decisions: [...decisions, ...unreadable], removed };
}
