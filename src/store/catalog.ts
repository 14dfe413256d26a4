// What snapshots the store holds, read from manifest keys (one listing, no downloads), and reading one manifest.
import { BackupError, ExitCode } from '../errors.ts';
import { parseSnapshotTime } from '../naming.ts';
import { isFutureDated } from '../snapshot-time.ts';
import { manifestKey, manifestPrefix, parseManifestKey, SNAPSHOTS_PREFIX } from './format.ts';
import { parseManifest, type Manifest } from './manifest.ts';
import { objectIndexKey, parseObjectIndexKey } from './object-index.ts';
import type { Store, StoredObject } from './store.ts';

export interface StoredSnapshot {
  repository: string;
  /** The local name it kept (snapshot-YYYYMMDD-HHMMSS). */
  snapshot: string;
  /** The time the name encodes (UTC, to the second). */
  createdAt: Date;
  key: string;
  /** Manifest bytes as stored. */
  storedSize: number;
  lastModified: Date;
  /** The key of its object index (docs/STORE_FORMAT.md "Object index"), or null when it has none. */
  objectIndex: string | null;
}

export interface StoreCatalog {
  /** Oldest first per repository. */
  snapshots: StoredSnapshot[];
  /** Object indexes without a manifest: a push died between the two, or a prune between deleting them. */
  orphanIndexes: StoredObject[];
}

/** Snapshots and object indexes in the store, from one listing; `repository` narrows it to one (owner/name). */
export async function listStoreCatalog(store: Store, repository?: string): Promise<StoreCatalog> {
  const out: StoredSnapshot[] = [];
  const indexes = new Map<string, StoredObject>();
  for await (const object of store.list(repository ? manifestPrefix(repository) : SNAPSHOTS_PREFIX)) {
    if (parseObjectIndexKey(object.key)) {
      indexes.set(object.key, object);
      continue;
    }
    const parts = parseManifestKey(object.key);
    if (!parts || (repository && parts.repository !== repository)) continue;
    out.push({ ...parts, createdAt: parseSnapshotTime(parts.snapshot)!, key: object.key, storedSize: object.size, lastModified: object.lastModified, objectIndex: null });
  }
  for (const snapshot of out) {
    const key = objectIndexKey(snapshot.repository, snapshot.snapshot);
    if (indexes.delete(key)) snapshot.objectIndex = key;
  }
  return { snapshots: sortSnapshots(out), orphanIndexes: [...indexes.values()] };
}

/** Snapshots in the store, oldest first per repository; `repository` narrows the listing to one (owner/name). */
export async function listStoredSnapshots(store: Store, repository?: string): Promise<StoredSnapshot[]> {
  return (await listStoreCatalog(store, repository)).snapshots;
}

function sortSnapshots(out: StoredSnapshot[]): StoredSnapshot[] {
  return out.sort((a, b) => (a.repository < b.repository ? -1 : a.repository > b.repository ? 1 : a.snapshot < b.snapshot ? -1 : a.snapshot > b.snapshot ? 1 : 0));
}

/** Stored snapshots grouped by repository, each list oldest first. */
export function byRepository(snapshots: readonly StoredSnapshot[]): Map<string, StoredSnapshot[]> {
  const groups = new Map<string, StoredSnapshot[]>();
  for (const s of snapshots) {
    const list = groups.get(s.repository) ?? [];
    list.push(s);
    groups.set(s.repository, list);
  }
  return groups;
}

/** Download and check one manifest; it must describe the snapshot its key names. */
export async function readManifest(store: Store, repository: string, snapshot: string): Promise<Manifest> {
  const key = manifestKey(repository, snapshot);
  const manifest = parseManifest(await store.get(key), `${store.location}/${key}`);
  if (manifest.repository !== repository || manifest.name !== snapshot) {
    throw new BackupError(`${store.location}/${key}: manifest describes ${manifest.repository} ${manifest.name}, not ${repository} ${snapshot}`);
  }
  return manifest;
}

/**
 * "latest" or a snapshot name, resolved against the store. "latest" is the newest snapshot not named in the future
 * (docs/OPERATIONS.md "Time and clock skew"): one pushed while a clock ran ahead is never handed out as the newest.
 */
export async function resolveStoredSnapshot(store: Store, repository: string, requested = 'latest', now: Date = new Date()): Promise<StoredSnapshot> {
  const snapshots = await listStoredSnapshots(store, repository);
  if (requested === 'latest') {
    const newest = snapshots.filter((s) => !isFutureDated(s.snapshot, now)).at(-1);
    if (!newest) {
      const future = snapshots.length ? ` (its ${snapshots.length} snapshot(s) are all named in the future of ${now.toISOString()}: name one explicitly)` : '';
      throw new BackupError(`${store.location} holds no trustworthy latest snapshot of ${repository}${future}`, ExitCode.NOT_FOUND);
    }
    return newest;
  }
  const found = snapshots.find((s) => s.snapshot === requested);
  if (!found) {
    const hint = snapshots.length ? ` (newest: ${snapshots.at(-1)!.snapshot})` : '';
    throw new BackupError(`${store.location} holds no snapshot ${requested} of ${repository}${hint}`, ExitCode.NOT_FOUND);
  }
  return found;
}
