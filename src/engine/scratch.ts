// Scratch directories of restores (docs/OPERATIONS.md "Stopping and crashes"): the snapshot pulled from the store or
// extracted from an archive, checked there before restore builds from it, and the repository `restore --to DIR`
// builds beside DIR before swapping it in. Their names carry the run that made them, so the next run removes those
// of dead runs and never one still in use.
import { randomBytes } from 'node:crypto';
import { link, lstat, mkdir, readdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { removeTree } from '../fsutil.ts';
import { runAlive, runMarker } from '../process-tree.ts';
import type { EngineContext } from './context.ts';

export type ScratchKind = 'store' | 'archive';

// The run marker (src/process-tree.ts) "<pid>:<start time>" as a name part: "<pid>.<start time>", "x" for "?".
const RUN_TAG = String.raw`(?<pid>\d+)\.(?<start>\d+|x)`;
// Under the root's immutable/ (the same file system as the mirrors, so an in-place restore can hard-link from
// them): .tmp-<kind>-<run tag>-<8 hex>, and the extraction's own temporary beside it (`<scratch>.tmp-<hex>`,
// src/archive.ts), renamed to the scratch when whole.
const SCRATCH = new RegExp(String.raw`^\.tmp-(store|archive)-${RUN_TAG}-[0-9a-f]{8}(\.tmp-[0-9a-f]+)?$`);
// Beside a `restore --to` target, outside the root: .<target name>.restore-<run tag>-<8 hex>.
const TARGET_SCRATCH = new RegExp(String.raw`^\..+\.restore-${RUN_TAG}-[0-9a-f]{8}$`);
// What versions before the run tag named it: .<target name>.restore-<8 hex>. Nothing tells whether its run is alive,
// so only its age does: a restore of any version writes its build continuously, then checks it within the repository
// deadline (BACKUP_REPO_TIMEOUT_SECONDS, 6 hours by default); one untouched for a week is no run's any more.
const LEGACY_TARGET_SCRATCH_AGE_MS = 7 * 86_400_000;
// How deep the age looks for the newest change: a build writes objects/pack/ (a checkout .git/objects/pack/).
const LEGACY_SCAN_DEPTH = 3;

function runTag(): string {
  const [pid, start] = runMarker().split(':') as [string, string];
  return `${pid}.${start === '?' ? 'x' : start}`;
}

const suffix = () => `${runTag()}-${randomBytes(4).toString('hex')}`;

/** A new scratch path for this run (not created: pull and extraction create it themselves). */
export async function scratchPath(ctx: EngineContext, kind: ScratchKind): Promise<string> {
  await mkdir(ctx.layout.immutableDir, { recursive: true });
  return join(ctx.layout.immutableDir, `.tmp-${kind}-${suffix()}`);
}

/**
 * Whether `file` (in a scratch directory) can be hard-linked beside `target`: the same file system, and one that has
 * hard links. Tried with a link of our own, removed at once (named like this run's scratch there, so a kill in
 * between leaves nothing the next restore keeps).
 */
export async function hardLinksBeside(file: string, target: string): Promise<boolean> {
  const probe = targetScratchPath(target);
  try {
    await mkdir(dirname(target), { recursive: true });
    await link(file, probe);
    return true;
  } catch {
    return false;
  } finally {
    await rm(probe, { force: true });
  }
}

/** Where `restore --to target` builds the repository for this run: beside the target, on its file system. */
export function targetScratchPath(target: string): string {
  return join(dirname(target), `.${basename(target)}.restore-${suffix()}`);
}

/** Remove the entries of `dir` that `pattern` names and whose run is gone. Returns their names. */
async function removeDead(ctx: EngineContext, dir: string, pattern: RegExp): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const run = pattern.exec(name)?.groups;
    if (!run || runAlive(`${run.pid}:${run.start === 'x' ? '?' : run.start}`)) continue;
    await removeTree(join(dir, name));
    ctx.logger.log('warn', `removed ${join(dir, name)}, the scratch directory of an interrupted restore`);
    removed.push(name);
  }
  return removed;
}

/** Remove the scratch directories runs that are gone left in the root (a kill -9, a power cut). Returns their names. */
export function removeDeadScratch(ctx: EngineContext): Promise<string[]> {
  return removeDead(ctx, ctx.layout.immutableDir, SCRATCH);
}

/** The newest modification time of `dir` and the directories below it, `depth` levels down (symbolic links not followed). */
async function newestChangeMs(dir: string, depth: number): Promise<number> {
  let newest = (await lstat(dir)).mtimeMs;
  if (depth === 0) return newest;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) newest = Math.max(newest, await newestChangeMs(join(dir, entry.name), depth - 1));
  }
  return newest;
}

/**
 * Remove the scratch an earlier version's killed `restore --to target` left beside this target (named without a
 * run, so judged by age: LEGACY_TARGET_SCRATCH_AGE_MS); a younger one is left alone and reported. Returns the
 * names removed.
 */
async function removeLegacyTargetScratch(ctx: EngineContext, target: string): Promise<string[]> {
  const prefix = `.${basename(target)}.restore-`;
  const isLegacy = (name: string) => name.startsWith(prefix) && /^[0-9a-f]{8}$/.test(name.slice(prefix.length));
  const removed: string[] = [];
  for (const name of (await readdir(dirname(target)).catch(() => [] as string[])).filter(isLegacy)) {
    const dir = join(dirname(target), name);
    const changed = await newestChangeMs(dir, LEGACY_SCAN_DEPTH).catch(() => null);
    if (changed === null) continue;
    if (ctx.clock().getTime() - changed < LEGACY_TARGET_SCRATCH_AGE_MS) {
      ctx.logger.log('warn', `left ${dir}: an earlier version's restore built it, changed less than 7 days ago; remove it by hand once no restore runs`);
      continue;
    }
    await removeTree(dir);
    ctx.logger.log('warn', `removed ${dir}, the scratch directory of an interrupted restore of an earlier version`);
    removed.push(name);
  }
  return removed;
}

/**
 * The same beside a `restore --to` target: what killed restores to any directory there left, and what an earlier
 * version's killed restore to this target left, once it is a week old.
 */
export async function removeDeadTargetScratch(ctx: EngineContext, target: string): Promise<string[]> {
  return [...(await removeDead(ctx, dirname(target), TARGET_SCRATCH)), ...(await removeLegacyTargetScratch(ctx, target))];
}
