// restore: a snapshot (or an archive) back into the live mirror, into a directory, or pushed to a new remote.
// The result is built beside its target, verified, then swapped in; whatever it replaces is kept (invariant 7).
import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { extractArchive } from '../archive.ts';
import { BackupError, UsageError } from '../errors.ts';
import { exists, isEmptyDir, removeTree } from '../fsutil.ts';
import { Layout } from '../layout.ts';
import { mirrorConfig, renderConfig, restoredConfig, snapshotConfig } from '../git/config-template.ts';
import { fsck, headCommit, lsRemote, readRefs } from '../git/repo.ts';
import { validateRemoteUrl } from '../git/url.ts';
import { refsAsRecorded, type SnapshotMetadata } from '../metadata.ts';
import { snapshotName } from '../naming.ts';
import { stripCredentials } from '../redact.ts';
import { sameRefs } from '../refs.ts';
import type { RepoTarget, RestoreRepoResult } from '../types.ts';
import type { RestoreOptions } from './api.ts';
import type { EngineContext } from './context.ts';
import { planLfsPush, pushLfsObjects, type LfsPushPlan } from './lfs-push.ts';
import { materialize } from './materialize.ts';
import { snapshotRef, type SnapshotRef } from '../snapshot-ref.ts';
import { localSnapshotRef } from './snapshot-ref.ts';
import { reportPhase, transferReporter } from './progress.ts';
import { explainRemoteFailure } from './remote-failure.ts';
import { pinReplacedMirror } from './replaced-mirror.ts';
import { removeDeadScratch, removeDeadTargetScratch, scratchPath, targetScratchPath } from './scratch.ts';
import { repoLocked } from './sync.ts';
import { journaledSwap } from './swap-journal.ts';
import { whileReading } from './readers.ts';
import { assertSafeStructure, checkSnapshotStructure, describeForeignConfig, type SnapshotStructure } from './structure.ts';
import { checkRecordedFiles, resolveSnapshotName } from './verify.ts';
import { borrowedObjects, checkAgainstRecord, type RestoreVerifyMode } from './restore-check.ts';

// What a new remote gets: branches, tags and notes. GitHub refuses hidden refs such as refs/pull/*.
const PUSH_REFSPECS = ['refs/heads/*:refs/heads/*', 'refs/tags/*:refs/tags/*', 'refs/notes/*:refs/notes/*'];
const PUSHED = /^refs\/(heads|tags|notes)\//;

const stamp = (ctx: EngineContext) => snapshotName(ctx.clock()).slice('snapshot-'.length);
const nonce = () => randomBytes(4).toString('hex');

/**
 * What a snapshot is rebuilt as. Each gets a config of ours; the snapshot's own never reaches git
 * (docs/OPERATIONS.md, "What git is allowed to read").
 * - mirror: the live mirror (restore in place), object files shared with the snapshot;
 * - copy: restore --to, bare or with a work tree, sharing nothing with the backup and with no remote;
 * - scratch: a throwaway repository borrowing the snapshot's objects, for git to read the snapshot through.
 */
type Build = { as: 'mirror'; url: string } | { as: 'copy'; checkout: boolean } | { as: 'scratch' };

function configFor(ctx: EngineContext, build: Build): string {
  if (build.as === 'mirror') return renderConfig(mirrorConfig({ url: build.url, includePullRefs: ctx.settings.includePullRefs }));
  if (build.as === 'copy') return renderConfig(restoredConfig({ bare: !build.checkout }));
  return renderConfig(snapshotConfig());
}

/**
 * A repository built from the snapshot at `tmp`, checked before anything is swapped in (restore-check.ts): every
 * file against its recorded sha256, git fsck (connectivity only unless `verify` is full), the refs against the
 * recorded ones.
 */
async function buildRepository(ctx: EngineContext, source: Source, tmp: string, build: Build, verify: RestoreVerifyMode): Promise<void> {
  if (source.dir === null) throw new BackupError(`${source.ref.name}: only its record is here, nothing to build a repository from`);
  const checkout = build.as === 'copy' && build.checkout;
  const objects = build.as === 'mirror' || (build.as === 'copy' && source.ownScratch) ? 'link' : build.as === 'copy' ? 'copy' : 'borrow';
  const laid = await materialize(source.dir, checkout ? join(tmp, '.git') : tmp, { objects, config: configFor(ctx, build), copyMode: 0o644, fsync: false });
  const built = [...laid.map((f) => ({ rel: f.rel, path: f.dest, size: f.size })), ...(objects === 'borrow' ? await borrowedObjects(source.dir) : [])];
  const damaged = await checkAgainstRecord(built, source.metadata);
  if (damaged.length) {
    const shown = damaged.slice(0, 5).map((p) => `${p.file}: ${p.problem}`);
    throw new BackupError(`restored repository does not match snapshot.json: ${shown.join('; ')}${damaged.length > 5 ? ` (and ${damaged.length - 5} more)` : ''}; run verify on ${source.ref.name}`);
  }
  const problems = await fsck(ctx.git, tmp, verify);
  if (problems.length) throw new BackupError(`restored repository failed git fsck${verify === 'full' ? '' : ' --connectivity-only'}: ${problems.join('; ')}`);
  if (!sameRefs(refsAsRecorded(await readRefs(ctx.git, tmp), source.metadata.format), source.metadata.refs)) throw new BackupError('restored repository refs differ from the snapshot\'s recorded refs');
  // Every ref (notes included) is already there; the work tree is written from the checked objects.
  if (checkout && (await headCommit(ctx.git, tmp))) await ctx.git.run(tmp, ['reset', '--hard', '--quiet']);
}

/**
 * Rules in the user's git config that would send a push or ls-remote of `remote` somewhere else
 * (url.<base>.insteadOf / pushInsteadOf). Read in a repository whose own config is ours. (Error text goes through
 * the redactor, which drops any user:password@ in these URLs.)
 */
async function urlRewritesOf(ctx: EngineContext, repo: string, remote: string): Promise<string[]> {
  const out = await ctx.git.run(repo, ['config', '--null', '--get-regexp', '^url\\..*\\.(push)?insteadof$'], { okExitCodes: [1] });
  const rules: string[] = [];
  for (const entry of out.split('\0')) {
    const newline = entry.indexOf('\n');
    if (newline < 0) continue;
    const [key, prefix] = [entry.slice(0, newline), entry.slice(newline + 1)];
    if (prefix !== '' && remote.startsWith(prefix)) rules.push(`${key} = ${prefix}`);
  }
  return rules;
}

/** Push the snapshot's branches, tags and notes to `remote`, through a scratch repository so git reads our config. */
async function pushSnapshot(ctx: EngineContext, target: RepoTarget, source: Source, remote: string, options: RestoreOptions): Promise<{ refs: number; lfs: LfsPushPlan | null }> {
  const scratch = await mkdtemp(join(tmpdir(), 'gpb-push-'));
  try {
    const repo = join(scratch, 'repo.git');
    // A dry run from the store has only the snapshot's record: an empty repository with our config answers what
    // the dry run asks (where the push would go, whether the remote is empty).
    if (source.dir === null && options.dryRun) {
      await ctx.git.run(scratch, ['init', '--bare', '--quiet', repo]);
      await writeFile(join(repo, 'config'), configFor(ctx, { as: 'scratch' }));
    } else {
      await buildRepository(ctx, source, repo, { as: 'scratch' }, options.verify ?? 'connectivity');
    }
    const rewrites = await urlRewritesOf(ctx, repo, remote);
    if (rewrites.length) {
      throw new UsageError(
        `refusing to push to ${stripCredentials(remote)}: your git config sends it elsewhere (${rewrites.join('; ')}). ` +
          'Name the URL you mean to push to, or remove that rule.',
      );
    }
    // A refused push is exit 12 and a missing remote 10, as for a fetch (remote-failure.ts).
    const remoteCall = <T>(call: Promise<T>) => call.catch((error: unknown) => Promise.reject(explainRemoteFailure(ctx, { ...target, url: stripCredentials(remote) }, error)));
    const existing = Object.keys((await remoteCall(lsRemote(ctx.git, repo, remote))).refs).length;
    if (existing > 0 && !options.force) {
      throw new UsageError(`refusing to push to ${stripCredentials(remote)}: it already has ${existing} ref(s). Push to a new, empty repository, or pass --force to overwrite.`);
    }
    const pushed = Object.keys(source.metadata.refs).filter((r) => PUSHED.test(r)).length;
    const lfs = source.dir === null ? null : await planLfsPush(ctx, target, source.dir, remote);
    if (!options.dryRun) {
      if (lfs) {
        reportPhase(ctx, target, 'pushing LFS objects', lfs.endpoint);
        await pushLfsObjects(ctx, target, repo, lfs, remote);
      }
      reportPhase(ctx, target, 'pushing to remote', stripCredentials(remote));
      const progress = transferReporter(ctx, target);
      await remoteCall(ctx.git.run(repo, ['push', '--porcelain', ...(options.force ? ['--force'] : []), '--', remote, ...PUSH_REFSPECS], { auth: true, progress }));
      ctx.logger.log('info', `pushed ${target.id} ${source.ref.name} to ${stripCredentials(remote)}`, { refs: pushed });
    }
    return { refs: pushed, lfs };
  } finally {
    await removeTree(scratch).catch(() => undefined);
  }
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
  /** Where the snapshot's files are now (for an archive or the store, a scratch directory); null for a dry run that
   * has only the snapshot's record (restore --from-store). */
  dir: string | null;
  metadata: SnapshotMetadata;
  /** The snapshot, as the result names it. */
  ref: SnapshotRef;
  /**
   * `dir` is this restore's own scratch copy (pulled from the store), removed when it ends, and a hard link from it
   * reaches the target's file system: a copy then takes its object files by hard link, and has them alone once the
   * scratch is gone (src/engine/store-restore.ts).
   */
  ownScratch?: boolean;
}

/** The snapshot at `dir` as a restore source: refused unless it passes its structural checks. */
export async function checkedSource(
  ctx: EngineContext,
  dir: string,
  what: string,
  refOf: (metadata: SnapshotMetadata) => SnapshotRef | Promise<SnapshotRef>,
): Promise<{ source: Source; structure: SnapshotStructure }> {
  const structure = await checkSnapshotStructure(dir);
  const metadata = assertSafeStructure(structure, what);
  if (structure.foreignConfig.length) {
    ctx.logger.log('warn', `${what}: the snapshot's config is not one this tool writes and is not used: ${describeForeignConfig(structure)}`);
  }
  return { source: { dir, metadata, ref: await refOf(metadata) }, structure };
}

export async function restoreFromSource(ctx: EngineContext, target: RepoTarget, source: Source, options: RestoreOptions): Promise<RestoreRepoResult> {
  const base = { repo: target.id, snapshot: source.ref, dryRun: Boolean(options.dryRun), sourceUrl: stripCredentials(source.metadata.sourceUrl) };
  const refCount = Object.keys(source.metadata.refs).length;
  if (!options.dryRun) reportPhase(ctx, target, 'restoring', source.ref.name);

  if (options.push) {
    const remote = validateRemoteUrl(options.push).url;
    const pushed = await pushSnapshot(ctx, target, source, remote, options);
    return {
      ...base,
      mode: 'push',
      target: stripCredentials(remote),
      keptPrevious: null,
      refsRestored: pushed.refs,
      remote: null,
      ...(pushed.lfs ? { lfs: { objects: pushed.lfs.objects, bytes: pushed.lfs.bytes } } : {}),
    };
  }

  if (options.to) {
    const dir = assertSafeTarget(ctx, options.to);
    if (!(await isEmptyDir(dir)) && !options.force) {
      throw new UsageError(`refusing to restore into ${dir}: it is not empty (pass --force to replace it; the old content is kept beside it)`);
    }
    if (options.dryRun) return { ...base, mode: 'to-dir', target: dir, keptPrevious: null, refsRestored: refCount, remote: null };
    await mkdir(dirname(dir), { recursive: true });
    await removeDeadTargetScratch(ctx, dir);
    const tmp = targetScratchPath(dir);
    try {
      // A restored repository is the user's to change: copy everything, share nothing with the backup.
      await buildRepository(ctx, source, tmp, { as: 'copy', checkout: Boolean(options.checkout) }, options.verify ?? 'connectivity');
      const kept = await swapIn(ctx, tmp, dir);
      ctx.logger.log('info', `restored ${target.id} ${source.ref.name} to ${dir} (no remote configured)`, { kept });
      return { ...base, mode: 'to-dir', target: dir, keptPrevious: kept, refsRestored: refCount, remote: null };
    } catch (error) {
      await removeTree(tmp).catch(() => undefined);
      throw error;
    }
  }

  if (options.checkout) throw new UsageError('--checkout needs --to DIR (the live mirror is always bare)');
  const mirror = ctx.layout.mirror(target);
  const url = stripCredentials(target.url);
  if (options.dryRun) return { ...base, mode: 'in-place', target: mirror, keptPrevious: null, refsRestored: refCount, remote: url };
  return repoLocked(ctx, target, 'restore', async () => {
    await mkdir(dirname(mirror), { recursive: true });
    const tmp = join(dirname(mirror), `.tmp-restore-${target.name}-${nonce()}`);
    try {
      // Object files never change in place, so the restored mirror may share them with the snapshot. Its config is
      // the one a new mirror of the configured source gets.
      await buildRepository(ctx, source, tmp, { as: 'mirror', url: target.url }, options.verify ?? 'connectivity');
      // Journaled: a crash between moving the mirror aside and moving this one in is finished by the next run.
      const moved = await journaledSwap(ctx, target, tmp, `${mirror}.replaced-${stamp(ctx)}-${nonce()}`);
      const kept = moved ? await pinReplacedMirror(ctx, target, moved, source.ref.name) : null;
      ctx.logger.log('info', `restored ${target.id} ${source.ref.name} in place`, { kept: kept?.path ?? null });
      const keptAs = kept?.snapshot ? { keptAs: { snapshot: kept.snapshot, reason: kept.reason! } } : {};
      return { ...base, mode: 'in-place', target: mirror, keptPrevious: kept?.path ?? null, ...keptAs, refsRestored: refCount, remote: url };
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
    const { source } = await checkedSource(ctx, dir, `restore ${target.id} ${name}`, (metadata) => localSnapshotRef(ctx, target, name, metadata.createdAt));
    return restoreFromSource(ctx, target, source, options);
  });
}

/**
 * Restore from an archive written by export: extract beside where it is going, check it like a snapshot (structure
 * and every checksum; git checks run on what is built from it), then restore it as one. The repository comes from
 * the archive's own snapshot.json.
 */
export async function restoreFromArchive(ctx: EngineContext, archive: string, options: RestoreOptions, targetFor: (metadata: SnapshotMetadata) => RepoTarget): Promise<RestoreRepoResult> {
  if (options.to) assertSafeTarget(ctx, options.to);
  // What a killed restore left is removed first; ours is named for this run (src/engine/scratch.ts).
  await removeDeadScratch(ctx);
  const scratch = await scratchPath(ctx, 'archive');
  try {
    const { topDir } = await extractArchive(resolve(archive), scratch);
    const { source, structure } = await checkedSource(ctx, topDir, `restore from ${archive}`, (m) => snapshotRef(targetFor(m).id, m.name, resolve(archive), m.createdAt));
    const { problems } = await checkRecordedFiles(structure.files, source.metadata);
    if (problems.length) {
      throw new BackupError(`archive ${archive} failed verification: ${problems.slice(0, 5).map((p) => `${p.file}: ${p.problem}`).join('; ')}`);
    }
    const result = await restoreFromSource(ctx, targetFor(source.metadata), source, options);
    return { ...result, mode: result.mode === 'push' ? 'push' : 'archive' };
  } finally {
    await removeTree(scratch).catch(() => undefined);
  }
}
