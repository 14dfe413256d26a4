// state/summaries/<owner>/<repo>.json: what status and health show of one repository (HEAD, ref counts, disk used,
// the newest snapshot's GitHub metadata), recorded by the writers so that status never walks every snapshot
// (docs/OPERATIONS.md "Status and health").
// A summary is trusted only while its fingerprint (the snapshot names and the mtimes of the mirror's ref and object
// directories) matches the disk; otherwise status measures afresh. verify still re-reads everything.
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { diskUsage, walkFiles } from '../fsutil.ts';
import { present } from '../small-fs.ts';
import { readPackedRefsFile } from '../git/packed-refs.ts';
import { headCommit, readRefs } from '../git/repo.ts';
import { snapshotMetadataSummarySchema, type SnapshotMetadataSummary } from '../github-metadata/format.ts';
import { lfsOidOf } from '../lfs.ts';
import { countRefs, readMetadata } from '../metadata.ts';
import { newestTrusted } from '../snapshot-time.ts';
import type { RepoTarget } from '../types.ts';
import type { EngineContext } from './context.ts';
import { listSnapshotNames } from './snapshot.ts';

/** What a fetch, a pack-refs, a gc or a restore touches in a mirror (refs/ itself is touched by every fetch, even a no-op one). */
const WATCHED = ['HEAD', 'packed-refs', 'refs/heads', 'refs/tags', 'objects', 'objects/pack'];

const summarySchema = z.object({
  fingerprint: z.object({ snapshots: z.array(z.string()), mirror: z.array(z.number().nullable()).nullable() }),
  head: z.object({ hash: z.string(), date: z.string(), subject: z.string() }).nullable(),
  branches: z.number().int(),
  tags: z.number().int(),
  diskUsedBytes: z.number(),
  apparentBytes: z.number(),
  /** The newest trusted snapshot's githubMetadata, or null (required: a summary recorded before it is measured again). */
  githubMetadata: snapshotMetadataSummarySchema.nullable(),
  /** LFS objects in the mirror (src/lfs.ts); absent from summaries recorded before they were counted. */
  lfs: z.object({ objects: z.number().int(), bytes: z.number() }).optional(),
});

export type RepoSummary = z.infer<typeof summarySchema>;
type Fingerprint = RepoSummary['fingerprint'];

/** Taken by every writer and every status of every repository: its stats are synchronous (src/small-fs.ts). */
async function fingerprintOf(ctx: EngineContext, target: RepoTarget): Promise<Fingerprint> {
  const mirror = ctx.layout.mirror(target);
  const snapshots = await listSnapshotNames(ctx, target);
  if (!present(mirror)) return { snapshots, mirror: null };
  const mtimes = WATCHED.map((p) => {
    try {
      return statSync(join(mirror, p)).mtimeMs;
    } catch {
      return null;
    }
  });
  return { snapshots, mirror: mtimes };
}

const sameFingerprint = (a: Fingerprint, b: Fingerprint) => JSON.stringify(a) === JSON.stringify(b);

/** Measure the repository: the one walk of the mirror and every snapshot, each inode counted once. */
async function measure(ctx: EngineContext, target: RepoTarget, fingerprint: Fingerprint): Promise<RepoSummary> {
  const mirror = ctx.layout.mirror(target);
  const initialized = fingerprint.mirror !== null;
  const seen = new Set<string>();
  let disk = 0;
  let apparent = 0;
  let looseRefs = false;
  const lfs = { objects: 0, bytes: 0 };
  for (const dir of [...(initialized ? [mirror] : []), ...fingerprint.snapshots.map((n) => join(ctx.layout.snapshotParent(target), n))]) {
    const inMirror = dir === mirror;
    const files = await walkFiles(dir, inMirror ? { onOther: (rel) => (looseRefs ||= rel.startsWith('refs/')) } : {});
    const usage = diskUsage(files, seen);
    disk += usage.disk;
    apparent += usage.apparent;
    if (!inMirror) continue;
    looseRefs ||= files.some((f) => f.rel.startsWith('refs/'));
    for (const file of files.filter((f) => lfsOidOf(f.rel))) {
      lfs.objects += 1;
      lfs.bytes += file.size;
    }
  }
  // The walk has seen every file: with no loose ref, packed-refs holds them all (git is asked on any doubt).
  const refs = initialized ? ((!looseRefs && (await readPackedRefsFile(mirror))) || (await readRefs(ctx.git, mirror))) : {};
  const counts = countRefs(refs);
  return {
    fingerprint,
    head: initialized ? await headCommit(ctx.git, mirror) : null,
    branches: counts.branches,
    tags: counts.tags,
    diskUsedBytes: disk,
    apparentBytes: apparent,
    githubMetadata: await newestMetadataSummary(ctx, target, fingerprint.snapshots),
    ...(lfs.objects ? { lfs } : {}),
  };
}

/** What the newest trusted snapshot says of its GitHub metadata: one snapshot.json read, when the snapshots change. */
async function newestMetadataSummary(ctx: EngineContext, target: RepoTarget, names: string[]): Promise<SnapshotMetadataSummary | null> {
  const newest = newestTrusted(names, ctx.clock());
  if (!newest) return null;
  const metadata = await readMetadata(join(ctx.layout.snapshotParent(target), newest)).catch(() => null);
  return metadata?.githubMetadata ?? null;
}

async function readSummary(ctx: EngineContext, target: RepoTarget): Promise<RepoSummary | null> {
  try {
    const parsed = summarySchema.safeParse(JSON.parse(readFileSync(ctx.layout.repoSummary(target), 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

async function writeSummary(ctx: EngineContext, target: RepoTarget, summary: RepoSummary): Promise<void> {
  const file = ctx.layout.repoSummary(target);
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, `${JSON.stringify(summary)}\n`);
  await rename(tmp, file);
}

/**
 * The repository's summary: the recorded one while its fingerprint matches, else measured now and recorded (best
 * effort: a read-only root still gets its answer). The fingerprint is taken before measuring, so a writer that
 * changes the repository meanwhile leaves a summary that no longer matches, never a wrong one that does.
 */
export async function currentSummary(ctx: EngineContext, target: RepoTarget): Promise<RepoSummary> {
  const fingerprint = await fingerprintOf(ctx, target);
  const recorded = await readSummary(ctx, target);
  if (recorded && sameFingerprint(recorded.fingerprint, fingerprint)) return recorded;
  const measured = await measure(ctx, target, fingerprint);
  // Nothing there (a typo in --repo, a root that does not exist): nothing to record, and no directories to create.
  if (fingerprint.mirror === null && !fingerprint.snapshots.length) return measured;
  await writeSummary(ctx, target, measured).catch((error: NodeJS.ErrnoException) =>
    ctx.logger.log('warn', `could not record the summary of ${target.id}: ${error.code ?? error.message}`),
  );
  return measured;
}

/** The recorded summary while it still describes the repository on disk (its fingerprint matches), else null. */
export async function recordedSummary(ctx: EngineContext, target: RepoTarget): Promise<RepoSummary | null> {
  const fingerprint = await fingerprintOf(ctx, target);
  const recorded = await readSummary(ctx, target);
  return recorded && sameFingerprint(recorded.fingerprint, fingerprint) ? recorded : null;
}

/** A snapshot just added to a repository, as the summary counts it. */
export interface AddedSnapshot {
  name: string;
  /** Blocks of the snapshot's inodes that no other file of the mirror or a snapshot has, in bytes. */
  diskBytes: number;
  /** Every file's size, hard links counted in full. */
  apparentBytes: number;
  githubMetadata: SnapshotMetadataSummary | null;
}

/**
 * Record the summary after a snapshot was added to a repository `before` described, without the walk of every
 * snapshot: the mirror's directories are as they were, so its HEAD, refs and LFS objects are too, and the new
 * snapshot adds only its own inodes. Anything else changed meanwhile: nothing is recorded, and the writer's
 * recordSummary measures as always. Caller holds the repository lock.
 */
export async function recordAddedSnapshot(ctx: EngineContext, target: RepoTarget, before: RepoSummary, added: AddedSnapshot): Promise<void> {
  const fingerprint = await fingerprintOf(ctx, target);
  const expected: Fingerprint = { snapshots: [...before.fingerprint.snapshots, added.name].sort(), mirror: before.fingerprint.mirror };
  if (!sameFingerprint(fingerprint, expected)) return;
  // The newest trusted snapshot is the new one, or (one named later within the clock-skew tolerance) as before.
  const now = ctx.clock();
  const newest = newestTrusted(fingerprint.snapshots, now);
  const githubMetadata = newest === added.name ? added.githubMetadata : newest === newestTrusted(before.fingerprint.snapshots, now) ? before.githubMetadata : undefined;
  if (githubMetadata === undefined) return;
  const summary: RepoSummary = {
    ...before,
    fingerprint,
    diskUsedBytes: before.diskUsedBytes + added.diskBytes,
    apparentBytes: before.apparentBytes + added.apparentBytes,
    githubMetadata,
  };
  await writeSummary(ctx, target, summary).catch((error: NodeJS.ErrnoException) =>
    ctx.logger.log('warn', `could not record the summary of ${target.id}: ${error.code ?? error.message}`),
  );
}

/** Called by every writer before it releases the repository lock (sync.ts repoLocked): cheap when nothing changed. */
export async function recordSummary(ctx: EngineContext, target: RepoTarget): Promise<void> {
  await currentSummary(ctx, target).catch((error: Error) => ctx.logger.log('warn', `could not measure ${target.id} for status: ${error.message}`));
}
