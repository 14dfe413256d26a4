// A root whose live GitHub metadata is missing gets it back from its newest snapshot (docs/METADATA_FORMAT.md "In a
// snapshot"): after a hydrate from the store, or on a runner whose cache kept the mirror and snapshots only. The
// metadata repository comes back so the next capture commits on top of the history so far instead of starting a new
// one, and the release assets so they are not downloaded again. The capture state (ETags, since marks) is in no
// snapshot: when it is missing too, the first capture is a full one.
import { randomBytes } from 'node:crypto';
import { mkdir, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AbortedError, BackupError, errorMessage } from '../errors.ts';
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

/**
 * Before a sync's capture: the live metadata back from `newest` (the newest trusted snapshot's record) when it is
 * missing. A failure is a warning: the capture then starts a new history, and the snapshots keep the old one.
 */
export async function restoreLiveMetadata(ctx: EngineContext, target: RepoTarget, newest: SnapshotMetadata | null): Promise<void> {
  if (!newest?.githubMetadata) return;
  try {
    if (await hydrateMetadata(ctx, target, ctx.layout.snapshot(target, newest.name), newest)) {
      ctx.logger.log('info', `${target.id}: the live GitHub metadata was missing: brought back from ${newest.name}`, { commit: newest.githubMetadata.commit });
    }
  } catch (error) {
    if (error instanceof AbortedError) throw error;
    ctx.logger.log('warn', `${target.id}: could not bring back the live GitHub metadata from ${newest.name}: ${errorMessage(error)}; the next capture starts a new history`);
  }
}
