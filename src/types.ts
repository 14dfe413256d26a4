// The typed results every engine command returns. Rendering (text, JSON, job summary) reads these and nothing else.
import type { MetadataSwitches } from './capture-switches.ts';
import type { ExitCodeValue } from './errors.ts';
import type { MetadataCaptureResult } from './github-metadata/capture.ts';
import type { SnapshotMetadataSummary } from './github-metadata/format.ts';
import type { SnapshotRef } from './snapshot-ref.ts';
import type { StoreVerifyResult } from './store/store-verify.ts';

/** One repository the run works on. `id` is owner/name and names its directories under the root. */
export interface RepoTarget {
  owner: string;
  name: string;
  id: string;
  /** Remote to fetch from: https, ssh, file:// or a local path. Never carries credentials. */
  url: string;
  /** The entry's `metadata:` switches (src/capture-switches.ts); unset: everything on for a GitHub repository. */
  metadata?: MetadataSwitches;
}

export interface RefChanges {
  added: string[];
  updated: string[];
  forceUpdated: string[];
  deleted: string[];
}

export interface HeadCommit {
  hash: string;
  date: string;
  subject: string;
}

export type { SnapshotRef } from './snapshot-ref.ts';

/** A snapshot as sync, snapshot and list report it: its reference and what it holds. */
export interface SnapshotSummary extends SnapshotRef {
  head: HeadCommit | null;
  refCount: number;
  /** Apparent size of the snapshot's files in bytes (hard links counted in full). */
  sizeBytes: number;
  /** The GitHub metadata it carries: counts per kind, what was skipped or failed and why (docs/METADATA_FORMAT.md). */
  githubMetadata?: SnapshotMetadataSummary;
}

/** Refs between two snapshots, or a snapshot and the mirror (`diff`). */
export interface DiffRepoResult {
  repo: string;
  from: string;
  to: string;
  added: Array<{ ref: string; to: string }>;
  deleted: Array<{ ref: string; from: string }>;
  /** Fast-forwards: the new commit descends from the old one. */
  moved: Array<{ ref: string; from: string; to: string }>;
  /** History rewritten: the old commit is not an ancestor of the new one. */
  forceMoved: Array<{ ref: string; from: string; to: string }>;
  /** Against upstream: moved to a commit the mirror has not fetched yet, so which of the two is known after a sync. */
  unfetched: Array<{ ref: string; from: string; to: string }>;
  unchanged: number;
}

export interface FindSighting {
  snapshot: string;
  createdAt: string;
  /** points-at: the ref was this commit; contains: the commit is reachable from it; name: the ref's name matched. */
  refs: Array<{ ref: string; oid: string; match: 'points-at' | 'contains' | 'name' }>;
}

/** Where a commit or a ref was seen across a repository's snapshots (`find`), oldest first. */
export interface FindRepoResult {
  repo: string;
  query: string;
  kind: 'commit' | 'ref' | 'pattern';
  sightings: FindSighting[];
  first: string | null;
  last: string | null;
  /** Snapshots not searched: metadata unreadable, or not safe for git to read (verify says why). */
  skipped?: string[];
}

/** A repository a command would work on (`repositories`): the selection, not its backups. */
export interface RepositoryEntry {
  repo: string;
  /** The configured source, credentials stripped. */
  url: string;
  /** Whether its mirror exists under the root yet. */
  initialized: boolean;
}

export interface UnpinRepoResult {
  repo: string;
  snapshot: string;
  /** The reason it had been pinned for. */
  reason: string;
}

export interface InitRepoResult {
  repo: string;
  created: boolean;
  mirror: string;
  refCount: number;
  /** With a store configured: the snapshot the mirror was built from instead of a clone, or null (cloned). */
  hydrated?: HydrateSummary | null;
  /** Upstream has nothing to back up (a wiki GitHub does not have): why. */
  skipped?: string;
}

/** What pushing one repository's snapshots to the off-site store did (docs/STORE_FORMAT.md "Push"). */
export interface StorePushSummary {
  /** The store's location (s3://bucket/prefix or a directory); never a credential. */
  store: string;
  /** Snapshots whose manifests this push wrote, oldest first (empty: the store already held them all). */
  snapshots: string[];
  uploadedObjects: number;
  /** Bytes as stored, manifests included. */
  uploadedBytes: number;
  /** Objects the new manifests reference that the store already held. */
  reusedObjects: number;
}

/** A mirror laid down from the store's newest manifest instead of cloned. */
export interface HydrateSummary {
  store: string;
  snapshot: string;
  /** Files and bytes downloaded (0 when that snapshot was already on disk). */
  files: number;
  bytes: number;
}

/** What `git lfs fetch --all` did for a GitHub repository (docs/OPERATIONS.md "LFS objects"). */
export interface LfsFetchSummary {
  /** false: the refs were those the last successful fetch saw, so nothing new could be referenced (or see skipped). */
  fetched: boolean;
  newObjects: number;
  /** LFS objects in the mirror afterwards, and their bytes. */
  objects: number;
  bytes: number;
  /** Why no LFS fetch could run (git-lfs is not installed). */
  skipped?: string;
}

export interface SyncRepoResult {
  repo: string;
  changes: RefChanges;
  changed: boolean;
  snapshot: SnapshotSummary | null;
  /** Snapshots removed by retention after this sync. */
  pruned: string[];
  snapshotCount: number;
  /** With a store configured: the mirror came from it (null: it existed, or was cloned). */
  hydrated?: HydrateSummary | null;
  /** With a store configured: what was pushed after the sync. */
  pushed?: StorePushSummary | null;
  /** A repository on GitHub: how each kind of its records fared (a failed kind is a warning, not a failed sync). */
  metadata?: MetadataCaptureResult;
  /** Upstream has nothing to back up (a wiki GitHub does not have): why. Neither a success nor a failure. */
  skipped?: string;
  /** A GitHub repository with `lfs` on: its LFS objects. */
  lfs?: LfsFetchSummary;
}

export interface SnapshotRepoResult {
  repo: string;
  snapshot: SnapshotSummary;
  /** With a store configured: what was pushed after the snapshot. */
  pushed?: StorePushSummary | null;
}

export interface StorePushRepoResult extends StorePushSummary {
  repo: string;
}

/** What the store's verify found for one repository (src/store/store-verify.ts), and where. */
export interface StoreVerifyRepoResult extends StoreVerifyResult {
  repo: string;
  store: string;
}

/** `store prune` works on the whole store at once: objects are shared between repositories. */
export interface StorePruneRunResult {
  /** The store's location (the one "repository" the run reports on). */
  repo: string;
  store: string;
  dryRun: boolean;
  /** What told each snapshot's objects: the manifests, or their object indexes (an encrypted store without the identity). */
  readFrom: 'manifests' | 'object indexes';
  /** The repositories the policy was applied to (the global selection), or null for every one the store holds. */
  selected: string[] | null;
  repositories: Array<{
    repository: string;
    decisions: Array<{ name: string; createdAt: string; keep: boolean; reasons: string[] }>;
    forgotten: string[];
    /** Let go by the policy but retained by Object Lock: still in the store. */
    locked: string[];
  }>;
  objects: { referenced: number; deleted: number; deletedBytes: number; young: number; locked: number; indexesDeleted: number };
  problems: string[];
}

export interface StoreListRepoResult {
  repo: string;
  store: string;
  /** Oldest first. */
  snapshots: Array<{ name: string; createdAt: string; storedSize: number }>;
}

export interface ListRepoResult {
  repo: string;
  snapshots: SnapshotSummary[];
  /** Set when nothing of the repository exists under the root (an unknown repository, a wrong root). */
  warning?: string;
}

export interface VerifyProblem {
  /** Path relative to the snapshot directory, or "git fsck". */
  file: string;
  problem: string;
  /** Other snapshots sharing the damaged inode (a hard-linked object is damaged in all of them). */
  sharedWith?: string[];
}

export interface VerifySnapshotResult extends SnapshotRef {
  ok: boolean;
  filesChecked: number;
  /** The first problems found (at most 100); problemsOmitted counts the rest. */
  problems: VerifyProblem[];
  problemsOmitted?: number;
}

export interface VerifyRepoResult {
  repo: string;
  snapshots: VerifySnapshotResult[];
}

export interface PruneDecision {
  name: string;
  createdAt: string;
  keep: boolean;
  reason: string;
}

export interface PruneRepoResult {
  repo: string;
  dryRun: boolean;
  decisions: PruneDecision[];
  removed: string[];
  /** Clock skew, tampered times, every snapshot past the window (docs/OPERATIONS.md "Time and clock skew"). */
  warnings: string[];
}

export type Health = 'healthy' | 'stale' | 'failing' | 'uninitialized';

export interface StatusRepoResult {
  repo: string;
  initialized: boolean;
  lastSync: { at: string; ok: boolean; error?: string } | null;
  head: HeadCommit | null;
  branches: number;
  tags: number;
  snapshotCount: number;
  /** The newest snapshot not named in the future: what "latest" resolves to unless its metadata disagrees. */
  newestSnapshot: string | null;
  oldestSnapshot: string | null;
  /** Bytes on disk with every inode counted once (mirror + snapshots). */
  diskUsedBytes: number;
  /** Bytes if every hard link were a separate copy. */
  apparentBytes: number;
  health: Health;
  healthReason: string;
  lastSuccess: string | null;
  /** Seconds since the last successful sync (null: none, or dated in the future). */
  lastSuccessAgeSeconds: number | null;
  /** Seconds since the newest snapshot was taken, by its name. */
  newestSnapshotAgeSeconds: number | null;
  /** The GitHub metadata of the newest snapshot, when it carries any (recorded in the repository summary). */
  githubMetadata?: SnapshotMetadataSummary;
  /** Clock skew, a missing root: true, but not a verdict by themselves. */
  warnings: string[];
  /** Snapshots kept out of retention, oldest first, with why. */
  pinned: Array<{ name: string; reason: string }>;
  /** This is the wiki of that repository (docs/OPERATIONS.md "The wiki"). */
  wikiOf?: string;
  /** LFS objects in the mirror, and their bytes (docs/OPERATIONS.md "LFS objects"); absent when there are none. */
  lfs?: { objects: number; bytes: number };
}

export interface RestoreRepoResult {
  repo: string;
  snapshot: SnapshotRef;
  mode: 'in-place' | 'to-dir' | 'push' | 'archive';
  target: string;
  dryRun: boolean;
  /** Where the replaced mirror or directory was moved, when something was replaced. */
  keptPrevious: string | null;
  /** In place: the pinned snapshot the replaced mirror became (absent when it could not be; then it is at keptPrevious). */
  keptAs?: { snapshot: string; reason: string };
  refsRestored: number;
  /** restore --from-store: the store the snapshot came from. */
  fromStore?: string;
  /** restore --from-store --dry-run: what the restore would download (bytes as stored). */
  download?: { objects: number; bytes: number };
  /** Where the snapshot was taken from (credentials stripped). */
  sourceUrl: string;
  /** The remote a plain `git push` from the result reaches: the mirror's origin in place, none for a copy or a push. */
  remote: string | null;
  /** restore --push of a snapshot with LFS objects: all of them offered to the remote's LFS endpoint, before the refs. */
  lfs?: { objects: number; bytes: number };
}

export interface ExportRepoResult {
  repo: string;
  snapshot: SnapshotRef;
  archive: string;
  sha256: string;
  sizeBytes: number;
  /** The archive was already there and its checksum verified: nothing was written. */
  alreadyExported: boolean;
}

/** export --metadata: the snapshot's GitHub metadata as a static site (docs/OPERATIONS.md). */
export interface ExportSiteResult {
  repo: string;
  snapshot: SnapshotRef;
  /** The site's directory: open index.html in it. */
  site: string;
  /** The metadata repository's commit the site shows (docs/METADATA_FORMAT.md). */
  metadataCommit: string;
  counts: { issues: number; pulls: number; releases: number; pages: number };
  /** Release asset files copied into the site. */
  assets: { files: number; bytes: number };
  /** Assets a release names whose bytes are not in the site, and why (not downloaded, missing, damaged). */
  assetsMissing: Array<{ release: string; asset: string; reason: string }>;
  /** A directory that was there and not an earlier site: moved here, never deleted. */
  keptPrevious: string | null;
}

/** restore --metadata-to: the snapshot's records recreated in a GitHub repository (docs/RESTORE_RUNBOOK.md). */
export interface RestoreMetadataResult {
  repo: string;
  snapshot: string;
  /** OWNER/NAME the records are recreated in. */
  metadataTarget: string;
  dryRun: boolean;
  /** What this run created, by kind (a dry run creates nothing: see planned). */
  created: {
    labels: number;
    milestones: number;
    issues: number;
    pulls: number;
    pullsAsIssues: number;
    comments: number;
    closed: number;
    locked: number;
    /** Reviews on a real pull request, and their comments, threads and replies on the lines of its diff. */
    reviews: number;
    reviewComments: number;
    /** Reviews and review threads quoted in a comment instead (the pull request is an issue, or the diff refused them). */
    reviewsAsComments: number;
    threadsAsComments: number;
    commitComments: number;
    releases: number;
    assets: number;
  };
  /** Steps an earlier run already did (from the journal): not done again. */
  alreadyDone: number;
  /** Per kind of step (label, issue, comment, review, thread, reply, lock, commitComment, ...): sent by this run (a dry
   *  run: would be), already done by an earlier one, and not restored (`notRestored` says why). */
  byKind: Record<string, { created: number; alreadyPresent: number; skipped: number }>;
  /** A dry run: what a real run would create or change, in order. */
  planned: string[];
  /** What is not recreated, and why: an asset not in the backup, a commit comment whose commit is not in the target. */
  notRestored: Array<{ kind: string; what: string; reason: string }>;
  /** What is recreated in a lesser form than on a real pull request (a review thread quoted in a comment), and why. */
  fellBack: Array<{ what: string; reason: string }>;
  /** The journal of old to new numbers that makes the restore resumable. */
  journal: string;
}

export type RepoOutcome<T> =
  | { repo: string; ok: true; value: T }
  | { repo: string; ok: false; error: string; exitCode: ExitCodeValue; details?: unknown };

/** What one command did across all repositories it was asked to work on; `command` names the operation (src/operations). */
export interface RunResult<T, C extends string = string> {
  command: C;
  startedAt: string;
  finishedAt: string;
  outcomes: RepoOutcome<T>[];
  /** Repository ids that failed. */
  failed: string[];
  exitCode: ExitCodeValue;
  /** With --shard: the slice, and how many repositories were selected before slicing (`of`). */
  shard?: { index: number; count: number; of: number };
}
