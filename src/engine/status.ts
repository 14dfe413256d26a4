// status and health: what is backed up, how fresh, how much disk, and a verdict.
import { join } from 'node:path';
import { exists } from '../fsutil.ts';
import { readMetadata } from '../metadata.ts';
import { healthOf } from '../health.ts';
import { isFutureDated, newestTrusted } from '../snapshot-time.ts';
import type { ListRepoResult, RepoTarget, SnapshotSummary, StatusRepoResult } from '../types.ts';
import type { EngineContext } from './context.ts';
import { currentSummary } from './repo-summary.ts';
import { listSnapshotNames, summarize } from './snapshot.ts';
import { readRepoState } from './state.ts';
import { readPins } from './pins.ts';
import { snapshotRef } from '../snapshot-ref.ts';
import { wikiParentOf } from '../wiki.ts';

/** Nothing under the root for this repository: say so rather than list nothing (a typo in --repo, a wrong --root). */
async function nothingBackedUp(ctx: EngineContext, target: RepoTarget): Promise<string | undefined> {
  if (!(await exists(ctx.layout.root))) return `the backup root ${ctx.layout.root} does not exist`;
  if (await exists(ctx.layout.mirror(target))) return undefined;
  if (await exists(ctx.layout.snapshotParent(target))) return undefined;
  return `nothing of ${target.id} is backed up under ${ctx.layout.root} (no mirror, no snapshots)`;
}

export async function listRepo(ctx: EngineContext, target: RepoTarget): Promise<ListRepoResult> {
  const parent = ctx.layout.snapshotParent(target);
  const snapshots: SnapshotSummary[] = [];
  const pins = await readPins(ctx, target);
  for (const name of await listSnapshotNames(ctx, target)) {
    const dir = join(parent, name);
    const pin = pins.get(name);
    try {
      snapshots.push(summarize(target.id, dir, await readMetadata(dir), pin));
    } catch {
      snapshots.push({ ...snapshotRef(target.id, name, dir, '', pin), head: null, refCount: 0, sizeBytes: 0 });
    }
  }
  const warning = snapshots.length ? undefined : await nothingBackedUp(ctx, target);
  if (warning) ctx.logger.log('warn', `list ${target.id}: ${warning}`);
  return { repo: target.id, snapshots, ...(warning ? { warning } : {}) };
}

export async function statusRepo(ctx: EngineContext, target: RepoTarget): Promise<StatusRepoResult> {
  const state = await readRepoState(ctx, target);
  const summary = await currentSummary(ctx, target);
  const initialized = summary.fingerprint.mirror !== null;
  const names = summary.fingerprint.snapshots;
  const now = ctx.clock();
  const newest = newestTrusted(names, now) ?? null;
  const verdict = healthOf({ initialized, state, newestSnapshot: newest, futureSnapshots: names.filter((n) => isFutureDated(n, now)), now });
  const missing = initialized || state?.lastSync?.absent ? undefined : await nothingBackedUp(ctx, target);
  const wikiOf = wikiParentOf(target, ctx.serverUrl);
  const warnings = [...(missing ? [missing] : []), ...verdict.warnings];
  const pins = await readPins(ctx, target);
  return {
    repo: target.id,
    initialized,
    lastSync: state?.lastSync ? { at: state.lastSync.at, ok: state.lastSync.ok, ...(state.lastSync.error ? { error: state.lastSync.error } : {}) } : null,
    head: summary.head,
    branches: summary.branches,
    tags: summary.tags,
    snapshotCount: names.length,
    newestSnapshot: newest,
    oldestSnapshot: names[0] ?? null,
    diskUsedBytes: summary.diskUsedBytes,
    apparentBytes: summary.apparentBytes,
    health: verdict.health,
    healthReason: verdict.reason,
    lastSuccess: verdict.lastSuccess,
    lastSuccessAgeSeconds: verdict.lastSuccessAgeSeconds,
    newestSnapshotAgeSeconds: verdict.newestSnapshotAgeSeconds,
    warnings,
    pinned: names.filter((n) => pins.has(n)).map((name) => ({ name, reason: pins.get(name)!.reason })),
    ...(summary.githubMetadata ? { githubMetadata: summary.githubMetadata } : {}),
    ...(wikiOf ? { wikiOf } : {}),
    ...(summary.lfs ? { lfs: summary.lfs } : {}),
  };
}
