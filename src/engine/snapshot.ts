// Hardlinked snapshots of the mirror (and of the GitHub metadata, snapshot-metadata.ts): built under a temporary
// name, flushed, renamed into place (invariants 1-3).
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mapBounded } from '../bounded.ts';
import { BackupError } from '../errors.ts';
import { exists, fsyncAll, fsyncPath, removeTree, sha256File } from '../fsutil.ts';
import { renderConfig, snapshotConfig } from '../git/config-template.ts';
import { headCommit, headRefOf, readRefsAndHead, rootCommits } from '../git/repo.ts';
import { countRefs, MAX_RECORDED_ROOTS, METADATA_FORMAT, readMetadata, serializeMetadata, type SnapshotMetadata, type UpstreamIdentity } from '../metadata.ts';
import { repeatsPrevious } from '../repeated-snapshot.ts';
import { STAGING_PREFIX } from '../refs.ts';
import { isSnapshotName, MAX_SNAPSHOTS_PER_SECOND, snapshotName, snapshotNameInSecond } from '../naming.ts';
import { stripCredentials } from '../redact.ts';
import { isMetadataPath, METADATA_FILE } from '../snapshot-files.ts';
import { reusableChecksum, type PreviousSnapshot } from './checksum-reuse.ts';
import { materialize, type MaterializedFile } from './materialize.ts';
import { recordAddedSnapshot, recordedSummary, type AddedSnapshot } from './repo-summary.ts';
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

async function newestMetadata(ctx: EngineContext, target: RepoTarget): Promise<PreviousSnapshot | null> {
  const names = await listSnapshotNames(ctx, target);
  const newest = names.at(-1);
  if (!newest) return null;
  const dir = join(ctx.layout.snapshotParent(target), newest);
  try {
    return { dir, metadata: await readMetadata(dir) };
  } catch {
    return null;
  }
}

/** What git says of the copy's refs and HEAD (HEAD's commit, the ref it names). */
interface RefRecord {
  refs: SnapshotMetadata['refs'];
  headRef: SnapshotMetadata['headRef'];
  head: SnapshotMetadata['head'];
}

/**
 * The copy's refs and HEAD: the previous snapshot's record when the copy is that snapshot's repository again
 * (src/repeated-snapshot.ts: no git process), else read through git. HEAD's commit is the previous record's too
 * when HEAD names the same ref and git lists it at that very commit: a commit's date and subject never change.
 */
async function recordRefs(ctx: EngineContext, dir: string, previous: SnapshotMetadata | null, repeated: boolean): Promise<RefRecord> {
  if (previous && repeated) return { refs: previous.refs, headRef: previous.headRef, head: previous.head };
  const listed = await readRefsAndHead(ctx.git, dir);
  const { refs } = listed;
  // A HEAD naming no existing ref (an empty upstream) is recorded as git names it.
  const headRef = listed.headRef ?? (await headRefOf(ctx.git, dir));
  const sameHead = listed.headRef !== null && previous?.headRef === listed.headRef && previous.head?.hash === refs[listed.headRef];
  return { refs, headRef, head: sameHead ? previous.head : await headCommit(ctx.git, dir) };
}

/**
 * Who the snapshot is of. Root commits carry over from the newest snapshot plus what the fetch brought, or as they
 * are when the copy repeats that snapshot (the same refs over the same objects have the same roots); with no record
 * to build on (the first format-2 snapshot, a changed mirror without a fetch) they are walked once in full.
 */
async function upstreamOf(ctx: EngineContext, target: RepoTarget, dir: string, previous: SnapshotMetadata | null, repeated: boolean, source?: FetchedSource): Promise<UpstreamIdentity> {
  const carried = source?.identityReset ? [] : previous?.upstream?.rootCommits;
  const brought = source ? source.newRoots : repeated ? [] : null;
  const roots = carried && brought ? [...carried, ...brought] : await rootCommits(ctx.git, dir, `${STAGING_PREFIX}*`);
  const github = source ? source.github : previous?.upstream?.github;
  return {
    url: source?.url ?? stripCredentials(target.url),
    ...(github ? { github } : {}),
    rootCommits: [...new Set(roots)].sort().slice(0, MAX_RECORDED_ROOTS),
  };
}

interface Hashed {
  checksums: SnapshotMetadata['files'];
  counts: { files: number; linkedFiles: number; copiedFiles: number };
  sizes: SnapshotMetadata['sizes'];
  /**
   * Every linked file shares an inode the status summary has counted already: the mirror's (linked from it just now),
   * or the previous snapshot's. A linked file of the GitHub metadata that is new to the snapshots is not.
   */
  inodesShared: boolean;
}

/** A checksum for every file laid into the snapshot, a few side by side; in the walk's order. */
async function checksumsOf(files: MaterializedFile[], previous: PreviousSnapshot | null): Promise<Hashed> {
  const hashes = await mapBounded(files, 16, async (file) => {
    const reused = file.treatment === 'link' ? await reusableChecksum(previous, file.rel, file.ino, file.size) : null;
    return { file, reused: reused !== null, sha256: reused?.sha256 ?? (await sha256File(file.dest, file.size)) };
  });
  const hashed: Hashed = {
    checksums: {},
    counts: { files: 0, linkedFiles: 0, copiedFiles: 0 },
    sizes: { totalBytes: 0, linkedBytes: 0, copiedBytes: 0 },
    inodesShared: true,
  };
  for (const { file, reused, sha256 } of hashes) {
    if (file.treatment === 'link') {
      hashed.counts.linkedFiles++;
      hashed.sizes.linkedBytes += file.size;
      if (!reused && isMetadataPath(file.rel)) hashed.inodesShared = false;
    } else {
      hashed.counts.copiedFiles++;
      hashed.sizes.copiedBytes += file.size;
    }
    hashed.checksums[file.rel] = { sha256, size: file.size };
    hashed.counts.files++;
    hashed.sizes.totalBytes += file.size;
  }
  return hashed;
}

/**
 * What the snapshot adds to the status summary: its files' sizes (`filesBytes`) and snapshot.json's, and the blocks
 * of the files written for it, the copies and snapshot.json (every linked inode is shared: Hashed.inodesShared).
 */
async function addedToSummary(name: string, copies: string[], metadataFile: string, filesBytes: number, githubMetadata: AddedSnapshot['githubMetadata']): Promise<AddedSnapshot> {
  const [json, ...copied] = await Promise.all([metadataFile, ...copies].map((path) => lstat(path)));
  const diskBytes = [json!, ...copied].reduce((n, st) => n + st.blocks * 512, 0);
  return { name, diskBytes, apparentBytes: filesBytes + json!.size, githubMetadata };
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

/** Mark every directory of the tree read-only, children first; returns them all, `dir` last. */
async function makeReadOnly(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const below = await Promise.all(entries.filter((e) => e.isDirectory()).map((e) => makeReadOnly(join(dir, e.name))));
  await chmod(dir, 0o555);
  return [...below.flat(), dir];
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

  try {
    const [previous, summaryBefore, files] = await Promise.all([
      newestMetadata(ctx, target),
      // Still true of the disk: the new snapshot is added to it, instead of every snapshot walked again
      // (repo-summary.ts). Read while the files are laid: a staging ref dropped meanwhile fails its later check.
      from ? null : recordedSummary(ctx, target),
      // A fetch killed before it dropped its staging refs must not put them into a snapshot.
      dropStagingRefs(ctx, mirror).then(() =>
        materialize(mirror, tmp, { objects: 'link', config: renderConfig(snapshotConfig()), copyMode: 0o444, checkpoint: () => throwIfAborted(ctx) }),
      ),
    ]);
    const github = await materializeMetadata(ctx, target, tmp, previous?.metadata.format === METADATA_FORMAT ? previous : null);
    if (github) files.push(...github.files);
    const hashed = await checksumsOf(files, previous);

    // A format-1 record named refs lossily: nothing of it is carried over.
    const recorded = previous?.metadata.format === METADATA_FORMAT ? previous.metadata : null;
    const repeated = recorded !== null && repeatsPrevious(recorded.files, hashed.checksums);
    const { refs, headRef, head } = await recordRefs(ctx, tmp, recorded, repeated);
    const metadata: SnapshotMetadata = {
      format: METADATA_FORMAT,
      tool: { name: 'github-private-backup', version: TOOL_VERSION },
      repository: target.id,
      sourceUrl: stripCredentials(target.url),
      name,
      createdAt: createdAt.toISOString(),
      head,
      headRef,
      refs,
      upstream: await upstreamOf(ctx, target, tmp, previous?.metadata ?? null, repeated, source),
      counts: { ...countRefs(refs), ...hashed.counts },
      sizes: hashed.sizes,
      files: hashed.checksums,
      ...(github ? { githubMetadata: github.summary } : {}),
    };
    const metadataFile = join(tmp, METADATA_FILE);
    await writeFile(metadataFile, serializeMetadata(metadata), { mode: 0o444 });
    throwIfAborted(ctx);
    const dirs = await makeReadOnly(tmp);
    // Durable before it is visible (docs/ARCHITECTURE.md invariant 1): every copied file, snapshot.json and every
    // directory (a directory of links holds new entries too), flushed together.
    const copies = files.filter((f) => f.treatment === 'copy').map((f) => f.dest);
    await fsyncAll([...copies, metadataFile, ...dirs]);
    const added = summaryBefore && hashed.inodesShared ? await addedToSummary(name, copies, metadataFile, hashed.sizes.totalBytes, github?.summary ?? null) : null;
    const final = join(parent, name);
    await rename(tmp, final);
    // The summary is written while the rename is flushed: should the rename be lost in a crash, the summary's
    // fingerprint names a snapshot that is not there, and the next reader measures again.
    await Promise.all([
      fsyncPath(parent),
      summaryBefore && added
        ? recordAddedSnapshot(ctx, target, summaryBefore, added).catch((error: Error) => ctx.logger.log('warn', `could not record the summary of ${target.id}: ${error.message}`))
        : null,
    ]);
    ctx.logger.log('info', `snapshot ${target.id} ${name} taken`, { refs: metadata.counts.refs, files: hashed.counts.files, bytes: hashed.sizes.totalBytes });
    return summarize(target.id, final, metadata);
  } catch (error) {
    // Best effort: whatever is left is a temporary directory that the next run removes.
    await removeTree(tmp).catch(() => undefined);
    throw error;
  }
}
