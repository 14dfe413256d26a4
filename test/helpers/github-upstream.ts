// A repository "on GitHub" for a test: a fresh upstream served as git over HTTP beside the API stand-in with its
// records, on one loopback server as github.com serves both. The setup several metadata tests share.
import { join } from 'node:path';
import { createUpstream, type Upstream } from './git-fixtures.ts';
import { startGitHubWithRecords, type GitHubRecords, type RepoRecords } from './github-records.ts';
import type { GitHubStandIn } from './github-standin.ts';

export interface UpstreamOnGitHub {
  upstream: Upstream;
  standIn: GitHubStandIn;
  records: GitHubRecords;
  /** The records of `owner/name`, the upstream's repository. */
  repo: RepoRecords;
}

/** Start it; `cleanups` (cleanupAfterEach) removes the upstream and closes both servers. */
export async function startUpstreamOnGitHub(cleanups: Array<() => void>, options: { owner?: string; name?: string } = {}): Promise<UpstreamOnGitHub> {
  const { owner = 'acme', name = 'widgets' } = options;
  const upstream = createUpstream({ owner, name });
  const { standIn, records } = await startGitHubWithRecords(join(upstream.tmp, 'upstream'));
  cleanups.push(() => upstream.cleanup(), () => void standIn.close(), () => void records.close());
  return { upstream, standIn, records, repo: records.repo(owner, name) };
}
