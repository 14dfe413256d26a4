// The engine's side of `backup-manager store ...` (docs/STORE_FORMAT.md): which store, which repositories, and the
// per-repository work. createEngine runs these across repositories like every other command.
import { UsageError } from '../errors.ts';
import { byRepository, listStoredSnapshots } from '../store/catalog.ts';
import { ensureStoreFormat } from '../store/format.ts';
import type { RepoTarget, StoreListRepoResult, StorePushRepoResult } from '../types.ts';
import type { EngineContext } from './context.ts';
import { pushRepoSnapshots, withStoreRun, type StoreRun } from './store-sync.ts';
import { repoLocked } from './sync.ts';

/** `withStoreRun` for a command that needs a store. */
export function withRequiredStore<T>(ctx: EngineContext, command: string, fn: (run: StoreRun) => Promise<T>): Promise<T> {
  return withStoreRun(ctx, (run) => {
    if (!run) throw new UsageError(`${command}: no store is configured: add a "store:" section to the config (docs/STORE_FORMAT.md)`);
    return fn(run);
  });
}

/** Under the repository's writer lock, so retention cannot remove a snapshot while it is uploaded. */
export function storePushRepo(ctx: EngineContext, run: StoreRun, target: RepoTarget): Promise<StorePushRepoResult> {
  return repoLocked(ctx, target, 'store push', async () => ({ repo: target.id, ...(await pushRepoSnapshots(ctx, run, target)) }));
}

/** Every repository the store holds (for `store list` without a configured list): one listing. */
export async function storedTargets(run: StoreRun): Promise<RepoTarget[]> {
  await ensureStoreFormat(run.store, { create: false });
  return [...byRepository(await listStoredSnapshots(run.store)).keys()].map((id) => {
    const [owner, name] = id.split('/') as [string, string];
    return { owner, name, id, url: '' };
  });
}

export async function storeListRepo(run: StoreRun, target: RepoTarget): Promise<StoreListRepoResult> {
  const snapshots = await listStoredSnapshots(run.store, target.id);
  return {
    repo: target.id,
    store: run.store.location,
    snapshots: snapshots.map((s) => ({ name: s.snapshot, createdAt: s.createdAt.toISOString(), storedSize: s.storedSize })),
  };
}
