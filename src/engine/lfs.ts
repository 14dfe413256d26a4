// LFS objects into the mirror after its fetch: `git lfs fetch --all` from GitHub's own LFS endpoint of the
// repository, never from one a `.lfsconfig` in it names (docs/OPERATIONS.md "LFS objects"): of the history new since
// the last successful fetch, or of every ref's whole history the first time and whenever that is unknown
// (src/lfs-scope.ts). The objects land in lfs/objects/, which snapshots hard-link like pack files
// (src/snapshot-files.ts).
import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { captures } from '../capture-switches.ts';
import { BackupError, errorMessage } from '../errors.ts';
import { removeTree, walkFiles } from '../fsutil.ts';
import { lfsFetchConfig } from '../git/config-template.ts';
import { bringsLfsPointers } from '../git/lfs-pointers.ts';
import { lfsEndpointOf, lfsOidOf } from '../lfs.ts';
import { lfsFetchArgs, lfsFetchScope } from '../lfs-scope.ts';
import type { RefMap } from '../refs.ts';
import type { LfsFetchSummary, RepoTarget } from '../types.ts';
import { wikiParentOf } from '../wiki.ts';
import type { EngineContext } from './context.ts';
import { explainRemoteFailure } from './remote-failure.ts';

/**
 * What the last LFS step saw: the digest of the refs, their tips, whether any history up to them had LFS pointers,
 * and how many LFS objects the mirror then held. The next step reads only the history since those tips.
 */
const lfsStateSchema = z.object({ refs: z.string(), tips: z.array(z.string()), pointers: z.boolean(), objects: z.number().int().nonnegative().optional(), at: z.string() });
type LfsState = z.infer<typeof lfsStateSchema>;

/** One digest of every ref and its object id: equal digests, equal refs. */
function refsDigest(refs: RefMap): string {
  const lines = Object.keys(refs).sort().map((ref) => `${refs[ref]} ${ref}\n`);
  return createHash('sha256').update(lines.join('')).digest('hex');
}

/** The LFS objects a repository directory holds: how many, and their bytes. */
export async function countLfsObjects(dir: string): Promise<{ objects: number; bytes: number }> {
  const files = await walkFiles(join(dir, 'lfs/objects')).catch(() => []);
  const objects = files.filter((f) => lfsOidOf(`lfs/objects/${f.rel}`));
  return { objects: objects.length, bytes: objects.reduce((sum, f) => sum + f.size, 0) };
}

async function readLfsState(ctx: EngineContext, target: RepoTarget): Promise<LfsState | null> {
  try {
    const parsed = lfsStateSchema.safeParse(JSON.parse(await readFile(ctx.layout.lfsFetchState(target), 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

async function recordLfsState(ctx: EngineContext, target: RepoTarget, state: Omit<LfsState, 'at'>): Promise<void> {
  const file = ctx.layout.lfsFetchState(target);
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, `${JSON.stringify({ ...state, at: ctx.clock().toISOString() })}\n`);
  await rename(tmp, file);
}

/**
 * Whether git-lfs must run: yes once the repository has had LFS content; otherwise only when the history new since
 * the last step (all of it, the first time) brings a pointer. A history too large to read is left to git-lfs.
 */
async function mayHaveLfs(ctx: EngineContext, dir: string, tips: string[], state: LfsState | null, objects: number): Promise<boolean> {
  if (objects > 0 || state?.pointers) return true;
  try {
    return (await bringsLfsPointers(ctx.git, dir, tips, state?.tips ?? [])) !== false;
  } catch (error) {
    // An old tip gone from the mirror, a git without rev-list's combined filters: git-lfs scans instead.
    ctx.logger.log('warn', `could not read the new history of ${dir} for LFS pointers; git-lfs scans it`, { error: errorMessage(error) });
    return true;
  }
}

/** More tips than this are not reduced with merge-base (its arguments are a command line). */
const MAX_REDUCED_TIPS = 5000;

/**
 * The last fetch's tips worth excluding: those the mirror holds (one may be gone since: pruned, or never packed
 * here), less those another one reaches (`merge-base --independent`: tags along main, merged branches), so a
 * repository with many refs names few. A tip that is no commit (a tag of a tree) keeps them all, unreduced.
 */
async function exclusions(ctx: EngineContext, dir: string, oids: readonly string[]): Promise<string[]> {
  if (!oids.length) return [];
  const out = await ctx.git.run(dir, ['cat-file', '--batch-check=%(objectname)'], { input: Buffer.from(`${oids.join('\n')}\n`) });
  // A missing one answers "<oid> missing", which is not a bare object id.
  const held = out.split('\n').filter((line) => /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(line));
  if (held.length < 2 || held.length > MAX_REDUCED_TIPS) return held;
  try {
    return (await ctx.git.run(dir, ['merge-base', '--independent', ...held])).split('\n').filter(Boolean);
  } catch {
    return held;
  }
}

/**
 * On an unexpected error git-lfs writes a log into lfs/logs/ with every GIT_* variable in it (its logPanic):
 * GIT_CONFIG_PARAMETERS, and so the token's header (docs/ARCHITECTURE.md invariant 8). A file in that place makes
 * it write the log to stderr instead, which the executor redacts and withoutLfsLog() cuts off. (lfs/logs is never
 * snapshotted either.)
 */
export async function blockLfsLogs(dir: string): Promise<void> {
  const logs = join(dir, 'lfs/logs');
  if ((await lstat(logs).catch(() => null))?.isFile()) return;
  await removeTree(logs);
  await mkdir(dirname(logs), { recursive: true });
  await writeFile(logs, '', { mode: 0o444 });
}

/** git's failure message up to where git-lfs starts dumping its log (version, command, environment). */
export function withoutLfsLog(message: string): string {
  const cut = message.search(/\n\s*Unable to log panic to/);
  return cut < 0 ? message : message.slice(0, cut);
}

export interface LfsStep {
  summary: LfsFetchSummary;
  /** The fetch failed: the git data is still snapshotted, then the sync fails with this. */
  failure?: BackupError;
}

/**
 * Fetch the LFS objects every ref's history points to, for a GitHub repository (not a wiki) with `lfs` on; null
 * otherwise. Nothing runs for refs equal to those of the last step, nor for a history that has no LFS pointer;
 * after a successful fetch, the next reads only the history new since its tips.
 */
export async function fetchLfsObjects(ctx: EngineContext, target: RepoTarget, dir: string, refs: RefMap): Promise<LfsStep | null> {
  const endpoint = captures(target, 'lfs', ctx.serverUrl) && !wikiParentOf(target, ctx.serverUrl) ? lfsEndpointOf(target, ctx.serverUrl) : null;
  if (!endpoint) return null;
  const digest = refsDigest(refs);
  const tips = [...new Set(Object.values(refs))].sort();
  const before = await countLfsObjects(dir);
  const state = await readLfsState(ctx, target);
  const unchanged = { summary: { fetched: false, newObjects: 0, ...before } };
  if (state?.refs === digest) return unchanged;
  if (!(await mayHaveLfs(ctx, dir, tips, state, before.objects))) {
    await recordLfsState(ctx, target, { refs: digest, tips, pointers: false, objects: before.objects });
    return unchanged;
  }
  const scope = await lfsFetchScope(state, tips, before.objects, (lastTips) => exclusions(ctx, dir, lastTips));
  if (!scope.whole && !scope.tips.length) {
    // No tip is new (refs deleted, or moved back to a tip read before): no history to read.
    await recordLfsState(ctx, target, { refs: digest, tips, pointers: Boolean(state?.pointers) || before.objects > 0, objects: before.objects });
    return unchanged;
  }
  const settings = lfsFetchConfig(endpoint).flatMap(([key, value]) => ['-c', `${key}=${value}`]);
  await blockLfsLogs(dir);
  let failure: BackupError | undefined;
  let skipped: string | undefined;
  try {
    // --all: the whole history of the tips named (every ref when none is), less what the ^tips reach.
    // The token as git sends it: a header scoped to the GitHub server (src/git/git.ts), so to its LFS endpoint too.
    await ctx.git.run(dir, [...settings, 'lfs', 'fetch', ...lfsFetchArgs(scope)], { auth: true });
  } catch (error) {
    if (/'lfs' is not a git command/.test(errorMessage(error))) {
      skipped = 'git-lfs is not installed: LFS objects are not kept (install git-lfs, or set metadata: { lfs: false })';
      ctx.logger.log('warn', `${target.id}: ${skipped}`);
    } else failure = explainRemoteFailure(ctx, target, new BackupError(withoutLfsLog(errorMessage(error))));
  }
  const after = await countLfsObjects(dir);
  const summary: LfsFetchSummary = { fetched: !failure && !skipped, newObjects: after.objects - before.objects, ...after, ...(skipped ? { skipped } : {}) };
  if (summary.fetched) {
    // A successful fetch that brought no object saw no pointer either (or it would have fetched or failed).
    await recordLfsState(ctx, target, { refs: digest, tips, pointers: after.objects > 0, objects: after.objects });
    const history = scope.whole ? `whole (${scope.why})` : `new since the last fetch (${scope.tips.length} new tips, ${scope.since.length} excluded)`;
    ctx.logger.log('info', `${target.id}: LFS objects fetched`, { history, new: summary.newObjects, objects: after.objects, bytes: after.bytes });
  }
  return { summary, ...(failure ? { failure } : {}) };
}
