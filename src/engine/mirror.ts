// The live mirror under immutable/: fetching into it (init-mirror.ts creates a new one).
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BackupError, errorMessage } from '../errors.ts';
import { removeTree } from '../fsutil.ts';
import { mirrorConfig, renderConfig } from '../git/config-template.ts';
import { isAncestor, lsRemote, readRefs, readRefsAndHead, updateRefs, type RefUpdate } from '../git/repo.ts';
import type { SnapshotMetadata } from '../metadata.ts';
import { stripCredentials } from '../redact.ts';
import { diffRefs, hasDirectoryConflict, isBackedUpRef, isPlainRefKey, isStagingRef, movedRefs, STAGING_PREFIX, suspiciousRefLoss, type RefKey, type RefMap } from '../refs.ts';
import type { RefChanges, RepoTarget } from '../types.ts';
import { judgeIdentity, lookUpGitHubIdentity, type GitHubIdentity } from './identity.ts';
import { throwIfAborted, type EngineContext } from './context.ts';
import { explainRemoteFailure } from './remote-failure.ts';
import { reportPhase, transferReporter } from './progress.ts';

// Transient failures worth another try; anything else (auth, not found) fails at once.
const TRANSIENT = /could not resolve host|operation too slow|connection (timed out|refused|reset)|early eof|rpc failed|unexpected disconnect|returned error: 5\d\d|timed out|gnutls|ssl|remote end hung up/i;
const MAX_ATTEMPTS = 3;

async function withRetry<T>(ctx: EngineContext, what: string, target: RepoTarget, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      throwIfAborted(ctx); // a stop on request is not the network failing
      if (attempt >= MAX_ATTEMPTS || !TRANSIENT.test(errorMessage(error))) throw explainRemoteFailure(ctx, target, error, attempt);
      const delay = ctx.retryDelayMs(attempt);
      ctx.logger.log('warn', `${what} failed, retrying in ${delay} ms`, { attempt, error: errorMessage(error) });
      await new Promise((resolve) => setTimeout(resolve, delay));
      throwIfAborted(ctx);
    }
  }
}

/** The mirror's whole config, written from our template in one go (nothing of git init's is kept; src/small-fs.ts). */
export function configureMirror(ctx: EngineContext, dir: string, url: string): void {
  writeFileSync(join(dir, 'config'), renderConfig(mirrorConfig({ url, includePullRefs: ctx.settings.includePullRefs })));
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
  /** Where the refs came from, for snapshot.json (its root commits are completed by the snapshot). */
  source: FetchedSource;
}

export interface FetchedSource {
  url: string;
  github: GitHubIdentity | null;
  /** Root commits among the commits this fetch brought; null when not walked (then the snapshot walks them all). */
  newRoots: string[] | null;
  /** A new identity was accepted: earlier root commits no longer describe the upstream. */
  identityReset: boolean;
}

export interface FetchOptions {
  /** Accept an upstream that lost all or most of its refs. */
  allowRefLoss?: boolean;
  /** Accept an upstream that is another repository (another GitHub id, or an unrelated history). */
  acceptNewIdentity?: boolean;
  /** The newest snapshot's record: a baseline for both guards, also when the mirror itself is empty. */
  previous?: SnapshotMetadata | null;
  /** GitHub's answer to who the target is, when already asked in this run. */
  github?: Promise<GitHubIdentity | null>;
}

const backedUp = (ctx: EngineContext, refs: RefMap): RefMap =>
  Object.fromEntries(Object.entries(refs).filter(([name]) => isBackedUpRef(name, ctx.settings.includePullRefs)));

async function packFiles(dir: string): Promise<Set<string>> {
  return new Set(await readdir(join(dir, 'objects/pack')).catch(() => [] as string[]));
}

/** A refused fetch's pack holds only objects no ref points to (an impostor's history): give the space back. */
async function discardNewPacks(ctx: EngineContext, dir: string, before: Set<string>): Promise<void> {
  for (const name of await packFiles(dir)) {
    if (!before.has(name) && name.startsWith('pack-')) await removeTree(join(dir, 'objects/pack', name));
  }
  ctx.logger.log('info', `discarded what the refused fetch brought into ${dir}`);
}

/**
 * Drop every staging ref (this run's and any a killed run left). They are loose files under
 * refs/backup-manager-staging/, written by a fetch and never packed by us: removing the directory is what git would
 * do ref by ref, minus a lock file each (2 s for 20,000 refs). Any that something else packed go through git.
 * Call with the repository lock held.
 */
export async function dropStagingRefs(ctx: EngineContext, dir: string): Promise<void> {
  await rm(join(dir, STAGING_PREFIX), { recursive: true, force: true });
  await rm(join(dir, 'logs', STAGING_PREFIX), { recursive: true, force: true });
  const packed = await readFile(join(dir, 'packed-refs')).catch(() => Buffer.alloc(0));
  if (!packed.includes(STAGING_PREFIX)) return;
  const left = await readRefs(ctx.git, dir, [STAGING_PREFIX]);
  await updateRefs(ctx.git, dir, Object.entries(left).map(([ref, from]): RefUpdate => ({ op: 'delete', ref, from })));
}

/** The mirror's own refs, and this run's staged ones (other staging refs are a killed run's: dropped with ours). */
function splitStaged(all: RefMap, stage: string): { before: RefMap; staged: RefMap; stagedHead: string | null } {
  const before: RefMap = {};
  const staged: RefMap = {};
  let stagedHead: string | null = null;
  for (const [key, oid] of Object.entries(all)) {
    if (!isStagingRef(key)) before[key] = oid;
    else if (key.startsWith(stage)) {
      const name = key.slice(stage.length);
      if (name === 'HEAD') stagedHead = oid;
      else staged[name] = oid;
    }
  }
  return { before, staged, stagedHead };
}

/**
 * What a fetch asks for: every ref (pull refs only when asked), none under our staging namespace, into `into`
 * (`refs/*` or a staging namespace's), and HEAD's commit as `<stage>HEAD` (a glob, so an empty or unborn HEAD is
 * no error).
 */
export function upstreamRefspecs(ctx: EngineContext, into: string, stage: string): string[] {
  return [`+refs/*:${into}`, `^${STAGING_PREFIX}*`, ...(ctx.settings.includePullRefs ? [] : ['^refs/pull/*']), `+HEAD*:${stage}HEAD*`];
}

/** One `git fetch` of `refspecs` from the configured URL, retried on transient failures (docs/OPERATIONS.md "Sync"). */
export async function fetchRefspecs(ctx: EngineContext, target: RepoTarget, dir: string, refspecs: string[]): Promise<void> {
  reportPhase(ctx, target, 'fetching');
  // Watched on a terminal, git reports its transfer (and --quiet would silence that); otherwise it runs quietly.
  const progress = transferReporter(ctx, target);
  // By URL, not by remote name: the configured URL is the truth, and no remote.origin.* setting applies.
  await withRetry(ctx, `fetch ${target.id}`, target, () =>
    ctx.git.run(
      dir,
      ['fetch', '--no-prune', '--no-tags', '--no-write-fetch-head', '--no-auto-maintenance', '--no-recurse-submodules', '--no-show-forced-updates', ...(progress ? [] : ['--quiet']), '--', target.url, ...refspecs],
      { auth: true, progress },
    ),
  );
}

/**
 * Fetch every ref without touching the mirror's own refs: into a staging namespace unique to this run
 * (docs/OPERATIONS.md "Sync"). The guards judge exactly what this fetch brought, against the mirror and the newest
 * snapshot: an upstream that lost all or most refs, or that is another repository, changes nothing unless
 * allowed. Then adds, updates and deletes reach the real refs in ONE transaction, and the staging refs are dropped.
 */
export async function fetchMirror(ctx: EngineContext, target: RepoTarget, dir: string, options: FetchOptions = {}): Promise<FetchResult> {
  const previous = options.previous ?? null;
  const stage = `${STAGING_PREFIX}${randomBytes(4).toString('hex')}/`;
  await removeFetchLeftovers(ctx, dir);
  const packsBefore = await packFiles(dir);
  const github = options.github ?? lookUpGitHubIdentity(ctx, target);
  const refspecs = upstreamRefspecs(ctx, `${stage}refs/*`, stage);
  try {
    await fetchRefspecs(ctx, target, dir, refspecs);
  } catch (error) {
    await removeFetchLeftovers(ctx, dir).catch(() => undefined);
    await dropStagingRefs(ctx, dir).catch(() => undefined);
    throw error;
  }
  const listed = await readRefsAndHead(ctx.git, dir);
  const { before, staged, stagedHead } = splitStaged(listed.refs, stage);
  const refuse = async (message: string): Promise<never> => {
    await dropStagingRefs(ctx, dir);
    await discardNewPacks(ctx, dir, packsBefore);
    throw new BackupError(message);
  };

  const upstream = backedUp(ctx, staged);
  const loss =
    suspiciousRefLoss(before, upstream) ?? (previous ? suspiciousRefLoss(backedUp(ctx, previous.refs), upstream, `snapshot ${previous.name}`) : null);
  if (loss && !options.allowRefLoss) {
    await refuse(`refusing to sync ${target.id}: ${loss}. The mirror and every snapshot keep their refs. If the deletion is intended, run sync again with --allow-ref-loss.`);
  }
  if (loss) ctx.logger.log('warn', `accepting ref loss for ${target.id}: ${loss}`);

  const identity = await judgeIdentity(ctx, dir, { before, upstream, staged: stage, stagingGlob: `${STAGING_PREFIX}*`, previous, github: await github });
  if (identity.problems.length && !options.acceptNewIdentity) {
    await refuse(
      `refusing to sync ${target.id}: ${target.url} looks like another repository: ${identity.problems.join('; ')}. ` +
        'The mirror and every snapshot keep their refs. If upstream was replaced on purpose, run sync again with --accept-new-identity.',
    );
  }
  if (identity.problems.length) ctx.logger.log('warn', `accepting a new identity for ${target.id}: ${identity.problems.join('; ')}`);
  throwIfAborted(ctx);

  const changes = await applyToMirror(ctx, dir, before, upstream);
  await followUpstreamHead(ctx, target, dir, { upstream, stagedHead, current: listed.headRef });
  const url = stripCredentials(target.url);
  if (previous?.upstream?.url !== url) {
    const was = previous?.upstream?.url ?? previous?.sourceUrl;
    if (was !== undefined && was !== url) ctx.logger.log('warn', `${target.id}: source changed from ${was} to ${url}`);
    // What restore and discovery read; the fetch itself never uses it. The whole config is rewritten from the
    // template, so a mirror made by an earlier version gets today's settings too.
    configureMirror(ctx, dir, target.url);
  }
  return {
    changes,
    refs: upstream,
    source: { url, github: await github, newRoots: identity.newRoots, identityReset: identity.problems.length > 0 },
  };
}

/**
 * Make the mirror's refs `upstream`: one transaction that names the value each ref had (all of it lands or none),
 * then the staging refs are dropped. Returns what changed, fast-forwards told from force-updates.
 */
async function applyToMirror(ctx: EngineContext, dir: string, before: RefMap, upstream: RefMap): Promise<RefChanges> {
  const fastForwarded = new Set<string>();
  for (const { ref, from, to } of movedRefs(before, upstream)) {
    if (await isAncestor(ctx.git, dir, from, to)) fastForwarded.add(ref);
  }
  const changes = diffRefs(before, upstream, fastForwarded);
  const updates: RefUpdate[] = [
    ...changes.added.map((ref): RefUpdate => ({ op: 'create', ref, to: upstream[ref]! })),
    ...[...changes.updated, ...changes.forceUpdated].map((ref): RefUpdate => ({ op: 'update', ref, from: before[ref]!, to: upstream[ref]! })),
    ...changes.deleted.map((ref): RefUpdate => ({ op: 'delete', ref, from: before[ref]! })),
  ];
  if (hasDirectoryConflict(changes.added, changes.deleted)) {
    // refs/heads/a/b became refs/heads/a: git needs the deletions first, so two transactions (a crash between them
    // leaves refs the next sync adds again).
    await updateRefs(ctx.git, dir, updates.filter((u) => u.op === 'delete'));
    await updateRefs(ctx.git, dir, updates.filter((u) => u.op !== 'delete'));
  } else await updateRefs(ctx.git, dir, updates);
  await dropStagingRefs(ctx, dir);
  await boundPackCount(ctx, dir);
  // One packed-refs file instead of a file per ref: a snapshot copies one file, and ref names that are not UTF-8
  // stay bytes inside it instead of file names Node cannot round-trip.
  if (updates.length) await ctx.git.run(dir, ['pack-refs', '--all', '--prune']);
  return changes;
}

/**
 * Point HEAD where upstream's does. The fetch brought HEAD's commit: while our HEAD branch still has it, nothing
 * moved and no question is asked; when exactly one upstream branch has it, that branch is HEAD; when GitHub's
 * repository record, already in hand, names one of them as its default branch, that one; otherwise one
 * `ls-remote --symref HEAD` says which branch it is. `current` is the ref our HEAD pointed to before this fetch's
 * refs were applied (null: none that existed).
 */
async function followUpstreamHead(ctx: EngineContext, target: RepoTarget, dir: string, head: HeadEvidence): Promise<void> {
  const branch = await upstreamHeadBranch(ctx, target, dir, head);
  if (branch) await ctx.git.run(dir, ['symbolic-ref', 'HEAD', branch]);
}

export interface HeadEvidence {
  upstream: RefMap;
  /** HEAD's commit as the fetch brought it; null when upstream has none (empty, or an unborn HEAD). */
  stagedHead: string | null;
  /** The ref HEAD names now, when that ref exists. */
  current: RefKey | null;
  /**
   * The branch GitHub's repository record names as default, which is what its HEAD names, when the run has the
   * record (first-fetch.ts); trusted only while that branch has the commit the fetch brought as HEAD.
   */
  defaultBranch?: RefKey | null;
}

/** The branch HEAD should name now, as followUpstreamHead decides it; null to leave HEAD as it is. */
export async function upstreamHeadBranch(ctx: EngineContext, target: RepoTarget, dir: string, { upstream, stagedHead, current, defaultBranch }: HeadEvidence): Promise<RefKey | null> {
  if (stagedHead === null) return null;
  if (current && upstream[current] === stagedHead) return null;
  const candidates = Object.keys(upstream).filter((ref) => ref.startsWith('refs/heads/') && upstream[ref] === stagedHead);
  const named = candidates.length === 1 ? candidates[0]! : defaultBranch && candidates.includes(defaultBranch) ? defaultBranch : null;
  if (named && isPlainRefKey(named)) return named !== current ? named : null;
  let headRef: string | null;
  try {
    headRef = (await withRetry(ctx, `ls-remote ${target.id}`, target, () => lsRemote(ctx.git, dir, target.url, ['HEAD']))).headRef;
  } catch (error) {
    ctx.logger.log('warn', `${target.id}: could not ask upstream which branch HEAD is; HEAD stays ${current ?? 'unset'}`, { error: errorMessage(error) });
    return null;
  }
  return headRef && headRef !== current && headRef in upstream && isPlainRefKey(headRef) ? headRef : null;
}
