// restore: a snapshot (or an archive) back into the live mirror, into a directory, or pushed to a new remote.
// The result is built beside its target, verified, then swapped in; whatever it replaces is kept (invariant 7).
import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { mkdir, rename, rmdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { extractArchive } from '../archive.ts';
import { BackupError, UsageError } from '../errors.ts';
import { exists, isEmptyDir, removeTree } from '../fsutil.ts';
import { Layout } from '../layout.ts';
import { fsck, lsRemote, readRefs } from '../git/repo.ts';
import { validateRemoteUrl } from '../git/url.ts';
import { readMetadata, refsAsRecorded, type SnapshotMetadata } from '../metadata.ts';
import { snapshotName } from '../naming.ts';
import { stripCredentials } from '../redact.ts';
import { sameRefs } from '../refs.ts';
import type { RepoTarget, RestoreRepoResult } from '../types.ts';
import type { RestoreOptions } from './api.ts';
import type { EngineContext } from './context.ts';
import { materialize } from './materialize.ts';
import { repoLocked } from './sync.ts';
import { journaledSwap } from './swap-journal.ts';
import { whileReading } from './readers.ts';
import { resolveSnapshotName, verifySnapshotDir } from './verify.ts';

// What a new remote gets: branches, tags and notes. GitHub refuses hidden refs such as refs/pull/*.
const PUSH_REFSPECS = ['refs/heads/*:refs/heads/*', 'refs/tags/*:refs/tags/*', 'refs/notes/*:refs/notes/*'];
const PUSHED = /^refs\/(heads|tags|notes)\//;

const stamp = (ctx: EngineContext) => snapshotName(ctx.clock()).slice('snapshot-'.length);
const nonce = () => randomBytes(4).toString('hex');

/** A repository built from the snapshot beside `target`, not yet in place. */
async function buildRepository(ctx: EngineContext, source: string, metadata: SnapshotMetadata, tmp: string, options: { checkout: boolean; linkObjects: boolean }): Promise<void> {
  if (options.checkout) {
    await ctx.git.run(dirname(tmp), ['clone', '--no-hardlinks', '--quiet', '--', source, tmp]);
    await ctx.git.run(tmp, ['remote', 'set-url', 'origin', metadata.sourceUrl]);
    const problems = await fsck(ctx.git, tmp);
    if (problems.length) throw new BackupError(`restored clone failed git fsck: ${problems.join('; ')}`);
    return;
  }
  await materialize(source, tmp, { linkObjects: options.linkObjects, copyMode: 0o644, fsync: false });
  const problems = await fsck(ctx.git, tmp);
  if (problems.length) throw new BackupError(`restored repository failed git fsck: ${problems.join('; ')}`);
  if (!sameRefs(refsAsRecorded(await readRefs(ctx.git, tmp), metadata.format), metadata.refs)) throw new BackupError('restored repository refs differ from the snapshot\'s recorded refs');
}

/** Move `built` into `target`; an existing target is renamed aside and reported, never deleted. */
async function swapIn(ctx: EngineContext, built: string, target: string): Promise<string | null> {
  let kept: string | null = null;
  if (await exists(target)) {
    if (await isEmptyDir(target)) await rmdir(target);
    else {
      kept = `${target}.replaced-${stamp(ctx)}-${nonce()}`;
      await rename(target, kept);
    }
  }
  await rename(built, target);
  return kept;
}

/** The real path of `path`, following symlinks in the part that exists (the rest does not exist yet). */
function realPathOf(path: string): string {
  const missing: string[] = [];
  let current = resolve(path);
  for (;;) {
    try {
      return join(realpathSync(current), ...missing.reverse());
    } catch {
      const parent = dirname(current);
      if (parent === current) return resolve(path);
      missing.push(basename(current));
      current = parent;
    }
  }
}

export function assertSafeTarget(ctx: EngineContext, to: string): string {
  const dir = resolve(to);
  // Compare real paths: a symlink outside the root must not lead a restore into it.
  const real = realPathOf(dir);
  const root = new Layout(realPathOf(ctx.layout.root));
  if (ctx.layout.contains(dir) || root.contains(real)) {
    throw new UsageError(`refusing to restore into ${dir}: it is inside the backup root ${ctx.layout.root} (omit --to to restore the live mirror in place)`);
  }
  if (new Layout(dir).contains(ctx.layout.root) || new Layout(real).contains(root.root)) {
    throw new UsageError(`refusing to restore into ${dir}: it contains the backup root ${ctx.layout.root}`);
  }
  return dir;
}

export interface Source {
  dir: string;
  name: string;
  metadata: SnapshotMetadata;
}

export async function restoreFromSource(ctx: EngineContext, target: RepoTarget, source: Source, options: RestoreOptions): Promise<RestoreRepoResult> {
  const base = { repo: target.id, snapshot: source.name, dryRun: Boolean(options.dryRun) };
  const refCount = Object.keys(source.metadata.refs).length;

  if (options.push) {
    const remote = validateRemoteUrl(options.push).url;
    const pushed = Object.keys(source.metadata.refs).filter((r) => PUSHED.test(r)).length;
    const existing = Object.keys((await lsRemote(ctx.git, source.dir, remote)).refs).length;
    if (existing > 0 && !options.force) {
      throw new UsageError(`refusing to push to ${stripCredentials(remote)}: it already has ${existing} ref(s). Push to a new, empty repository, or pass --force to overwrite.`);
    }
    if (!options.dryRun) {
      await ctx.git.run(source.dir, ['push', '--porcelain', ...(options.force ? ['--force'] : []), '--', remote, ...PUSH_REFSPECS], { auth: true });
      ctx.logger.log('info', `pushed ${target.id} ${source.name} to ${stripCredentials(remote)}`, { refs: pushed });
    }
    return { ...base, mode: 'push', target: stripCredentials(remote), keptPrevious: null, refsRestored: pushed };
  }

  if (options.to) {
    const dir = assertSafeTarget(ctx, options.to);
    if (!(await isEmptyDir(dir)) && !options.force) {
      throw new UsageError(`refusing to restore into ${dir}: it is not empty (pass --force to replace it; the old content is kept beside it)`);
    }
    if (options.dryRun) return { ...base, mode: 'to-dir', target: dir, keptPrevious: null, refsRestored: refCount };
    await mkdir(dirname(dir), { recursive: true });
    const tmp = join(dirname(dir), `.${basename(dir)}.restore-${nonce()}`);
    try {
      // A restored repository is the user's to change: copy everything, share nothing with the backup.
      await buildRepository(ctx, source.dir, source.metadata, tmp, { checkout: Boolean(options.checkout), linkObjects: false });
      const kept = await swapIn(ctx, tmp, dir);
      ctx.logger.log('info', `restored ${target.id} ${source.name} to ${dir}`, { kept });
      return { ...base, mode: 'to-dir', target: dir, keptPrevious: kept, refsRestored: refCount };
    } catch (error) {
      await removeTree(tmp).catch(() => undefined);
      throw error;
    }
  }

  if (options.checkout) throw new UsageError('--checkout needs --to DIR (the live mirror is always bare)');
  const mirror = ctx.layout.mirror(target);
  if (options.dryRun) return { ...base, mode: 'in-place', target: mirror, keptPrevious: null, refsRestored: refCount };
  return repoLocked(ctx, target, 'restore', async () => {
    await mkdir(dirname(mirror), { recursive: true });
    const tmp = join(dirname(mirror), `.tmp-restore-${target.name}-${nonce()}`);
    try {
      // Object files never change in place, so the restored mirror may share them with the snapshot.
      await buildRepository(ctx, source.dir, source.metadata, tmp, { checkout: false, linkObjects: true });
      // Journaled: a crash between moving the mirror aside and moving this one in is finished by the next run.
      const kept = await journaledSwap(ctx, target, tmp, `${mirror}.replaced-${stamp(ctx)}-${nonce()}`);
      ctx.logger.log('info', `restored ${target.id} ${source.name} in place`, { kept });
      return { ...base, mode: 'in-place', target: mirror, keptPrevious: kept, refsRestored: refCount };
    } catch (error) {
      await removeTree(tmp).catch(() => undefined);
      throw error;
    }
  });
}

export async function restoreRepo(ctx: EngineContext, target: RepoTarget, options: RestoreOptions): Promise<RestoreRepoResult> {
  const name = await resolveSnapshotName(ctx, target, options.snapshot);
  return whileReading(ctx, target, name, 'restore', async () => {
    const dir = join(ctx.layout.snapshotParent(target), name);
    return restoreFromSource(ctx, target, { dir, name, metadata: await readMetadata(dir) }, options);
  });
}

/**
 * Restore from an archive written by export: extract beside where it is going, verify it like a snapshot, then
 * restore it as one. The repository comes from the archive's own snapshot.json.
 */
export async function restoreFromArchive(ctx: EngineContext, archive: string, options: RestoreOptions, targetFor: (metadata: SnapshotMetadata) => RepoTarget): Promise<RestoreRepoResult> {
  const scratchParent = options.to ? dirname(assertSafeTarget(ctx, options.to)) : ctx.layout.immutableDir;
  await mkdir(scratchParent, { recursive: true });
  const scratch = join(scratchParent, `.tmp-archive-${nonce()}`);
  try {
    const { topDir } = await extractArchive(resolve(archive), scratch);
    const { problems } = await verifySnapshotDir(ctx, topDir);
    if (problems.length) {
      throw new BackupError(`archive ${archive} failed verification: ${problems.slice(0, 5).map((p) => `${p.file}: ${p.problem}`).join('; ')}`);
    }
    const metadata = await readMetadata(topDir);
    const target = targetFor(metadata);
    const result = await restoreFromSource(ctx, target, { dir: topDir, name: metadata.name, metadata }, options);
    return { ...result, mode: result.mode === 'push' ? 'push' : 'archive' };
  } finally {
    await removeTree(scratch).catch(() => undefined);
  }
}
