// The live mirror under immutable/: creating it and fetching into it.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BackupError, errorMessage } from '../errors.ts';
import { exists, removeTree } from '../fsutil.ts';
import { headRefOf, isAncestor, lsRemote, readRefs, type RemoteRefs } from '../git/repo.ts';
import { diffRefs, isBackedUpRef, movedRefs, suspiciousRefLoss, type RefMap } from '../refs.ts';
import type { RefChanges, RepoTarget } from '../types.ts';
import { throwIfAborted, type EngineContext } from './context.ts';

// Transient failures worth another try; anything else (auth, not found) fails at once.
const TRANSIENT = /could not resolve host|connection (timed out|refused|reset)|early eof|rpc failed|unexpected disconnect|returned error: 5\d\d|timed out|gnutls|ssl|remote end hung up/i;
const MAX_ATTEMPTS = 3;

// git's own words for a token that is missing, expired, revoked or without access to the repository.
const AUTH_FAILURE = /could not read username|authentication failed|returned error: 40[13]|invalid username or password|permission denied \(publickey\)/i;
const NOT_FOUND = /repository not found|returned error: 404|does not appear to be a git repository|not found/i;

/** Say what a failed fetch means for the user, keeping git's words after it. */
export function explainRemoteFailure(target: RepoTarget, message: string): string {
  if (AUTH_FAILURE.test(message)) return `authentication failed for ${target.id}: the token is missing, expired, revoked or cannot read this repository (${message})`;
  if (NOT_FOUND.test(message)) return `${target.id} was not found at ${target.url}, or the token cannot see it (${message})`;
  return message;
}

async function withRetry<T>(ctx: EngineContext, what: string, target: RepoTarget, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      throwIfAborted(ctx); // a stop on request is not the network failing
      if (attempt >= MAX_ATTEMPTS || !TRANSIENT.test(errorMessage(error))) {
        throw new BackupError(explainRemoteFailure(target, errorMessage(error)), undefined, { cause: error });
      }
      const delay = ctx.retryDelayMs(attempt);
      ctx.logger.log('warn', `${what} failed, retrying in ${delay} ms`, { attempt, error: errorMessage(error) });
      await new Promise((resolve) => setTimeout(resolve, delay));
      throwIfAborted(ctx);
    }
  }
}

async function configureMirror(ctx: EngineContext, dir: string, url: string): Promise<void> {
  const set = (key: string, value: string) => ctx.git.run(dir, ['config', key, value]);
  await set('remote.origin.url', url);
  await set('remote.origin.fetch', '+refs/*:refs/*');
  if (!ctx.settings.includePullRefs) await ctx.git.run(dir, ['config', '--add', 'remote.origin.fetch', '^refs/pull/*']);
  await set('remote.origin.mirror', 'true');
  // Nothing may rewrite the mirror behind a snapshot's back (docs/ARCHITECTURE.md invariant 2).
  await set('gc.auto', '0');
  await set('maintenance.auto', 'false');
  await set('fetch.writeCommitGraph', 'false');
  await set('core.logAllRefUpdates', 'false');
  // Every fetch keeps its objects as one pack: a snapshot hard-links one file instead of recreating objects/??/.
  await set('fetch.unpackLimit', '1');
}

function backedUp(ctx: EngineContext, remote: RemoteRefs): RefMap {
  return Object.fromEntries(Object.entries(remote.refs).filter(([name]) => isBackedUpRef(name, ctx.settings.includePullRefs)));
}

/** A daily fetch adds one pack; past this many, small packs are rolled together. */
export const MAX_PACKS = 50;

/**
 * Keep the pack count bounded with a geometric repack: it writes new packs and unlinks redundant ones, never
 * modifying a file in place, so snapshots that hard-link the old packs keep them intact.
 */
async function boundPackCount(ctx: EngineContext, dir: string): Promise<void> {
  const packs = (await readdir(join(dir, 'objects/pack')).catch(() => [] as string[])).filter((n) => n.endsWith('.pack'));
  if (packs.length <= MAX_PACKS) return;
  await ctx.git.run(dir, ['repack', '-d', '--geometric=2', '--quiet', '--no-write-bitmap-index']);
  ctx.logger.log('info', `repacked ${dir}: ${packs.length} packs were more than ${MAX_PACKS}`);
}

/**
 * What an interrupted or failed fetch leaves inside the mirror (a partial tmp_pack, a quarantine directory): git
 * would only clean it in gc, which never runs here. Left alone it holds the space a full disk needs back.
 * Call with the repository lock held.
 */
export async function removeFetchLeftovers(ctx: EngineContext, dir: string): Promise<void> {
  const inPack = (await readdir(join(dir, 'objects/pack')).catch(() => [] as string[])).filter((n) => n.startsWith('tmp_') || n.startsWith('.tmp-'));
  const inObjects = (await readdir(join(dir, 'objects')).catch(() => [] as string[])).filter((n) => n.startsWith('incoming-') || n.startsWith('tmp_objdir'));
  for (const path of [...inPack.map((n) => join(dir, 'objects/pack', n)), ...inObjects.map((n) => join(dir, 'objects', n))]) {
    await removeTree(path);
    ctx.logger.log('warn', `removed ${path} left by a failed or interrupted fetch`);
  }
}

export interface FetchResult {
  changes: RefChanges;
  refs: RefMap;
}

/**
 * Fetch every ref with prune. Refuses (and changes nothing) when upstream lost all or most refs, unless allowed.
 * `--atomic` makes a failed fetch leave every ref as it was.
 */
export async function fetchMirror(ctx: EngineContext, target: RepoTarget, dir: string, allowRefLoss: boolean): Promise<FetchResult> {
  const before = await readRefs(ctx.git, dir);
  const remote = await withRetry(ctx, `ls-remote ${target.id}`, target, () => lsRemote(ctx.git, dir, target.url));
  const upstream = backedUp(ctx, remote);
  const loss = suspiciousRefLoss(before, upstream);
  if (loss) {
    if (!allowRefLoss) {
      throw new BackupError(
        `refusing to sync ${target.id}: ${loss}. The mirror and every snapshot keep their refs. ` +
          'If the deletion is intended, run sync again with --allow-ref-loss.',
      );
    }
    ctx.logger.log('warn', `accepting ref loss for ${target.id}: ${loss}`);
  }
  throwIfAborted(ctx);
  await removeFetchLeftovers(ctx, dir);
  try {
    await withRetry(ctx, `fetch ${target.id}`, target, () =>
      ctx.git.run(
        dir,
        ['fetch', '--prune', '--atomic', '--no-write-fetch-head', '--no-auto-maintenance', '--no-recurse-submodules', '--quiet', 'origin'],
        { auth: true },
      ),
    );
  } catch (error) {
    await removeFetchLeftovers(ctx, dir).catch(() => undefined);
    throw error;
  }
  await boundPackCount(ctx, dir);
  // One packed-refs file instead of a file per ref: a snapshot copies one file, and ref names that are not UTF-8
  // stay bytes inside it instead of file names Node cannot round-trip.
  await ctx.git.run(dir, ['pack-refs', '--all', '--prune']);
  if (remote.headRef && remote.headRef in upstream && remote.headRef !== (await headRefOf(ctx.git, dir))) {
    await ctx.git.run(dir, ['symbolic-ref', 'HEAD', remote.headRef]);
  }
  const after = await readRefs(ctx.git, dir);
  const fastForwarded = new Set<string>();
  for (const { ref, from, to } of movedRefs(before, after)) {
    if (await isAncestor(ctx.git, dir, from, to)) fastForwarded.add(ref);
  }
  return { changes: diffRefs(before, after, fastForwarded), refs: after };
}

/** Create the mirror under a temporary name and rename it into place: a failed init leaves nothing behind. */
export async function initMirror(ctx: EngineContext, target: RepoTarget): Promise<{ created: boolean; dir: string; fetch: FetchResult | null }> {
  const dir = ctx.layout.mirror(target);
  // An init or in-place restore killed mid-way left a temporary directory beside the mirror: the caller's
  // repoLocked has removed it (recover.ts).
  if (await exists(dir)) return { created: false, dir, fetch: null };
  await mkdir(dirname(dir), { recursive: true });
  const tmp = join(dirname(dir), `.tmp-init-${target.name}-${randomBytes(4).toString('hex')}`);
  try {
    // No template: no sample hooks, description or info/exclude to carry into every snapshot.
    await ctx.git.run(dirname(dir), ['init', '--bare', '--quiet', '--template=', '--', tmp]);
    await configureMirror(ctx, tmp, target.url);
    const fetch = await fetchMirror(ctx, target, tmp, false);
    await rename(tmp, dir);
    return { created: true, dir, fetch };
  } catch (error) {
    await removeTree(tmp).catch(() => undefined);
    throw error;
  }
}
