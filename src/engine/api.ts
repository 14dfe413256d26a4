// The engine's contract with its three faces (CLI, actions, container daemon). Implementations live beside it.
import type { BackupSettings } from '../config.ts';
import type { Logger } from '../log.ts';
import type { ProgressSink } from '../progress.ts';
import type {
  ExportRepoResult,
  ExportSiteResult,
  InitRepoResult,
  ListRepoResult,
  PruneRepoResult,
  RepoTarget,
  RestoreMetadataResult,
  RestoreRepoResult,
  RunResult,
  StoreListRepoResult,
  StorePruneRunResult,
  StorePushRepoResult,
  StoreVerifyRepoResult,
  SnapshotRepoResult,
  StatusRepoResult,
  SyncRepoResult,
  UnpinRepoResult,
  RepositoryEntry,
  DiffRepoResult,
  FindRepoResult,
  VerifyRepoResult,
} from '../types.ts';

export interface EngineOptions {
  settings: BackupSettings;
  /** Injected so retention and naming can be tested with a fake clock. */
  clock?: () => Date;
  /** Where log lines go besides the daily log file (for example the CLI's stderr). */
  logger?: Logger;
  /** Aborts between phases; an aborted snapshot leaves only a temporary directory. */
  signal?: AbortSignal;
  /** Phases and git's transfer progress, for a person watching (src/progress.ts); without it git runs quietly. */
  onProgress?: ProgressSink;
}

export interface SyncOptions {
  /** Take a snapshot even when no ref changed. */
  forceSnapshot?: boolean;
  /** Accept an upstream that lost all or most of its refs (otherwise the run fails and the mirror keeps them). */
  allowRefLoss?: boolean;
  /** Accept an upstream that is another repository: another GitHub id, or a history unrelated to the mirror's. */
  acceptNewIdentity?: boolean;
  /** Skip retention after the sync. */
  noPrune?: boolean;
}

export interface SnapshotOptions {
  /** Keep the snapshot out of retention until unpinned (docs/OPERATIONS.md "Pinned snapshots"). */
  pin?: boolean;
  /** Why it is pinned; required with `pin`. */
  reason?: string;
}

export interface VerifyOptions {
  /** "latest" (default) or a snapshot name. */
  snapshot?: string;
  all?: boolean;
}

export interface PruneOptions {
  dryRun?: boolean;
  retentionDays?: number;
  keepMin?: number;
}

export interface RestoreOptions {
  /** "latest" (default) or a snapshot name. */
  snapshot?: string;
  /** Restore into this directory instead of replacing the live mirror. */
  to?: string;
  /** With `to`: a working clone with a checked-out HEAD instead of a bare mirror. */
  checkout?: boolean;
  /** Push every branch and tag of the snapshot to this new, empty remote. */
  push?: string;
  /** Restore from an archive written by `export`. */
  fromArchive?: string;
  /** Restore from the configured off-site store (the snapshot named as in the store). */
  fromStore?: boolean;
  /** Recreate the snapshot's issues, pull requests and releases in this GitHub repository (OWNER/NAME). */
  metadataTo?: string;
  force?: boolean;
  dryRun?: boolean;
  /** How the result is checked before it is swapped in: connectivity (default) or full (src/engine/restore-check.ts). */
  verify?: 'connectivity' | 'full';
}

export interface StoreVerifyOptions {
  /** Download every referenced object and check its sha256 (packs against their index too: rebuilt by git index-pack, or git verify-pack). */
  readData?: boolean;
  /** Download this percentage of them, chosen at random. */
  readDataSubsetPercent?: number;
}

export interface StorePruneOptions {
  dryRun?: boolean;
}

export interface ExportOptions {
  snapshot?: string;
  format?: 'tar.gz';
  /** Output file; defaults to archives/<owner>/<repo>/<snapshot>.tar.gz under the root. */
  output?: string;
  /** Replace an existing archive that does not match its checksum (it is kept beside, never deleted). */
  force?: boolean;
}

export interface ExportMetadataOptions {
  snapshot?: string;
  /** The site's directory; defaults to archives/<owner>/<repo>/<snapshot>.metadata/ under the root. */
  output?: string;
  /** Move aside (never delete) a non-empty directory there that is not an earlier site. */
  force?: boolean;
}

export interface Engine {
  /** Configured repositories and owners expanded into targets; with none configured, those found on disk. */
  resolveTargets(): Promise<RepoTarget[]>;
  /** The selected repositories as a run: each one's source and whether it has a mirror yet. */
  repositories(): Promise<RunResult<RepositoryEntry>>;
  init(): Promise<RunResult<InitRepoResult>>;
  sync(options?: SyncOptions): Promise<RunResult<SyncRepoResult>>;
  snapshot(options?: SnapshotOptions): Promise<RunResult<SnapshotRepoResult>>;
  /** Refs added, deleted, moved and force-moved between two snapshots ("latest", a name, or "mirror"). */
  diff(options: { from: string; to: string }): Promise<RunResult<DiffRepoResult>>;
  /** Which snapshots hold a commit (and from which refs it is reachable) or had a ref of a name or pattern. */
  find(options: { query: string }): Promise<RunResult<FindRepoResult>>;
  /** Hand a pinned snapshot back to retention. */
  unpin(options: { snapshot: string }): Promise<RunResult<UnpinRepoResult>>;
  list(): Promise<RunResult<ListRepoResult>>;
  status(): Promise<RunResult<StatusRepoResult>>;
  /** Status, with exit code 1 unless every repository synced successfully within the last 26 hours. */
  health(): Promise<RunResult<StatusRepoResult>>;
  verify(options?: VerifyOptions): Promise<RunResult<VerifyRepoResult>>;
  prune(options?: PruneOptions): Promise<RunResult<PruneRepoResult>>;
  restore(options?: RestoreOptions): Promise<RunResult<RestoreRepoResult>>;
  /** restore with metadataTo: the snapshot's GitHub records recreated through the API, resumably. */
  restoreMetadata(options: RestoreOptions): Promise<RunResult<RestoreMetadataResult>>;
  exportArchive(options?: ExportOptions): Promise<RunResult<ExportRepoResult>>;
  /** A snapshot's issues, pull requests and releases as a static site (docs/METADATA_FORMAT.md). */
  exportMetadata(options?: ExportMetadataOptions): Promise<RunResult<ExportSiteResult>>;
  /** Push every local snapshot the configured store lacks. */
  storePush(): Promise<RunResult<StorePushRepoResult>>;
  /** Snapshots the store holds: of the configured repositories, or of every repository it holds. */
  storeList(): Promise<RunResult<StoreListRepoResult>>;
  /** Every manifest's objects exist with the right sizes; with readData, their contents check out too. */
  storeVerify(options?: StoreVerifyOptions): Promise<RunResult<StoreVerifyRepoResult>>;
  /** The store's retention policy, then objects no manifest references (past the grace period). */
  storePrune(options?: StorePruneOptions): Promise<RunResult<StorePruneRunResult>>;
}
