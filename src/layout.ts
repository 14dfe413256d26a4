// Where everything lives under the backup root. The only module that joins paths inside the root.
import { join, resolve, relative, isAbsolute, sep } from 'node:path';
import { UsageError } from './errors.ts';
import { assertRepoId, assertSnapshotName, isValidOwner } from './naming.ts';

export interface RepoRef {
  owner: string;
  name: string;
}

export class Layout {
  readonly root: string;
  constructor(root: string) {
    this.root = resolve(root);
  }

  get immutableDir(): string {
    return join(this.root, 'immutable');
  }
  get snapshotsDir(): string {
    return join(this.root, 'snapshots');
  }
  get archivesDir(): string {
    return join(this.root, 'archives');
  }
  get logsDir(): string {
    return join(this.root, 'logs');
  }
  get stateDir(): string {
    return join(this.root, 'state');
  }

  mirror(repo: RepoRef): string {
    assertRepoId(repo.owner, repo.name);
    return join(this.immutableDir, repo.owner, `${repo.name}.git`);
  }
  snapshotParent(repo: RepoRef): string {
    assertRepoId(repo.owner, repo.name);
    return join(this.snapshotsDir, repo.owner, repo.name);
  }
  snapshot(repo: RepoRef, name: string): string {
    return join(this.snapshotParent(repo), assertSnapshotName(name));
  }
  archiveParent(repo: RepoRef): string {
    assertRepoId(repo.owner, repo.name);
    return join(this.archivesDir, repo.owner, repo.name);
  }
  archive(repo: RepoRef, name: string): string {
    return join(this.archiveParent(repo), `${assertSnapshotName(name)}.tar.gz`);
  }
  /** Where export --metadata writes a snapshot's site unless told otherwise. */
  metadataSite(repo: RepoRef, name: string): string {
    return join(this.archiveParent(repo), `${assertSnapshotName(name)}.metadata`);
  }
  repoState(repo: RepoRef): string {
    assertRepoId(repo.owner, repo.name);
    return join(this.stateDir, 'repos', repo.owner, `${repo.name}.json`);
  }
  /** The refs the last successful `git lfs fetch` saw: unchanged refs need no new one (src/engine/lfs.ts). */
  lfsFetchState(repo: RepoRef): string {
    assertRepoId(repo.owner, repo.name);
    return join(this.stateDir, 'lfs', repo.owner, `${repo.name}.json`);
  }
  /** HEAD, ref counts and disk used, recorded by the writers for status (src/engine/repo-summary.ts). */
  repoSummary(repo: RepoRef): string {
    assertRepoId(repo.owner, repo.name);
    return join(this.stateDir, 'summaries', repo.owner, `${repo.name}.json`);
  }
  /** What an owner entry expanded to at the last sync (read-only commands use it instead of the API). */
  ownerListing(owner: string): string {
    if (!isValidOwner(owner)) throw new UsageError(`invalid repository owner ${JSON.stringify(owner)}`);
    return join(this.stateDir, 'owners', `${owner}.json`);
  }
  /** The live GitHub metadata repository of one repository (docs/METADATA_FORMAT.md); snapshots carry a copy. */
  metadataRepo(repo: RepoRef): string {
    assertRepoId(repo.owner, repo.name);
    return join(this.root, 'metadata', repo.owner, `${repo.name}.git`);
  }
  /** Release assets of one repository, one file per sha256, hard-linked into snapshots. */
  metadataAssets(repo: RepoRef): string {
    assertRepoId(repo.owner, repo.name);
    return join(this.root, 'metadata', repo.owner, `${repo.name}.assets`);
  }
  /** ETags and `since` high-water marks of the metadata capture: how the next run asks only for what changed. */
  metadataCaptureState(repo: RepoRef): string {
    assertRepoId(repo.owner, repo.name);
    return join(this.stateDir, 'metadata', repo.owner, `${repo.name}.json`);
  }
  /** What restore --metadata-to created in a GitHub repository, step by step (src/engine/metadata-restore-state.ts). */
  metadataRestoreJournal(target: RepoRef): string {
    assertRepoId(target.owner, target.name);
    return join(this.stateDir, 'metadata-restore', target.owner, `${target.name}.jsonl`);
  }
  /** Held while one restore --metadata-to works on a target. */
  metadataRestoreLock(target: RepoRef): string {
    assertRepoId(target.owner, target.name);
    return join(this.stateDir, 'locks', `metadata-restore__${target.owner}__${target.name}.lock`);
  }
  /** Journal of an in-place restore's swap of the live mirror while it is under way (docs/OPERATIONS.md). */
  swapJournal(repo: RepoRef): string {
    assertRepoId(repo.owner, repo.name);
    return join(this.stateDir, 'swaps', `${repo.owner}__${repo.name}.json`);
  }
  repoLock(repo: RepoRef): string {
    assertRepoId(repo.owner, repo.name);
    return join(this.stateDir, 'locks', `${repo.owner}__${repo.name}.lock`);
  }

  /** Held briefly to register a reader of a snapshot, or by prune while it checks for readers and removes it. */
  snapshotGate(repo: RepoRef, name: string): string {
    assertRepoId(repo.owner, repo.name);
    return join(this.stateDir, 'locks', `${repo.owner}__${repo.name}__${assertSnapshotName(name)}.gate.lock`);
  }
  /** One lock file per process reading a snapshot (verify, restore, export): prune leaves it alone meanwhile. */
  snapshotReaders(repo: RepoRef, name: string): string {
    assertRepoId(repo.owner, repo.name);
    return join(this.stateDir, 'locks', 'readers', `${repo.owner}__${repo.name}__${assertSnapshotName(name)}`);
  }

  /** True when `path` is the root itself or anything inside it. */
  contains(path: string): boolean {
    const rel = relative(this.root, resolve(path));
    return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
  }
}
