// A root hydrated from the store (store-sync.ts) also gets its live GitHub metadata back from the hydrated snapshot
// (docs/METADATA_FORMAT.md "In a snapshot"): the metadata repository, so the next capture commits on top of the
// history so far instead of starting a new one, and the release assets, so they are not downloaded again. The capture
// state (ETags, since marks) is not in any snapshot: the first capture after a hydrate is a full one.
import { randomBytes } from 'node:crypto';
import { mkdir, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BackupError } from '../errors.ts';
import { exists, removeTree } from '../fsutil.ts';
import { renderConfig, snapshotConfig } from '../git/config-template.ts';
import { SNAPSHOT_METADATA_ASSETS, SNAPSHOT_METADATA_REPO } from '../github-metadata/format.ts';
import { metadataHead } from '../github-metadata/read-commit.ts';
import type { SnapshotMetadata } from '../metadata.ts';
import type { RepoTarget } from '../types.ts';
import type { EngineContext } from './context.ts';
import { hardLink, materialize } from './materialize.ts';

const ASSET_PREFIX = `${SNAPSHOT_METADATA_ASSETS}/`;
const TMP_PREFIX = '.tmp-hydrate-';

/** What a killed hydrate of `target`'s metadata left beside the live metadata repository (recover.ts removes it). */
export function hydrateLeftoverOf(target: RepoTarget): (name: string) => boolean {
  return (name) => name.startsWith(`${TMP_PREFIX}${target.name}-`) && /^[0-9a-f]{8}$/.test(name.slice(TMP_PREFIX.length + target.name.length + 1));
}

/**
 * Lay the snapshot's metadata down as the live one, when the snapshot carries metadata and the root has no live
 * metadata repository. Object files and assets are hard-linked (written once, never changed in place). Returns
 * whether it did. Caller holds the repository lock.
 */
export async function hydrateMetadata(ctx: EngineContext, target: RepoTarget, snapshotDir: string, metadata: SnapshotMetadata): Promise<boolean> {
  const recorded = metadata.githubMetadata;
  const live = ctx.layout.metadataRepo(target);
  if (!recorded || (await exists(live))) return false;

  const assets = ctx.layout.metadataAssets(target);
  for (const rel of Object.keys(metadata.files).filter((p) => p.startsWith(ASSET_PREFIX))) {
    const into = join(assets, rel.slice(ASSET_PREFIX.length));
    if (await exists(into)) continue;
    await mkdir(assets, { recursive: true });
    await hardLink(join(snapshotDir, rel), into, rel, assets);
  }

  await mkdir(dirname(live), { recursive: true });
  const tmp = join(dirname(live), `${TMP_PREFIX}${target.name}-${randomBytes(4).toString('hex')}`);
  try {
    await materialize(join(snapshotDir, SNAPSHOT_METADATA_REPO), tmp, { objects: 'link', config: renderConfig(snapshotConfig()), copyMode: 0o644, fsync: false });
    const head = await metadataHead(ctx.git, tmp);
    if (head !== recorded.commit) throw new BackupError(`the metadata repository built from ${snapshotDir} has main ${head ?? '(none)'}, the snapshot recorded ${recorded.commit}`);
    await rename(tmp, live);
  } catch (error) {
    await removeTree(tmp).catch(() => undefined);
    throw error;
  }
  return true;
}
