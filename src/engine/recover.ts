// What a killed or stopped run of a repository leaves behind, cleared by the next writer before it touches anything
// (docs/OPERATIONS.md "Stopping and crashes"). Every writer (init, sync, snapshot, prune, in-place restore) calls
// recoverRepository through repoLocked, with the repository lock held.
import { unlink } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { BackupError } from '../errors.ts';
import { exists } from '../fsutil.ts';
import { entriesOf, present } from '../small-fs.ts';
import { descendantsOf, inspectProcess, isGitProcess, listProcesses, runAlive, stopProcesses, waitGone, type ProcessInfo, type ProcessView } from '../process-tree.ts';
import type { RepoTarget } from '../types.ts';
import type { EngineContext } from './context.ts';
import { removeFetchLeftovers } from './mirror.ts';
import { hydrateLeftoverOf } from './metadata-hydrate.ts';
import { removeDeadScratch } from './scratch.ts';
import { removeTemporaries } from './snapshot.ts';
import { finishInterruptedSwap } from './swap-journal.ts';

/** How long a previous run's git gets to exit on SIGTERM, and then on SIGKILL. */
const ORPHAN_GRACE_MS = 5_000;

/** The directories beside the mirror that belong to this repository: the mirror and its init/restore temporaries. */
function ownsName(target: RepoTarget): (name: string) => boolean {
  const temporary = new RegExp(`^\\.tmp-(init|restore)-${target.name.replace(/[.]/g, '\\.')}-[0-9a-f]{8}$`);
  return (name) => name === `${target.name}.git` || temporary.test(name);
}

export interface GitOnRepo {
  pid: number;
  comm: string;
  dir: string;
  /** Started by a backup run that has since died (killed with SIGKILL, a container's grace period). */
  orphaned: boolean;
}

interface GitSighting extends ProcessInfo {
  view: ProcessView;
}

/** Every live git process that is not ours, with where it works: one pass over /proc. */
function gitSightings(): GitSighting[] {
  const processes = listProcesses();
  const ours = new Set([process.pid, ...descendantsOf(process.pid, processes).map((p) => p.pid)]);
  return processes.filter((p) => !ours.has(p.pid) && p.state !== 'Z' && isGitProcess(p)).map((p) => ({ ...p, view: inspectProcess(p.pid) }));
}

/** git processes, not ours, whose working directory (or GIT_DIR) is inside this repository's directories. */
function gitProcessesOn(ctx: EngineContext, target: RepoTarget, sightings: GitSighting[] = gitSightings()): GitOnRepo[] {
  const parent = dirname(ctx.layout.mirror(target));
  const owns = ownsName(target);
  const found: GitOnRepo[] = [];
  for (const { pid, comm, view } of sightings) {
    const dir = view.dirs.find((d) => {
      const rel = relative(parent, d);
      return rel !== '' && !rel.startsWith('..') && owns(rel.split(sep)[0]!);
    });
    if (dir) found.push({ pid, comm, dir, orphaned: view.run !== null && !runAlive(view.run) });
  }
  return found;
}

// The git processes this engine saw when it first recovered a repository. A dead run's git is among them: it
// was started before this run, and a run that dies later leaves its lock behind, which is then taken over.
const seenAtStart = new WeakMap<EngineContext, GitSighting[]>();

function gitSeenAtStart(ctx: EngineContext): GitSighting[] {
  let seen = seenAtStart.get(ctx);
  if (!seen) seenAtStart.set(ctx, (seen = gitSightings()));
  return seen;
}

/**
 * A previous run killed with SIGKILL leaves its git children running (a fetch still writing its pack). They are
 * stopped, and gone, before anything of the repository is touched. Any other git on the repository (a reader's,
 * a person's) is waited for, bounded: git's lock files may be its own.
 */
async function settleGit(ctx: EngineContext, target: RepoTarget): Promise<{ othersBusy: boolean }> {
  const found = gitProcessesOn(ctx, target);
  const orphans = found.filter((g) => g.orphaned);
  for (const o of orphans) ctx.logger.log('warn', `stopping ${o.comm} (pid ${o.pid}) left working on ${o.dir} by a previous run`);
  const survivors = await stopProcesses(orphans.map((o) => o.pid), ORPHAN_GRACE_MS);
  if (survivors.length) {
    throw new BackupError(`git process(es) ${survivors.join(', ')} of a previous run are still working on ${target.id} and did not stop; nothing was touched`);
  }
  const others = found.filter((g) => !g.orphaned).map((g) => g.pid);
  return { othersBusy: (await waitGone(others, ORPHAN_GRACE_MS)).length > 0 };
}

// git's own lock files: a killed git leaves them, and every later command then fails with "cannot lock ref" or
// "Unable to create '…/packed-refs.lock': File exists".
const LOCK_DIRS = ['refs', 'logs', 'objects/info', 'objects/pack'];

// The look for leftovers runs before every writer of every repository and almost always finds nothing: its reads
// are synchronous (src/small-fs.ts).
function lockFilesIn(dir: string, recursive: boolean): string[] {
  const out: string[] = [];
  for (const entry of entriesOf(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && recursive) out.push(...lockFilesIn(path, true));
    else if (entry.isFile() && entry.name.endsWith('.lock')) out.push(path);
  }
  return out;
}

/** Remove git's *.lock files from the mirror. Only once no git process can still be holding them. */
export async function removeStaleGitLocks(ctx: EngineContext, mirror: string): Promise<string[]> {
  const found = lockFilesIn(mirror, false);
  for (const sub of LOCK_DIRS) found.push(...lockFilesIn(join(mirror, sub), true));
  for (const path of found) {
    await unlink(path).catch(() => undefined);
    ctx.logger.log('warn', `removed stale git lock ${relative(dirname(mirror), path)} left by an interrupted run`);
  }
  return found;
}

// The owner directories (immutable/<owner>/, metadata/<owner>/) hold an entry per repository: read once by an
// engine, as the git processes above are, not once per repository (a run of 1,000 repositories read a million
// names). What an interrupted run left there it left before this run began; a run that dies later leaves its lock
// behind, and the writer that takes the lock over recovers in full (reading the directory afresh).
const ownerDirsAtStart = new WeakMap<EngineContext, Map<string, string[]>>();

function ownerDirAtStart(ctx: EngineContext, dir: string): string[] {
  let listed = ownerDirsAtStart.get(ctx);
  if (!listed) ownerDirsAtStart.set(ctx, (listed = new Map()));
  let names = listed.get(dir);
  if (!names) listed.set(dir, (names = entriesOf(dir).map((e) => e.name).filter((n) => n.startsWith('.'))));
  return names;
}

/** Lock files, a fetch's leftovers, temporaries or a swap journal: what an interrupted run leaves. No git runs. */
function anythingLeft(ctx: EngineContext, target: RepoTarget): boolean {
  const mirror = ctx.layout.mirror(target);
  const owns = ownsName(target);
  const names = (dir: string) => entriesOf(dir).map((e) => e.name);
  if (ownerDirAtStart(ctx, dirname(mirror)).some((n) => n !== basename(mirror) && owns(n))) return true;
  if (names(ctx.layout.snapshotParent(target)).some((n) => n.startsWith('.tmp-'))) return true;
  if (ownerDirAtStart(ctx, dirname(ctx.layout.metadataRepo(target))).some(hydrateLeftoverOf(target))) return true;
  if (present(ctx.layout.swapJournal(target))) return true;
  if (!present(mirror)) return false;
  if (names(join(mirror, 'objects/pack')).some((n) => n.startsWith('tmp_') || n.startsWith('.tmp-'))) return true;
  if (names(join(mirror, 'objects')).some((n) => n.startsWith('incoming-') || n.startsWith('tmp_objdir'))) return true;
  if (lockFilesIn(mirror, false).length) return true;
  for (const sub of LOCK_DIRS) if (lockFilesIn(join(mirror, sub), true).length) return true;
  return false;
}

/**
 * Make the repository whole again after a crash or stop. Call with the repository lock held. Nothing to do, and no
 * pass over /proc, when the lock was free, no git was working on the repository when this engine started, and
 * nothing is left to clean (so no lock file of anyone's could be removed).
 */
export async function recoverRepository(ctx: EngineContext, target: RepoTarget, options: { lockTakenOver?: boolean } = {}): Promise<void> {
  // Scratch directories of restores from the store or an archive whose run is gone (any repository's): one readdir.
  await removeDeadScratch(ctx);
  if (!options.lockTakenOver && gitProcessesOn(ctx, target, gitSeenAtStart(ctx)).length === 0 && !anythingLeft(ctx, target)) return;
  const mirror = ctx.layout.mirror(target);
  const { othersBusy } = await settleGit(ctx, target);
  await finishInterruptedSwap(ctx, target);
  const owns = ownsName(target);
  await removeTemporaries(ctx, dirname(mirror), (name) => name !== basename(mirror) && owns(name));
  if (othersBusy) ctx.logger.log('warn', `another git process is working on ${mirror}: its lock and temporary files are left alone`);
  else if (await exists(mirror)) {
    await removeStaleGitLocks(ctx, mirror);
    await removeFetchLeftovers(ctx, mirror);
  }
  // Snapshots being built (.tmp-<name>-…) and being deleted by prune (.tmp-deleting-…).
  await removeTemporaries(ctx, ctx.layout.snapshotParent(target));
  await removeTemporaries(ctx, dirname(ctx.layout.metadataRepo(target)), hydrateLeftoverOf(target));
}
