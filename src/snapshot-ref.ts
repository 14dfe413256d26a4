// One shape names a snapshot in every result that points at one (snapshot, sync, restore, export, list, verify;
// docs/OPERATIONS.md "Snapshots in results"), so a script reads `.name`, `.path` and `.createdAt` the same way
// whichever command it ran.

export interface SnapshotRef {
  /** owner/name. */
  repository: string;
  /** snapshot-YYYYMMDD-HHMMSS[-NNN]. */
  name: string;
  /** Its directory under the root; for one read from an archive or the store, that archive file or the store. */
  path: string;
  /** UTC time recorded in its snapshot.json ('' when that cannot be read). */
  createdAt: string;
  /** Kept out of retention until unpinned (docs/OPERATIONS.md "Pinned snapshots"). */
  pinned?: { reason: string; pinnedAt: string };
}

export function snapshotRef(repository: string, name: string, path: string, createdAt: string, pinned?: SnapshotRef['pinned']): SnapshotRef {
  return { repository, name, path, createdAt, ...(pinned ? { pinned } : {}) };
}
