// The off-site store as the engine uses it (docs/STORE_FORMAT.md): opened once per command, a repository's
// snapshots pushed right after sync or snapshot took one, and a missing mirror hydrated from the newest manifest.
import { randomBytes } from 'node:crypto';
import { mkdir, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AbortedError, BackupError, errorMessage, exitCodeOf } from '../errors.ts';
import { exists, fsyncPath, removeTree } from '../fsutil.ts';
import { mirrorConfig, renderConfig } from '../git/config-template.ts';
import { readRefs } from '../git/repo.ts';
import { readMetadata } from '../metadata.ts';
import { sameRefs } from '../refs.ts';
import { listStoredSnapshots, readManifest } from '../store/catalog.ts';
import { isFutureDated } from '../snapshot-time.ts';
import { IDENTITY_FILE_ENV, openStore } from '../store/open-store.ts';
import { pullSnapshot } from '../store/pull.ts';
import { PushSession, type PushSnapshotResult } from '../store/push.ts';
import type { Store } from '../store/store.ts';
import type { HydrateSummary, RepoTarget, StorePushSummary } from '../types.ts';
import type { EngineContext } from './context.ts';
import { materialize } from './materialize.ts';
import { reportPhase } from './progress.ts';
import { listSnapshotNames } from './snapshot.ts';

/** One command's view of the store. A new session each command: what it knows of the store is never stale. */
export interface StoreRun {
  store: Store;
  session: PushSession;
  /**
   * False for an encrypted store without BACKUP_AGE_IDENTITY_FILE: manifests and objects cannot be read, and
   * verify and prune work from the object indexes (docs/STORE_FORMAT.md "Object index").
   */
  canReadBodies: boolean;
}

/** The configured store for one command, or null when none is configured. */
export async function openStoreRun(ctx: EngineContext): Promise<StoreRun | null> {
  const config = ctx.settings.store;
  if (!config) return null;
  const store = await openStore(config, process.env, { redactor: ctx.redactor, clock: ctx.clock });
  const encrypted = Boolean(config.encryption);
  const session = new PushSession(store, { objectLock: config.objectLock, objectIndex: encrypted, clock: ctx.clock, logger: ctx.logger, signal: ctx.signal, git: ctx.git });
  return { store, session, canReadBodies: !encrypted || Boolean(process.env[IDENTITY_FILE_ENV]) };
}

/**
 * Run `fn` with the command's view of the store (null without one), and release the push's lease after it,
 * whatever happened: a lease left behind would keep `store prune` waiting until it expires.
 */
export async function withStoreRun<T>(ctx: EngineContext, fn: (run: StoreRun | null) => Promise<T>): Promise<T> {
  const run = await openStoreRun(ctx);
  try {
    return await fn(run);
  } finally {
    await run?.session.close().catch((error: unknown) => ctx.logger.log('warn', `could not release the push lease in ${run.store.location}: ${errorMessage(error)}`));
  }
}

export function summarizePush(location: string, results: readonly PushSnapshotResult[]): StorePushSummary {
  const written = results.filter((r) => !r.alreadyInStore);
  return {
    store: location,
    snapshots: written.map((r) => r.snapshot),
    uploadedObjects: written.reduce((n, r) => n + r.uploadedObjects, 0),
    uploadedBytes: written.reduce((n, r) => n + r.uploadedBytes, 0),
    reusedObjects: written.reduce((n, r) => n + r.reusedObjects, 0),
  };
}

/**
 * Push every local snapshot of `target` the store lacks, oldest first: the one just taken, and any an earlier
 * failed push left behind. A failure fails the repository's run; the local snapshots stay as they are.
 * Caller holds the repository lock, so retention cannot remove a snapshot while it is read.
 */
export async function pushRepoSnapshots(ctx: EngineContext, run: StoreRun, target: RepoTarget): Promise<StorePushSummary> {
  const parent = ctx.layout.snapshotParent(target);
  const dirs = (await listSnapshotNames(ctx, target)).map((name) => join(parent, name));
  reportPhase(ctx, target, 'pushing to store', run.store.location);
  try {
    return summarizePush(run.store.location, await run.session.pushRepository(target.id, dirs));
  } catch (error) {
    if (error instanceof AbortedError) throw error;
    throw new BackupError(
      `push to the store ${run.store.location} failed: ${errorMessage(error)}. The local snapshots stay; "backup-manager store push" (or the next sync) uploads what is missing`,
      exitCodeOf(error),
      { cause: error },
    );
  }
}

/**
 * On a root with no mirror for `target`, lay the newest snapshot the store holds down as a local snapshot and
 * build the mirror from it (object files hard-linked, a fresh mirror config), so the fetch that follows brings only
 * what is new and the push uploads only that. Returns null, and the caller clones, when there is nothing to
 * hydrate from, when the store is encrypted and no identity is given, or when hydrating fails (said in a warning).
 * Caller holds the repository lock.
 */
export async function hydrateMirror(ctx: EngineContext, run: StoreRun, target: RepoTarget): Promise<HydrateSummary | null> {
  const mirror = ctx.layout.mirror(target);
  if (await exists(mirror)) return null;
  if (!run.canReadBodies) {
    ctx.logger.log('info', `${target.id}: the store is encrypted and ${IDENTITY_FILE_ENV} is not set: cloning instead of hydrating`);
    return null;
  }
  try {
    // Not one named in the future (pushed while a clock ran ahead): see resolveStoredSnapshot.
    const newest = (await listStoredSnapshots(run.store, target.id)).filter((s) => !isFutureDated(s.snapshot, ctx.clock())).at(-1);
    if (!newest) return null;
    reportPhase(ctx, target, 'hydrating from store', newest.snapshot);
    const manifest = await readManifest(run.store, target.id, newest.snapshot);
    const parent = ctx.layout.snapshotParent(target);
    const snapshotDir = join(parent, manifest.name);
    let pulled = { files: 0, bytes: 0 };
    if (!(await exists(snapshotDir))) {
      await mkdir(parent, { recursive: true });
      // The temporary name of a snapshot being taken: an interrupted hydrate is cleaned up like one.
      const tmp = join(parent, `.tmp-${manifest.name}-${randomBytes(4).toString('hex')}`);
      try {
        pulled = await pullSnapshot(run.store, manifest, tmp, { layout: 'snapshot', fsync: true, signal: ctx.signal, git: ctx.git });
        await rename(tmp, snapshotDir);
        await fsyncPath(parent);
      } catch (error) {
        await removeTree(tmp).catch(() => undefined);
        throw error;
      }
    }
    await buildMirrorFrom(ctx, target, snapshotDir);
    ctx.logger.log('info', `hydrated ${target.id} from ${run.store.location} ${manifest.name}`, { files: pulled.files, bytes: pulled.bytes });
    return { store: run.store.location, snapshot: manifest.name, files: pulled.files, bytes: pulled.bytes };
  } catch (error) {
    if (error instanceof AbortedError) throw error;
    ctx.logger.log('warn', `could not hydrate ${target.id} from ${run.store.location}: ${errorMessage(error)}; cloning instead`);
    return null;
  }
}

/** The mirror, built beside its place under initMirror's temporary name (so a killed run's leftover is removed). */
async function buildMirrorFrom(ctx: EngineContext, target: RepoTarget, snapshotDir: string): Promise<void> {
  const mirror = ctx.layout.mirror(target);
  await mkdir(dirname(mirror), { recursive: true });
  const tmp = join(dirname(mirror), `.tmp-init-${target.name}-${randomBytes(4).toString('hex')}`);
  try {
    // The snapshot's own config is never used: the mirror gets the one a new mirror gets (docs/OPERATIONS.md).
    const config = renderConfig(mirrorConfig({ url: target.url, includePullRefs: ctx.settings.includePullRefs }));
    await materialize(snapshotDir, tmp, { objects: 'link', config, copyMode: 0o644, fsync: false });
    if (!sameRefs(await readRefs(ctx.git, tmp), (await readMetadata(snapshotDir)).refs)) throw new BackupError(`the mirror built from ${snapshotDir} does not have the snapshot's refs`);
    await rename(tmp, mirror);
  } catch (error) {
    await removeTree(tmp).catch(() => undefined);
    throw error;
  }
}
