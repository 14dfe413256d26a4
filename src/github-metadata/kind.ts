// What each kind's collector is given and gives back (src/github-metadata/capture.ts runs them in turn).
import type { GitHubClient } from '../github/client.ts';
import type { RepositoryRecordAnswer } from '../github/repository.ts';
import type { AssetMark, CaptureState, PageMark, Refusal, StreamMark } from './capture-state.ts';
import type { KindCapture } from './format.ts';
import type { MetadataTree } from './metadata-repo.ts';

export interface CollectContext {
  client: GitHubClient;
  owner: string;
  name: string;
  /** /repos/<owner>/<name>, the prefix of every request. */
  repoPath: string;
  /** The marks of the last capture (read only: each kind returns the marks to keep). */
  state: CaptureState;
  /** When this capture started (ISO 8601). */
  capturedAt: string;
  /** The repository's record as this run already got it, with its ETag, or that run's 304 (collect-settings.ts). */
  repositoryAnswer?: RepositoryRecordAnswer;
  tree: MetadataTree;
  /** Documents of the tree as of the last capture, by path. */
  readDocuments(paths: Iterable<string>): Promise<Map<string, unknown>>;
  /** Where release assets are kept, one file per sha256. */
  assetsDir: string;
  /** Release assets over this many bytes are not downloaded; null: no cap. */
  assetMaxBytes: number | null;
  downloadAssets: boolean;
  signal?: AbortSignal;
  /** The fetch the API client uses, for the download an asset redirects to. */
  fetch?: typeof fetch;
}

export interface KindResult {
  state: KindCapture['state'];
  reason?: string;
  skipped?: Array<{ what: string; reason: string }>;
  /** Documents to write, by tree path (validated against the format before they are). */
  documents: Map<string, unknown>;
  /** Marks to keep for the next run; left out, the old ones stay. */
  pages?: Record<string, PageMark>;
  streams?: Record<string, StreamMark>;
  assets?: Record<string, AssetMark>;
  /** Settings only: branch protection refused to this token (kept), or read (null: forgotten); left out, unchanged. */
  protectionRefused?: Refusal | null;
  /** Settings only: the record's `has_wiki`, when the record was read (answered, or a 304 to the kept one). */
  hasWiki?: boolean;
  /** No further request for this repository can succeed in this run (rate limit past the budget, a refused token,
   *  an API that does not answer): the kinds after it are not read, and say so. */
  stopsRepository?: boolean;
}
