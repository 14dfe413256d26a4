// Hardlinked snapshots of the mirror (and of the GitHub metadata, snapshot-metadata.ts): built under a temporary
// name, flushed, renamed into place (invariants 1-3).
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BackupError } from '../errors.ts';
import { exists, fsyncPath, removeTree, sha256File } from '../fsutil.ts';
import { renderConfig, snapshotConfig } from '../git/config-template.ts';
import { headCommit, headRefOf, readRefsAndHead, rootCommits } from '../git/repo.ts';
import { countRefs, MAX_RECORDED_ROOTS, METADATA_FORMAT, readMetadata, serializeMetadata, type SnapshotMetadata, type UpstreamIdentity } from '../metadata.ts';
import { STAGING_PREFIX } from '../refs.ts';
import { isSnapshotName, MAX_SNAPSHOTS_PER_SECOND, snapshotName, snapshotNameInSecond } from '../naming.ts';
import { stripCredentials } from '../redact.ts';
import { METADATA_FILE } from '../snapshot-files.ts';
import { materialize } from './materialize.ts';
import { materializeMetadata } from './snapshot-metadata.ts';
import { snapshotRef } from '../snapshot-ref.ts';
import type { RepoTarget, SnapshotSummary } from '../types.ts';
import { TOOL_VERSION } from '../version.ts';
import { throwIfAborted, type EngineContext } from './context.ts';
import { reportPhase } from './progress.ts';
import { dropStagingRefs, type FetchedSource } from './mirror.ts';

const TMP_PREFIX = '.tmp-';

/** Snapshot names of a repository, oldest first. Temporary directories are never listed. */
export function listSnapshotNames(ctx: EngineContext, target: RepoTarget): Promise<string[]> {
  return listSnapshotNamesIn(ctx.layout.snapshotParent(target));
}

async function listSnapshotNamesIn(parent: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(parent, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return entries.filter((e) => e.isDirectory() && isSnapshotName(e.name)).map((e) => e.name).sort();
}

export function summarize(repository: string, path: string, metadata: SnapshotMetadata, pinned?: SnapshotSummary['pinned']): SnapshotSummary {
  return {
    ...snapshotRef(repository, metadata.name, path, metadata.createdAt, pinned),
    head: metadata.head,
    refCount: metadata.counts.refs,
    sizeBytes: metadata.sizes.totalBytes,
    ...(metadata.githubMetadata ? { githubMetadata: metadata.githubMetadata } : {}),
  };
}

/** Remove what a crashed or killed run left behind. Only call with the repository lock held. */
export async function removeTemporaries(ctx: EngineContext, parent: string, belongs: (name: string) => boolean = (n) => n.startsWith(TMP_PREFIX)): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return [];
  }
  const removed = names.filter(belongs);
  for (const name of removed) {
    await removeTree(join(parent, name));
    ctx.logger.log('warn', `removed incomplete ${join(parent, name)} left by an interrupted run`);
  }
  return removed;
}

interface PreviousFiles {
  dir: string;
  files: SnapshotMetadata['files'];
  upstream: UpstreamIdentity | undefined;
}

async function newestMetadata(ctx: EngineContext, target: RepoTarget): Promise<PreviousFiles | null> {
  const names = await listSnapshotNames(ctx, target);
  const newest = names.at(-1);
  if (!newest) return null;
  const dir = join(ctx.layout.snapshotParent(target), newest);
  try {
    const metadata = await readMetadata(dir);
    return { dir, files: metadata.files, upstream: metadata.upstream };
  } catch {
    return null;
  }
}

/**
 * Who the snapshot is of. Root commits carry over from the newest snapshot plus what the fetch brought; with no
 * record to build on (the first format-2 snapshot, a snapshot without a fetch) they are walked once in full.
 */
async function upstreamOf(ctx: EngineContext, target: RepoTarget, dir: string, previous: PreviousFiles | null, source?: FetchedSource): Promise<UpstreamIdentity> {
  const carried = source?.identityReset ? [] : previous?.upstream?.rootCommits;
  const roots = carried && source?.newRoots ? [...carried, ...source.newRoots] : await rootCommits(ctx.git, dir, `${STAGING_PREFIX}*`);
  const github = source ? source.github : previous?.upstream?.github;
  return {
    url: source?.url ?? stripCredentials(target.url),
    ...(github ? { github } : {}),
    rootCommits: [...new Set(roots)].sort().slice(0, MAX_RECORDED_ROOTS),
  };
}

/**
 * A hard-linked object file that is the very same inode as in the previous snapshot has the checksum recorded
 * there: object files never change in place. Everything else is hashed.
 */
async function reusableChecksum(previous: PreviousFiles | null, rel: string, ino: number, size: number): Promise<string | null> {
  const recorded = previous?.files[rel];
  if (!previous || !recorded || recorded.size !== size) return null;
  try {
    return (await stat(join(previous.dir, rel))).ino === ino ? recorded.sha256 : null;
  } catch {
    return null;
  }
}

/**
 * The snapshot's time and the name made from it: one clock reading, so they always agree. A second snapshot within
 * the same second gets the next -NNN suffix after the ones already there, so names stay in time order and no run
 * waits for the clock (docs/OPERATIONS.md "The backup root").
 */
async function chooseName(ctx: EngineContext, parent: string): Promise<{ name: string; at: Date }> {
  const at = ctx.clock();
  const base = snapshotName(at);
  const sameSecond = (await listSnapshotNamesIn(parent)).filter((n) => n === base || n.startsWith(`${base}-`));
  const next = sameSecond.length ? Number(sameSecond.at(-1)!.slice(base.length + 1) || 0) + 1 : 0;
  if (next >= MAX_SNAPSHOTS_PER_SECOND) throw new BackupError(`${MAX_SNAPSHOTS_PER_SECOND} snapshots named ${base} already exist in ${parent}`);
  return { name: snapshotNameInSecond(at, next), at };
}

async function makeReadOnly(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) await makeReadOnly(join(dir, entry.name));
  }
  await chmod(dir, 0o555);
}

/**
 * Take a snapshot of the mirror now (or of `from`, a mirror of this repository an in-place restore moved aside).
 * Caller holds the repository lock (repoLocked, which removed leftovers).
 */
export async function takeSnapshot(ctx: EngineContext, target: RepoTarget, source?: FetchedSource, from?: string): Promise<SnapshotSummary> {
  const mirror = from ?? ctx.layout.mirror(target);
  if (!(await exists(mirror))) throw new BackupError(`${target.id} is not initialized: run init (or sync) first`);
  const parent = ctx.layout.snapshotParent(target);
  await mkdir(parent, { recursive: true });
  const { name, at: createdAt } = await chooseName(ctx, parent);
  reportPhase(ctx, target, 'snapshot', name);
  const tmp = join(parent, `${TMP_PREFIX}${name}-${randomBytes(4).toString('hex')}`);
  const previous = await newestMetadata(ctx, target);
  // A fetch killed before it dropped its staging refs must not put them into a snapshot.
  await dropStagingRefs(ctx, mirror);

  try {
    const files = await materialize(mirror, tmp, {
      objects: 'link',
      config: renderConfig(snapshotConfig()),
      copyMode: 0o444,
      fsync: true,
      checkpoint: () => throwIfAborted(ctx),
    });
    const github = await materializeMetadata(ctx, target, tmp);
    if (github) files.push(...github.files);
    const checksums: SnapshotMetadata['files'] = {};
    const counts = { files: 0, linkedFiles: 0, copiedFiles: 0 };
    const sizes = { totalBytes: 0, linkedBytes: 0, copiedBytes: 0 };
    for (const file of files) {
      let sha256: string;
      if (file.treatment === 'link') {
        sha256 = (await reusableChecksum(previous, file.rel, file.ino, file.size)) ?? (await sha256File(file.dest));
        counts.linkedFiles++;
        sizes.linkedBytes += file.size;
      } else {
        sha256 = await sha256File(file.dest);
        counts.copiedFiles++;
        sizes.copiedBytes += file.size;
      }
      checksums[file.rel] = { sha256, size: file.size };
      counts.files++;
      sizes.totalBytes += file.size;
    }

    const { refs, headRef } = await readRefsAndHead(ctx.git, tmp);
    const metadata: SnapshotMetadata = {
      format: METADATA_FORMAT,
      tool: { name: 'github-private-backup', version: TOOL_VERSION },
      repository: target.id,
      sourceUrl: stripCredentials(target.url),
      name,
      createdAt: createdAt.toISOString(),
      head: await headCommit(ctx.git, tmp),
      // A HEAD naming no existing ref (an empty upstream) is recorded as git names it.
      headRef: headRef ?? (await headRefOf(ctx.git, tmp)),
      refs,
      upstream: await upstreamOf(ctx, target, tmp, previous, source),
      counts: { ...countRefs(refs), ...counts },
      sizes,
      files: checksums,
      ...(github ? { githubMetadata: github.summary } : {}),
    };
    const metadataFile = join(tmp, METADATA_FILE);
    await writeFile(metadataFile, serializeMetadata(metadata), { mode: 0o444 });
    await fsyncPath(metadataFile);
    throwIfAborted(ctx);
    await makeReadOnly(tmp);
    await fsyncPath(tmp);
    const final = join(parent, name);
    await rename(tmp, final);
    await fsyncPath(parent);
    ctx.logger.log('info', `snapshot ${target.id} ${name} taken`, { refs: metadata.counts.refs, files: counts.files, bytes: sizes.totalBytes });
    return summarize(target.id, final, metadata);
  } catch (error) {
    // Best effort: whatever is left is a temporary directory that the next run removes.
    await removeTree(tmp).catch(() => undefined);
    throw error;
  }
}
