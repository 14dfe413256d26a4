// status and health: what is backed up, how fresh, how much disk, and a verdict.
import { join } from 'node:path';
import { diskUsage, exists, walkFiles } from '../fsutil.ts';
import { headCommit, readRefs } from '../git/repo.ts';
import { countRefs, readMetadata } from '../metadata.ts';
import type { Health, ListRepoResult, RepoTarget, SnapshotSummary, StatusRepoResult } from '../types.ts';
import type { EngineContext } from './context.ts';
import { listSnapshotNames, summarize } from './snapshot.ts';
import { readRepoState, type RepoState } from './state.ts';

/** A daily backup that has not succeeded for this long is stale (a day plus slack for a slow run). */
export const HEALTHY_WITHIN_MS = 26 * 3600 * 1000;

/** Pure verdict from what is recorded. */
export function healthOf(initialized: boolean, state: RepoState | null, now: Date): { health: Health; reason: string } {
  if (!initialized) return { health: 'uninitialized', reason: 'no mirror yet: run init or sync' };
  const last = state?.lastSync;
  if (!last) return { health: 'stale', reason: 'never synced by this tool' };
  if (!last.ok) return { health: 'failing', reason: `last sync at ${last.at} failed: ${last.error ?? 'unknown error'}` };
  const age = now.getTime() - new Date(state.lastSuccess ?? last.at).getTime();
  if (age > HEALTHY_WITHIN_MS) return { health: 'stale', reason: `last successful sync ${Math.round(age / 3600000)} h ago (more than 26 h)` };
  return { health: 'healthy', reason: `last sync ${last.at} succeeded` };
}

export async function listRepo(ctx: EngineContext, target: RepoTarget): Promise<ListRepoResult> {
  const parent = ctx.layout.snapshotParent(target);
  const snapshots: SnapshotSummary[] = [];
  for (const name of await listSnapshotNames(ctx, target)) {
    const dir = join(parent, name);
    try {
      snapshots.push(summarize(dir, await readMetadata(dir)));
    } catch {
      snapshots.push({ name, path: dir, createdAt: '', head: null, refCount: 0, sizeBytes: 0 });
    }
  }
  return { repo: target.id, snapshots };
}

export async function statusRepo(ctx: EngineContext, target: RepoTarget): Promise<StatusRepoResult> {
  const mirror = ctx.layout.mirror(target);
  const initialized = await exists(mirror);
  const state = await readRepoState(ctx, target);
  const names = await listSnapshotNames(ctx, target);
  const refs = initialized ? await readRefs(ctx.git, mirror) : {};
  const counts = countRefs(refs);
  // Walk mirror and snapshots once, counting every inode once: that is what hard links save.
  const seen = new Set<string>();
  let disk = 0;
  let apparent = 0;
  for (const dir of [...(initialized ? [mirror] : []), ...names.map((n) => join(ctx.layout.snapshotParent(target), n))]) {
    const usage = diskUsage(await walkFiles(dir), seen);
    disk += usage.disk;
    apparent += usage.apparent;
  }
  const verdict = healthOf(initialized, state, ctx.clock());
  return {
    repo: target.id,
    initialized,
    lastSync: state?.lastSync ? { at: state.lastSync.at, ok: state.lastSync.ok, ...(state.lastSync.error ? { error: state.lastSync.error } : {}) } : null,
    head: initialized ? await headCommit(ctx.git, mirror) : null,
    branches: counts.branches,
    tags: counts.tags,
    snapshotCount: names.length,
    newestSnapshot: names.at(-1) ?? null,
    oldestSnapshot: names[0] ?? null,
    diskUsedBytes: disk,
    apparentBytes: apparent,
    health: verdict.health,
    healthReason: verdict.reason,
  };
}
