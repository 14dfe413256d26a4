// Retention by the time in each snapshot's name, checked against snapshot.json (docs/OPERATIONS.md "Retention"). Removal is rename-then-delete: a snapshot is
// either whole or invisible, never half deleted.
import { randomBytes } from 'node:crypto';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { removeTree } from '../fsutil.ts';
import { readMetadata } from '../metadata.ts';
import { planRetention, retentionWarnings, type RetainedSnapshot, type RetentionPolicy } from '../retention.ts';
import type { PruneDecision, PruneRepoResult, RepoTarget } from '../types.ts';
import type { PruneOptions } from './api.ts';
import type { EngineContext } from './context.ts';
import { whenUnread } from './readers.ts';
import { listSnapshotNames } from './snapshot.ts';
import { readPins } from './pins.ts';

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
  const policy: RetentionPolicy = {
    retentionDays: options.retentionDays ?? ctx.settings.retentionDays,
    keepMin: options.keepMin ?? ctx.settings.keepMin,
    now: ctx.clock(),
    pinned: new Map([...(await readPins(ctx, target))].map(([name, pin]) => [name, pin.reason])),
  };
  const decisions = planRetention(dated, policy);
  const warnings = retentionWarnings(dated, policy);
  for (const warning of warnings) ctx.logger.log('warn', `prune ${target.id}: ${warning}`);
  const removed: string[] = [];
  for (const decision of decisions) {
    if (decision.keep || options.dryRun) continue;
    const doomed = join(parent, `.tmp-deleting-${decision.name}-${randomBytes(4).toString('hex')}`);
    // Renamed away under the gate (invisible at once), deleted after it: readers never wait for a deletion.
    if (await whenUnread(ctx, target, decision.name, () => rename(join(parent, decision.name), doomed))) {
      await removeTree(doomed);
      removed.push(decision.name);
      ctx.logger.log('info', `pruned ${target.id} ${decision.name}`, { reason: decision.reason });
    } else {
      decision.keep = true;
      decision.reason = 'in use: being read by another process';
    }
  }
  return { repo: target.id, dryRun: Boolean(options.dryRun), decisions: [...decisions, ...unreadable], removed, warnings };
}
