// A repository's GitHub metadata in its snapshot (docs/METADATA_FORMAT.md "In a snapshot"): the live metadata
// repository laid into github-metadata/repo.git like the mirror into the snapshot (object files hard-linked, the
// rest copied, a config of ours), and the release assets its tree names hard-linked into github-metadata/assets/.
// Part of the snapshot being built, so complete or invisible with it (docs/ARCHITECTURE.md invariants 1 and 2).
import { chmod, lstat, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BackupError } from '../errors.ts';
import { exists } from '../fsutil.ts';
import { renderConfig, snapshotConfig } from '../git/config-template.ts';
import { assetFileName, SNAPSHOT_METADATA_ASSETS, SNAPSHOT_METADATA_REPO, type SnapshotMetadataSummary } from '../github-metadata/format.ts';
import { assertKnownFormat, assetDigestsOf, metadataHead, readCapture } from '../github-metadata/read-commit.ts';
import { metadataRepoPath } from '../snapshot-files.ts';
import type { RepoTarget } from '../types.ts';
import { throwIfAborted, type EngineContext } from './context.ts';
import { hardLink, materialize, type MaterializedFile } from './materialize.ts';

export interface MaterializedMetadata {
  /** Every file laid down, with its path inside the snapshot directory (for snapshot.json's checksums). */
  files: MaterializedFile[];
  summary: SnapshotMetadataSummary;
}

/**
 * Where a file of a snapshot lives outside the snapshots, sharing its inode when it is hard-linked: the mirror, or for
 * the metadata the live metadata repository and asset directory (verify names them beside a damaged file).
 */
export function liveCounterpart(ctx: EngineContext, target: RepoTarget, rel: string): { label: string; path: string } {
  const inRepo = metadataRepoPath(rel);
  if (inRepo !== null) return { label: 'live metadata repository', path: join(ctx.layout.metadataRepo(target), inRepo) };
  if (rel.startsWith(`${SNAPSHOT_METADATA_ASSETS}/`)) return { label: 'live metadata assets', path: join(ctx.layout.metadataAssets(target), rel.slice(SNAPSHOT_METADATA_ASSETS.length + 1)) };
  return { label: 'mirror', path: join(ctx.layout.mirror(target), rel) };
}

/** The live metadata repository's `main`: what a new snapshot would carry (null: nothing captured yet). */
export function liveMetadataCommit(ctx: EngineContext, target: RepoTarget): Promise<string | null> {
  return metadataHead(ctx.git, ctx.layout.metadataRepo(target));
}

/**
 * Lay the live metadata repository and its assets into the snapshot being built at `snapshotTmp`, or do nothing
 * (null) when the repository has no metadata. Caller holds the repository lock, so no capture runs meanwhile;
 * everything recorded is read back from the copy, so it describes exactly what the snapshot holds.
 */
export async function materializeMetadata(ctx: EngineContext, target: RepoTarget, snapshotTmp: string): Promise<MaterializedMetadata | null> {
  const live = ctx.layout.metadataRepo(target);
  if (!(await liveMetadataCommit(ctx, target))) return null;
  const copy = join(snapshotTmp, SNAPSHOT_METADATA_REPO);
  const repoFiles = await materialize(live, copy, {
    objects: 'link',
    config: renderConfig(snapshotConfig()),
    copyMode: 0o444,
    checkpoint: () => throwIfAborted(ctx),
  });
  const commit = await metadataHead(ctx.git, copy);
  if (!commit) throw new BackupError(`${live}: its main branch was lost while the snapshot copied it`);
  await assertKnownFormat(ctx.git, copy, commit);
  const capture = await readCapture(ctx.git, copy, commit);
  const assetFiles = await linkAssets(ctx, target, snapshotTmp, await assetDigestsOf(ctx.git, copy, commit));
  return {
    files: [...repoFiles.map((f) => ({ ...f, rel: `${SNAPSHOT_METADATA_REPO}/${f.rel}` })), ...assetFiles],
    summary: {
      commit,
      capturedAt: capture.capturedAt,
      kinds: capture.kinds,
      assets: { files: assetFiles.length, bytes: assetFiles.reduce((n, f) => n + f.size, 0) },
    },
  };
}

/** Hard-link each named asset; one the tree names but the asset directory lacks fails the snapshot. */
async function linkAssets(ctx: EngineContext, target: RepoTarget, snapshotTmp: string, digests: string[]): Promise<MaterializedFile[]> {
  if (!digests.length) return [];
  const source = ctx.layout.metadataAssets(target);
  const dest = join(snapshotTmp, SNAPSHOT_METADATA_ASSETS);
  await mkdir(dest, { recursive: true });
  const files: MaterializedFile[] = [];
  for (const digest of digests) {
    throwIfAborted(ctx);
    const name = assetFileName(digest);
    const abs = join(source, name);
    if (!(await exists(abs))) throw new BackupError(`${target.id}: release asset ${name} is named by the metadata but missing from ${source}`);
    const rel = `${SNAPSHOT_METADATA_ASSETS}/${name}`;
    const linked = join(dest, name);
    await hardLink(abs, linked, rel, snapshotTmp);
    const st = await lstat(linked);
    // Assets are written once and read-only (docs/METADATA_FORMAT.md); a shared inode must not stay writable.
    if (st.mode & 0o222) await chmod(linked, 0o444);
    files.push({ rel, abs, dest: linked, treatment: 'link', size: st.size, ino: st.ino, dev: st.dev, blocks: st.blocks, mode: st.mode & ~0o222 });
  }
  return files;
}
