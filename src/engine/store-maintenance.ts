// The engine's side of `store verify` and `store prune` (docs/STORE_FORMAT.md "Verify" and "Prune"): the checks and
// the policy are the store format's (src/store/store-verify.ts, store-prune.ts); here they meet the settings.
import { BackupError } from '../errors.ts';
import { resolveStorePolicy } from '../store/policy.ts';
import { pruneStore } from '../store/store-prune.ts';
import { verifyStore } from '../store/store-verify.ts';
import type { RepoTarget, StorePruneRunResult, StoreVerifyRepoResult } from '../types.ts';
import type { StorePruneOptions, StoreVerifyOptions } from './api.ts';
import type { EngineContext } from './context.ts';
import type { StoreRun } from './store-sync.ts';

/** Every manifest of `target` in the store has its objects, with the right sizes; with readData, their contents too. */
export async function storeVerifyRepo(ctx: EngineContext, run: StoreRun, target: RepoTarget, options: StoreVerifyOptions): Promise<StoreVerifyRepoResult> {
  const readData = options.readData ? 1 : options.readDataSubsetPercent !== undefined ? options.readDataSubsetPercent / 100 : 0;
  const readFrom = run.canReadBodies ? 'manifests' : 'object indexes';
  const result = await verifyStore(run.store, { repository: target.id, readData, readFrom, git: ctx.git, signal: ctx.signal });
  const value: StoreVerifyRepoResult = { repo: target.id, store: run.store.location, ...result };
  if (!result.ok) {
    const shown = result.problems.slice(0, 5).map((p) => [p.snapshot, p.path ?? p.key, p.problem].filter(Boolean).join(' ')).join('; ');
    throw new BackupError(`${run.store.location}: ${result.problems.length} problem(s): ${shown}`, undefined, { details: value });
  }
  return value;
}

/**
 * Retention (restic-style store.retention, else the local policy) over `selected` repositories, or the whole store
 * when null, then the objects no remaining manifest of any repository references.
 */
export async function storePruneAll(ctx: EngineContext, run: StoreRun, options: StorePruneOptions, selected: readonly string[] | null): Promise<StorePruneRunResult> {
  // pruneStore takes "now" from the clock again, the moment it decides.
  const policy = resolveStorePolicy(ctx.settings.store?.retention, ctx.settings, ctx.clock());
  const result = await pruneStore(run.store, {
    policy,
    clock: ctx.clock,
    dryRun: Boolean(options.dryRun),
    objectLock: ctx.settings.store?.objectLock,
    logger: ctx.logger,
    readFrom: run.canReadBodies ? 'manifests' : 'object indexes',
    ...(selected ? { repositories: selected } : {}),
  });
  const value: StorePruneRunResult = { repo: run.store.location, store: run.store.location, ...result };
  if (result.problems.length) throw new BackupError(`${run.store.location}: ${result.problems.join('; ')}`, undefined, { details: value });
  return value;
}
