// A repository's GitHub metadata in its snapshot (docs/METADATA_FORMAT.md "In a snapshot"): the live metadata
// repository laid into github-metadata/repo.git like the mirror into the snapshot (object files hard-linked, the
// rest copied, a config of ours), and the release assets its tree names hard-linked into github-metadata/assets/.
// Part of the snapshot being built, so complete or invisible with it (docs/ARCHITECTURE.md invariants 1 and 2).
import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BackupError } from '../errors.ts';
import { mapBounded } from '../bounded.ts';
import { exists, sha256File, walkFiles } from '../fsutil.ts';
import { renderConfig, snapshotConfig } from '../git/config-template.ts';
import { assetFileName, SNAPSHOT_METADATA_ASSETS, SNAPSHOT_METADATA_REPO, type SnapshotMetadataSummary } from '../github-metadata/format.ts';
import { assertKnownFormat, assetDigestsOf, metadataHead, readCapture } from '../github-metadata/read-commit.ts';
import type { SnapshotMetadata } from '../metadata.ts';
import { repeatsPrevious } from '../repeated-snapshot.ts';
import { isSkippedDir, metadataRepoPath, treatmentOf } from '../snapshot-files.ts';
import type { RepoTarget } from '../types.ts';
import { throwIfAborted, type EngineContext } from './context.ts';
import { reusableChecksum, type PreviousSnapshot } from './checksum-reuse.ts';
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
 * everything recorded is read back from the copy, so it describes exactly what the snapshot holds. When the live
 * repository is, file for file, the one the previous snapshot carries, that snapshot's summary and asset list are
 * what git would read from the copy (the same commit), and no git runs.
 */
export async function materializeMetadata(ctx: EngineContext, target: RepoTarget, snapshotTmp: string, previous: PreviousSnapshot | null = null): Promise<MaterializedMetadata | null> {
  const live = ctx.layout.metadataRepo(target);
  if (!(await exists(live))) return null;
  const carried = previous?.metadata.githubMetadata && (await repeatsPreviousCopy(live, previous)) ? previous.metadata : null;
  if (!carried && !(await liveMetadataCommit(ctx, target))) return null;
  const copy = join(snapshotTmp, SNAPSHOT_METADATA_REPO);
  const repoFiles = await materialize(live, copy, {
    objects: 'link',
    config: renderConfig(snapshotConfig()),
    copyMode: 0o444,
    checkpoint: () => throwIfAborted(ctx),
  });
  const described = carried ? carriedDescription(carried) : await describeCopy(ctx, live, copy);
  const assetFiles = await linkAssets(ctx, target, snapshotTmp, described.digests);
  return {
    files: [...repoFiles.map((f) => ({ ...f, rel: `${SNAPSHOT_METADATA_REPO}/${f.rel}` })), ...assetFiles],
    summary: {
      commit: described.commit,
      capturedAt: described.capturedAt,
      kinds: described.kinds,
      assets: { files: assetFiles.length, bytes: assetFiles.reduce((n, f) => n + f.size, 0) },
    },
  };
}

interface Description {
  commit: string;
  capturedAt: SnapshotMetadataSummary['capturedAt'];
  kinds: SnapshotMetadataSummary['kinds'];
  /** The release assets the commit names, sorted. */
  digests: string[];
}

/** What git reads from the copy: its commit, checked to be a format we know, its capture and its assets. */
async function describeCopy(ctx: EngineContext, live: string, copy: string): Promise<Description> {
  const commit = await metadataHead(ctx.git, copy);
  if (!commit) throw new BackupError(`${live}: its main branch was lost while the snapshot copied it`);
  await assertKnownFormat(ctx.git, copy, commit);
  const capture = await readCapture(ctx.git, copy, commit);
  return { commit, capturedAt: capture.capturedAt, kinds: capture.kinds, digests: await assetDigestsOf(ctx.git, copy, commit) };
}

/** The previous snapshot's description of the same repository: its summary, and the assets it linked. */
function carriedDescription(previous: SnapshotMetadata): Description {
  const { commit, capturedAt, kinds } = previous.githubMetadata!;
  const prefix = `${SNAPSHOT_METADATA_ASSETS}/`;
  const digests = Object.keys(previous.files).filter((rel) => rel.startsWith(prefix)).map((rel) => rel.slice(prefix.length)).sort();
  return { commit, capturedAt, kinds, digests };
}

/**
 * The live repository's files against the copy the previous snapshot recorded (src/repeated-snapshot.ts): its
 * copied files hashed, its object files the previous snapshot's inodes, our config as the copy gets it. An object
 * file of the previous copy that is another inode here is a doubt: false.
 */
async function repeatsPreviousCopy(live: string, previous: PreviousSnapshot): Promise<boolean> {
  const prefix = `${SNAPSHOT_METADATA_REPO}/`;
  const recorded: SnapshotMetadata['files'] = {};
  for (const [rel, checksum] of Object.entries(previous.metadata.files)) if (rel.startsWith(prefix)) recorded[rel.slice(prefix.length)] = checksum;
  const config = Buffer.from(renderConfig(snapshotConfig()));
  const current: SnapshotMetadata['files'] = { config: { sha256: createHash('sha256').update(config).digest('hex'), size: config.length } };
  const files = (await walkFiles(live, { skipDir: isSkippedDir })).filter((f) => f.rel !== 'config' && treatmentOf(f.rel) !== 'skip');
  const checked = await mapBounded(files, 16, async (file) => {
    if (treatmentOf(file.rel) === 'copy') return { rel: file.rel, checksum: { sha256: await sha256File(file.abs, file.size), size: file.size } };
    if (!recorded[file.rel]) return null; // an object file the previous copy did not have: more objects are no doubt
    return { rel: file.rel, checksum: await reusableChecksum(previous, `${prefix}${file.rel}`, file.ino, file.size) };
  });
  for (const entry of checked) {
    if (!entry) continue;
    if (!entry.checksum) return false;
    current[entry.rel] = entry.checksum;
  }
  return repeatsPrevious(recorded, current);
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
