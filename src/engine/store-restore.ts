// restore --from-store: the snapshot is pulled from the off-site store into a scratch directory (every file checked
// against the manifest on the way in), then restored by restore's own build, check and swap path (in place, --to or
// --push), so a machine that has nothing can get a repository back (docs/RESTORE_RUNBOOK.md, docs/STORE_FORMAT.md).
// A dry run reads the manifest only, and says what would be downloaded.
import { join, resolve } from 'node:path';
import { removeTree } from '../fsutil.ts';
import { METADATA_FILE } from '../snapshot-files.ts';
import { readManifest, resolveStoredSnapshot } from '../store/catalog.ts';
import { manifestMetadata, storedFiles } from '../store/manifest.ts';
import { pullSnapshot } from '../store/pull.ts';
import type { RepoTarget, RestoreRepoResult } from '../types.ts';
import type { RestoreOptions } from './api.ts';
import type { EngineContext } from './context.ts';
import { assertSafeTarget, checkedSource, restoreFromSource } from './restore.ts';
import type { StoreRun } from './store-sync.ts';
import { hardLinksBeside, removeDeadScratch, scratchPath } from './scratch.ts';
import { snapshotRef } from '../snapshot-ref.ts';
import { reportPhase } from './progress.ts';

export async function restoreFromStore(ctx: EngineContext, run: StoreRun, target: RepoTarget, options: RestoreOptions): Promise<RestoreRepoResult> {
  const stored = await resolveStoredSnapshot(run.store, target.id, options.snapshot ?? 'latest', ctx.clock());
  const manifest = await readManifest(run.store, target.id, stored.snapshot);
  if (options.dryRun) {
    const files = storedFiles(manifest);
    const metadata = manifestMetadata(manifest);
    const ref = snapshotRef(target.id, manifest.name, run.store.location, metadata.createdAt);
    const result = await restoreFromSource(ctx, target, { dir: null, metadata, ref }, options);
    return { ...result, fromStore: run.store.location, download: { objects: new Set(files.map((f) => f.key)).size, bytes: manifest.totals.storedBytes } };
  }
  if (options.to) assertSafeTarget(ctx, options.to);
  // Under the root, beside the mirrors: the in-place restore hard-links the pulled object files into the new
  // mirror. What a killed restore left is removed first; ours is named for this run (src/engine/scratch.ts).
  await removeDeadScratch(ctx);
  const scratch = await scratchPath(ctx, 'store');
  try {
    reportPhase(ctx, target, 'pulling from store', manifest.name);
    await pullSnapshot(run.store, manifest, scratch, { layout: 'snapshot', signal: ctx.signal, git: ctx.git });
    // The pull checked every file against the manifest, whose snapshot.json records the same checksums; what follows
    // is the check of any restore (docs/RESTORE_RUNBOOK.md "How a restore is checked"): the structure, then on what
    // is built every file's sha256, git fsck (connectivity unless --verify full) and the refs. No whole fsck by
    // default, as for a local snapshot: it re-hashes every object, most of the time of a large restore.
    const { source } = await checkedSource(ctx, scratch, `restore ${target.id} ${manifest.name} from ${run.store.location}`, (metadata) =>
      snapshotRef(target.id, metadata.name, run.store.location, metadata.createdAt),
    );
    // The pulled files are ours and go with the scratch: a copy to a directory on the root's file system takes them
    // by hard link instead of copying every byte once more (docs/BENCHMARKS.md "Restore from the store").
    const ownScratch = Boolean(options.to && !options.push) && (await hardLinksBeside(join(scratch, METADATA_FILE), resolve(options.to!)));
    const result = await restoreFromSource(ctx, target, { ...source, ownScratch }, options);
    ctx.logger.log('info', `restored ${target.id} ${source.metadata.name} from ${run.store.location}`, { mode: result.mode });
    return { ...result, fromStore: run.store.location };
  } finally {
    await removeTree(scratch).catch(() => undefined);
  }
}
