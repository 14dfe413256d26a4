// store prune: forget the snapshots the store's policy does not keep (their manifests), then delete the objects no
// remaining manifest references (docs/STORE_FORMAT.md "Prune"). Under the exclusive store lease, never while a
// push holds its lease, never an object younger than the grace period, never an object Object Lock retains.
import { BackupError, errorMessage, LockHeldError, StoreObjectLockedError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { byRepository, listStoreCatalog, readManifest, type StoredSnapshot } from './catalog.ts';
import { ensureStoreFormat, OBJECTS_PREFIX } from './format.ts';
import { storedFiles } from './manifest.ts';
import { readObjectIndex } from './object-index.ts';
import { planStoreRetention, type StoreRetentionDecision, type StoreRetentionPolicy } from './policy.ts';
import type { ObjectLockSettings } from './push.ts';
import { ExclusiveLease, sharedLeases } from './store-lock.ts';
import type { Store, StoredObject } from './store.ts';
import type { StoreReadFrom } from './store-verify.ts';

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
  /** 'object indexes' when bodies cannot be read (an encrypted store without the identity): see store-verify.ts. */
  readFrom?: StoreReadFrom;
  /** Apply the policy to these repositories only (owner/name); objects are still judged against every manifest. */
  repositories?: readonly string[];
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
  readFrom: StoreReadFrom;
  /** The repositories the policy was applied to, or null for all the store holds. */
  selected: string[] | null;
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
    /** Object indexes deleted with their manifests, or left without one (older than the grace period). */
    indexesDeleted: number;
  };
  /** Why object deletion was skipped, or what else went wrong; empty when all went well. */
  problems: string[];
}

/** The object keys a kept snapshot needs: from its manifest, or from its object index when bodies cannot be read. */
async function neededKeys(store: Store, snapshot: StoredSnapshot, readFrom: StoreReadFrom): Promise<string[]> {
  if (readFrom === 'manifests') return storedFiles(await readManifest(store, snapshot.repository, snapshot.snapshot)).map((f) => f.key);
  if (!snapshot.objectIndex) throw new BackupError('no object index beside it (pushed unencrypted, or by an older tool): prune with BACKUP_AGE_IDENTITY_FILE set');
  return Object.keys((await readObjectIndex(store, snapshot.repository, snapshot.snapshot)).objects);
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
  const readFrom = options.readFrom ?? 'manifests';
  const selected = options.repositories ? [...options.repositories] : null;
  const result: StorePruneResult = {
    dryRun,
    readFrom,
    selected,
    repositories: [],
    objects: { referenced: 0, deleted: 0, deletedBytes: 0, young: 0, locked: 0, indexesDeleted: 0 },
    problems: [],
  };
  const log = (message: string, fields?: Record<string, unknown>) => options.logger?.log('info', `store prune: ${message}`, fields);
  const kept: StoredSnapshot[] = [];
  const catalog = await listStoreCatalog(store);
  const young = (object: { lastModified: Date }) => now.getTime() - object.lastModified.getTime() < (options.graceMs ?? DEFAULT_GRACE_MS);
  const deleteIndex = async (key: string) => {
    if (!dryRun) {
      lease!.assertHeld();
      try {
        await store.delete(key);
      } catch (error) {
        if (!(error instanceof StoreObjectLockedError)) throw error;
        return;
      }
    }
    result.objects.indexesDeleted++;
  };

  for (const [repository, snapshots] of byRepository(catalog.snapshots)) {
    // Outside the selection nothing is forgotten, but its manifests still count for the objects below.
    if (selected && !selected.includes(repository)) {
      kept.push(...snapshots);
      continue;
    }
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
      // After its manifest: the snapshot is gone from the store already, the index only tells what it needed.
      if (snapshot.objectIndex) await deleteIndex(snapshot.objectIndex);
      entry.forgotten.push(decision.name);
    }
    if (entry.forgotten.length) log(`${repository}: ${dryRun ? 'would forget' : 'forgot'} ${entry.forgotten.length} snapshot(s)`, { snapshots: entry.forgotten });
    if (entry.locked.length) log(`${repository}: ${entry.locked.length} snapshot(s) the policy lets go are kept: Object Lock retains them`, { snapshots: entry.locked });
    result.repositories.push(entry);
  }

  // An index whose manifest is gone, once no push can be about to write that manifest.
  for (const orphan of catalog.orphanIndexes) if (!young(orphan)) await deleteIndex(orphan.key);

  // What the remaining snapshots need. One whose list cannot be read could need anything: then nothing is deleted.
  const referenced = new Set<string>();
  for (const snapshot of kept) {
    try {
      for (const key of await neededKeys(store, snapshot, readFrom)) referenced.add(key);
    } catch (error) {
      result.problems.push(`${readFrom === 'manifests' ? snapshot.key : (snapshot.objectIndex ?? snapshot.key)}: ${errorMessage(error)}`);
    }
  }
  result.objects.referenced = referenced.size;
  if (result.problems.length) {
    const what = readFrom === 'manifests' ? 'a manifest that' : 'a snapshot whose object index';
    result.problems.push(`no object was deleted: ${what} cannot be read may reference any of them (run "backup-manager store verify")`);
    return result;
  }

  const objects: StoredObject[] = [];
  for await (const object of store.list(OBJECTS_PREFIX)) objects.push(object);
  for (const object of objects) {
    if (referenced.has(object.key)) continue;
    if (young(object)) {
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
