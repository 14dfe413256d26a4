// init, sync and snapshot for one repository, each under the repository's writer lock.
import { readRefs } from '../git/repo.ts';
import { AbortedError, BackupError, errorMessage, LockHeldError } from '../errors.ts';
import { repoTimeoutSecondsFromEnv, withDeadline } from '../git/deadline.ts';
import { withLock } from '../lock.ts';
import type { SnapshotMetadata } from '../metadata.ts';
import { changeCount, sameRefs } from '../refs.ts';
import { stripCredentials } from '../redact.ts';
import type { InitRepoResult, RepoTarget, SnapshotRepoResult, SyncRepoResult } from '../types.ts';
import type { SnapshotOptions, SyncOptions } from './api.ts';
import { pinSnapshot } from './pins.ts';
import { throwIfAborted, type EngineContext } from './context.ts';
import { lookUpGitHubIdentity } from './identity.ts';
import { fetchMirror, type FetchOptions, type FetchResult } from './mirror.ts';
import { initMirror } from './init-mirror.ts';
import { upstreamUnchanged } from './unchanged-upstream.ts';
import { captureRepoMetadata } from './metadata-capture.ts';
import { pruneRepo } from './prune.ts';
import { findLatest } from './latest.ts';
import { recoverRepository } from './recover.ts';
import { listSnapshotNames, takeSnapshot } from './snapshot.ts';
import { liveMetadataCommit } from './snapshot-metadata.ts';
import { restoreLiveMetadata } from './metadata-hydrate.ts';
import { recordSummary } from './repo-summary.ts';
import { recordSync } from './state.ts';
import { hydrateMirror, pushRepoSnapshots, type StoreRun } from './store-sync.ts';
import { absentWiki, throwIfWikiSwitchedOff } from './wiki.ts';
import { fetchLfsObjects } from './lfs.ts';

/**
 * Run a writer of the repository holding its lock, after clearing what an interrupted run left (recover.ts), and
 * record its summary for status (repo-summary.ts) unless `recordsSummary` is false.
 */
export async function repoLocked<T>(ctx: EngineContext, target: RepoTarget, command: string, fn: () => Promise<T>, { recordsSummary = true } = {}): Promise<T> {
  const waitMs = Number(process.env.BACKUP_LOCK_WAIT_MS ?? 0);
  throwIfAborted(ctx);
  const what = `${command} ${target.id}`;
  // A lock lost while held (our heartbeat lapsed longer than the lease, so another run took it over) stops this run's
  // git through the deadline, like a stop on request: two writers must never work on one repository.
  const lost = new AbortController();
  const stop = ctx.signal ? AbortSignal.any([ctx.signal, lost.signal]) : lost.signal;
  const onLost = (why: string) => lost.abort(why);
  // The deadline runs inside the lock, so a git it kills has ended before the lock is released.
  return withLock(ctx.layout.repoLock(target), { command: what, waitMs, logger: ctx.logger, clock: ctx.clock, onLost }, async (lock) => {
    try {
      const result = await withDeadline(
        repoTimeoutSecondsFromEnv(),
        what,
        async () => {
          await recoverRepository(ctx, target, { lockTakenOver: lock.tookOver });
          const value = await fn();
          if (recordsSummary) await recordSummary(ctx, target);
          return value;
        },
        stop,
      );
      if (lost.signal.aborted) throw new Error('lock lost');
      return result;
    } catch (error) {
      if (lost.signal.aborted) throw new LockHeldError(`${what} stopped: ${String(lost.signal.reason)} while it worked (its heartbeat lapsed past its lease?); the repository is left to whoever holds the lock now`);
      throw error;
    }
  });
}

/**
 * `store`: as for syncRepo. A root with no mirror the store holds is hydrated from it, then fetched (store-sync.ts).
 * No summary is recorded: the sync that follows records one anyway (it takes the first snapshot, which changes the
 * fingerprint), and a status before it measures the mirror once (docs/OPERATIONS.md "Status and health").
 */
export async function initRepo(ctx: EngineContext, target: RepoTarget, store: StoreRun | null = null): Promise<InitRepoResult> {
  return repoLocked(ctx, target, 'init', async () => {
    const hydrated = store ? await hydrateMirror(ctx, store, target) : null;
    const previous = await newestRecord(ctx, target);
    let init: Awaited<ReturnType<typeof initMirror>>;
    try {
      await throwIfWikiSwitchedOff(ctx, target);
      init = await initMirror(ctx, target, { previous });
    } catch (error) {
      const absent = absentWiki(ctx, target, error);
      if (!absent) throw error;
      ctx.logger.log('info', `init ${target.id}: ${absent}; nothing to back up`);
      await recordSync(ctx, target, { ok: true, changed: 0, snapshot: null, absent });
      return { repo: target.id, created: false, mirror: ctx.layout.mirror(target), refCount: 0, skipped: absent };
    }
    // A hydrated mirror is as old as the store's newest snapshot: one fetch leaves it where a clone would.
    const fetched = hydrated ? await fetchMirror(ctx, target, init.dir, { previous }) : init.fetch;
    const created = init.created || hydrated !== null;
    const refCount = Object.keys(fetched?.refs ?? (await readRefs(ctx.git, init.dir))).length;
    const how = hydrated ? ` from ${hydrated.store} ${hydrated.snapshot}, then fetched` : '';
    ctx.logger.log('info', created ? `initialized ${target.id}${how}` : `${target.id} already initialized, nothing to do`, { refs: refCount });
    return { repo: target.id, created, mirror: init.dir, refCount, ...(store ? { hydrated } : {}) };
  }, { recordsSummary: false });
}

/**
 * The newest trusted snapshot's record (latest.ts: one named in the future, or whose createdAt disagrees with its
 * name, must not hide a change), or null when there is none or it cannot be read (then it is no baseline).
 */
async function newestRecord(ctx: EngineContext, target: RepoTarget): Promise<SnapshotMetadata | null> {
  return (await findLatest(ctx, target)).metadata ?? null;
}

/**
 * A snapshot is due when the refs, or where they come from (another URL, a rename), or the GitHub metadata's commit
 * (docs/METADATA_FORMAT.md) differ from the newest one.
 */
function differsFrom(previous: SnapshotMetadata | null, fetched: FetchResult, metadataCommit: string | null): boolean {
  if (!previous || !previous.upstream || !sameRefs(previous.refs, fetched.refs)) return true;
  if ((previous.githubMetadata?.commit ?? null) !== metadataCommit) return true;
  const { url, github } = fetched.source;
  return previous.upstream.url !== url || (github !== null && previous.upstream.github?.fullName !== github.fullName);
}

/**
 * The fetch, or, when upstream has nothing new for the mirror (unchanged-upstream.ts: one ls-remote), what a fetch
 * would have found: no change, the newest snapshot's refs, nothing new to walk.
 */
async function fetchUnlessUnchanged(ctx: EngineContext, target: RepoTarget, dir: string, fetchOptions: FetchOptions, options: SyncOptions): Promise<FetchResult> {
  const { previous } = fetchOptions;
  if (!previous || options.forceSnapshot) return fetchMirror(ctx, target, dir, fetchOptions);
  const github = lookUpGitHubIdentity(ctx, target);
  if (!(await upstreamUnchanged(ctx, target, dir, previous, github))) return fetchMirror(ctx, target, dir, { ...fetchOptions, github });
  return {
    changes: { added: [], updated: [], forceUpdated: [], deleted: [] },
    refs: previous.refs,
    source: { url: stripCredentials(target.url), github: await github, newRoots: [], identityReset: false },
  };
}

/** `store`: the command's view of the configured store (store-sync.ts), or null without one. */
export async function syncRepo(ctx: EngineContext, target: RepoTarget, options: SyncOptions = {}, store: StoreRun | null = null): Promise<SyncRepoResult> {
  try {
    return await repoLocked(ctx, target, 'sync', async () => {
      ctx.logger.log('info', `sync ${target.id} started`, { source: target.url });
      // A root with no mirror starts from the store's newest snapshot: the fetch then brings only what is new.
      const hydrated = store ? await hydrateMirror(ctx, store, target) : null;
      const previous = await newestRecord(ctx, target);
      const fetchOptions = { allowRefLoss: options.allowRefLoss, acceptNewIdentity: options.acceptNewIdentity, previous };
      const newest = previous?.name;
      let fetched: FetchResult;
      try {
        await throwIfWikiSwitchedOff(ctx, target);
        const init = await initMirror(ctx, target, fetchOptions);
        fetched = init.fetch ?? (await fetchUnlessUnchanged(ctx, target, init.dir, fetchOptions, options));
      } catch (error) {
        const absent = absentWiki(ctx, target, error);
        if (!absent) throw error;
        // The mirror and snapshots of a wiki that had pages before stay as they are.
        ctx.logger.log('info', `sync ${target.id}: ${absent}; nothing to back up`);
        await recordSync(ctx, target, { ok: true, changed: 0, snapshot: newest ?? null, absent });
        const none = { added: [], updated: [], forceUpdated: [], deleted: [] };
        return { repo: target.id, changes: none, changed: false, snapshot: null, pruned: [], snapshotCount: (await listSnapshotNames(ctx, target)).length, skipped: absent };
      }
      const { changes } = fetched;
      // Before the snapshot, so it carries the records as of now (docs/METADATA_FORMAT.md "In a snapshot"), on top
      // of the history so far (a root without its live metadata gets it back from the newest snapshot first).
      await restoreLiveMetadata(ctx, target, previous);
      const metadata = await captureRepoMetadata(ctx, target);
      const lfs = await fetchLfsObjects(ctx, target, ctx.layout.mirror(target), fetched.refs);
      // LFS objects fetched late (an earlier LFS fetch failed) are due in a snapshot as much as new refs.
      const differsFromNewest = differsFrom(previous, fetched, await liveMetadataCommit(ctx, target)) || Boolean(lfs?.summary.newObjects);
      const snapshot = differsFromNewest || options.forceSnapshot ? await takeSnapshot(ctx, target, fetched.source) : null;
      // Pushed before retention runs, so a snapshot an earlier push missed is uploaded before it can be pruned.
      const pushed = store ? await pushRepoSnapshots(ctx, store, target) : null;
      const pruned = options.noPrune ? [] : (await pruneRepo(ctx, target)).removed;
      const snapshotCount = (await listSnapshotNames(ctx, target)).length;
      const result: SyncRepoResult = { repo: target.id, changes, changed: changeCount(changes) > 0, snapshot, pruned, snapshotCount, ...(metadata ? { metadata } : {}), ...(store ? { hydrated, pushed } : {}), ...(lfs ? { lfs: lfs.summary } : {}) };
      if (lfs?.failure) {
        const kept = snapshot ? `snapshot ${snapshot.name} holds its git data` : 'its git data is as the newest snapshot holds it';
        throw new BackupError(`${target.id}: ${kept}, but its LFS objects could not be fetched: ${lfs.failure.message}`, lfs.failure.exitCode, { details: result });
      }
      await recordSync(ctx, target, { ok: true, changed: changeCount(changes), snapshot: snapshot?.name ?? newest ?? null });
      ctx.logger.log('info', `sync ${target.id} finished`, {
        source: fetched.source.url,
        added: changes.added.length,
        updated: changes.updated.length,
        forceUpdated: changes.forceUpdated.length,
        deleted: changes.deleted.length,
        snapshot: snapshot?.name ?? null,
        pruned: pruned.length,
      });
      return result;
    });
  } catch (error) {
    // Another run holding the lock, or a stop on request (a container restart), is not this repository failing:
    // leave its recorded state, and so its health, alone.
    if (error instanceof AbortedError) ctx.logger.log('warn', `sync ${target.id} stopped on request`);
    else if (!(error instanceof LockHeldError)) {
      ctx.logger.log('error', `sync ${target.id} failed: ${errorMessage(error)}`);
      await recordSync(ctx, target, { ok: false, error: errorMessage(error) }).catch(() => undefined);
    }
    throw error;
  }
}

export async function snapshotRepo(ctx: EngineContext, target: RepoTarget, store: StoreRun | null = null, options: SnapshotOptions = {}): Promise<SnapshotRepoResult> {
  return repoLocked(ctx, target, 'snapshot', async () => {
    const taken = await takeSnapshot(ctx, target);
    const snapshot = options.pin ? { ...taken, pinned: await pinSnapshot(ctx, target, taken.name, options.reason ?? '') } : taken;
    return { repo: target.id, snapshot, ...(store ? { pushed: await pushRepoSnapshots(ctx, store, target) } : {}) };
  });
}
