// store prune: forget the snapshots the store's policy does not keep (their manifests), then delete the objects no
// remaining manifest references (docs/STORE_FORMAT.md "Prune"). Under the exclusive store lease, never while a
// push holds its lease, never an object younger than the grace period, never an object Object Lock retains.
import { errorMessage, LockHeldError, StoreObjectLockedError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { byRepository, listStoredSnapshots, readManifest, type StoredSnapshot } from './catalog.ts';
import { ensureStoreFormat, OBJECTS_PREFIX } from './format.ts';
import { storedFiles } from './manifest.ts';
import { planStoreRetention, type StoreRetentionDecision, type StoreRetentionPolicy } from './policy.ts';
import type { ObjectLockSettings } from './push.ts';
import { ExclusiveLease, sharedLeases } from './store-lock.ts';
import type { Store, StoredObject } from './store.ts';

const DAY_MS = 86_400_000;
export const DEFAULT_GRACE_MS = DAY_MS;

export interface StorePruneOptions {
  /** The policy without its clock (now comes from `clock`). */
  policy: Omit<StoreRetentionPolicy, 'now'>;
  clock?: () => Date;
  /** Objects younger than this are never deleted, referenced or not (a push may be in flight). Default one day. */
  graceMs?: number;
  /** Decide and report, delete nothing (and take no lease). */
  dryRun?: boolean;
  /** The store's Object Lock: objects written less than `days` ago are retained and left alone without asking. */
  objectLock?: ObjectLockSettings;
  lease?: { leaseMs?: number; clock?: () => Date };
  logger?: Logger;
}

export interface StorePruneRepository {
  repository: string;
  decisions: StoreRetentionDecision[];
  /** Snapshots whose manifests were deleted (or would be, in a dry run). */
  forgotten: string[];
  /** Snapshots the policy let go but Object Lock retains: still in the store. */
  locked: string[];
}

export interface StorePruneResult {
  dryRun: boolean;
  repositories: StorePruneRepository[];
  objects: {
    referenced: number;
    /** Unreferenced objects deleted (or that would be), and their stored bytes. */
    deleted: number;
    deletedBytes: number;
    /** Unreferenced but younger than the grace period: kept. */
    young: number;
    /** Unreferenced but retained by Object Lock: kept. */
    locked: number;
  };
  /** Why object deletion was skipped, or what else went wrong; empty when all went well. */
  problems: string[];
}

function retainedByObjectLock(object: StoredObject, lock: ObjectLockSettings | undefined, now: Date): boolean {
  return Boolean(lock) && object.lastModified.getTime() + lock!.days * DAY_MS > now.getTime();
}

export async function pruneStore(store: Store, options: StorePruneOptions): Promise<StorePruneResult> {
  const clock = options.clock ?? (() => new Date());
  const dryRun = options.dryRun ?? false;
  await ensureStoreFormat(store, { create: false });
  const lease = dryRun ? null : await ExclusiveLease.acquire(store, { purpose: 'prune', ...options.lease });
  try {
    if (lease) {
      const pushes = await sharedLeases(store, options.lease);
      if (pushes.live.length) {
        throw new LockHeldError(`${store.location}: ${pushes.live.length} push(es) in flight (${pushes.live.join(', ')}); prune again when they are done`);
      }
      for (const stale of pushes.stale) await store.delete(stale.key).catch(() => undefined);
    }
    return await prune(store, options, clock(), dryRun, lease);
  } finally {
    await lease?.release().catch(() => undefined);
  }
}

async function prune(store: Store, options: StorePruneOptions, now: Date, dryRun: boolean, lease: ExclusiveLease | null): Promise<StorePruneResult> {
  const result: StorePruneResult = { dryRun, repositories: [], objects: { referenced: 0, deleted: 0, deletedBytes: 0, young: 0, locked: 0 }, problems: [] };
  const log = (message: string, fields?: Record<string, unknown>) => options.logger?.log('info', `store prune: ${message}`, fields);
  const kept: StoredSnapshot[] = [];
  const listed = await listStoredSnapshots(store);

  for (const [repository, snapshots] of byRepository(listed)) {
    const decisions = planStoreRetention(snapshots.map((s) => ({ name: s.snapshot, createdAt: s.createdAt })), { ...options.policy, now });
    const entry: StorePruneRepository = { repository, decisions, forgotten: [], locked: [] };
    for (const decision of decisions) {
      const snapshot = snapshots.find((s) => s.snapshot === decision.name)!;
      if (decision.keep) {
        kept.push(snapshot);
        continue;
      }
      if (retainedByObjectLock({ key: snapshot.key, size: snapshot.storedSize, lastModified: snapshot.lastModified }, options.objectLock, now)) {
        entry.locked.push(decision.name);
        kept.push(snapshot);
        continue;
      }
      if (!dryRun) {
        lease!.assertHeld();
        try {
          await store.delete(snapshot.key);
        } catch (error) {
          if (!(error instanceof StoreObjectLockedError)) throw error;
          entry.locked.push(decision.name);
          kept.push(snapshot);
          continue;
        }
      }
      entry.forgotten.push(decision.name);
    }
    if (entry.forgotten.length) log(`${repository}: ${dryRun ? 'would forget' : 'forgot'} ${entry.forgotten.length} snapshot(s)`, { snapshots: entry.forgotten });
    if (entry.locked.length) log(`${repository}: ${entry.locked.length} snapshot(s) the policy lets go are kept: Object Lock retains them`, { snapshots: entry.locked });
    result.repositories.push(entry);
  }

  // What the remaining manifests need. One that cannot be read could need anything: then nothing is deleted.
  const referenced = new Set<string>();
  for (const snapshot of kept) {
    try {
      for (const file of storedFiles(await readManifest(store, snapshot.repository, snapshot.snapshot))) referenced.add(file.key);
    } catch (error) {
      result.problems.push(`${snapshot.key}: ${errorMessage(error)}`);
    }
  }
  result.objects.referenced = referenced.size;
  if (result.problems.length) {
    result.problems.push('no object was deleted: a manifest that cannot be read may reference any of them (run "backup-manager store verify")');
    return result;
  }

  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  const objects: StoredObject[] = [];
  for await (const object of store.list(OBJECTS_PREFIX)) objects.push(object);
  for (const object of objects) {
    if (referenced.has(object.key)) continue;
    if (now.getTime() - object.lastModified.getTime() < graceMs) {
      result.objects.young++;
      continue;
    }
    if (retainedByObjectLock(object, options.objectLock, now)) {
      result.objects.locked++;
      continue;
    }
    if (!dryRun) {
      lease!.assertHeld();
      try {
        await store.delete(object.key);
      } catch (error) {
        if (!(error instanceof StoreObjectLockedError)) throw error;
        result.objects.locked++;
        continue;
      }
    }
    result.objects.deleted++;
    result.objects.deletedBytes += object.size;
  }
  log(`${dryRun ? 'would delete' : 'deleted'} ${result.objects.deleted} unreferenced object(s)`, {
    bytes: result.objects.deletedBytes,
    keptYoungerThanGrace: result.objects.young,
    keptUnderObjectLock: result.objects.locked,
  });
  if (result.objects.locked) log(`${result.objects.locked} unreferenced object(s) kept: Object Lock retains them; a later prune deletes them once retention ends`);
  return result;
}
