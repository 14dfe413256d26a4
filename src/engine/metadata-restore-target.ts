// The GitHub repository restore --metadata-to writes into, through the API, and what one run against it holds
// (docs/RESTORE_RUNBOOK.md "Restoring issues, pull requests and releases"): each call's failure becomes a message that
// names what was being done, and what the run asks more than once (a branch, a commit, a release's upload URL) is
// asked once.
import { BackupError } from '../errors.ts';
import { describeApiError, isHttpError } from '../github/api-errors.ts';
import type { GitHubClient } from '../github/client.ts';
import type { SnapshotMetadata } from '../github-metadata/read.ts';
import type { RestoreMetadataResult } from '../types.ts';
import type { EngineContext } from './context.ts';

export interface IssueListed {
  number: number;
  body?: string | null;
}

/** A record listed to look for the marker of a request whose answer was lost. */
export interface Listed {
  id: number;
  body?: string | null;
}

/** GitHub's words for a refused request (its `errors`), for the output: "Pull request review thread line must be part of the diff". */
export function refusalOf(error: unknown): string {
  const data = (error as { response?: { data?: { message?: unknown; errors?: unknown } } }).response?.data;
  const errors = Array.isArray(data?.errors) ? data.errors.map((e) => (typeof e === 'string' ? e : typeof e?.message === 'string' ? e.message : typeof e?.code === 'string' ? `${e.field ?? ''} ${e.code}`.trim() : '')).filter(Boolean) : [];
  const message = typeof data?.message === 'string' ? data.message : (error as Error).message;
  return [message, ...errors].join(': ').slice(0, 300);
}

export class TargetRepository {
  private readonly branches = new Map<string, boolean>();
  private readonly commits = new Map<string, boolean>();
  private readonly uploadUrls = new Map<number, string>();
  /** Requests sent that write (anything but GET), refused ones included. */
  writes = 0;
  constructor(
    private readonly ctx: EngineContext,
    private readonly client: GitHubClient,
    readonly owner: string,
    readonly repo: string,
  ) {}

  get id(): string {
    return `${this.owner}/${this.repo}`;
  }

  async call<T>(what: string, request: () => Promise<{ data: T }>): Promise<T> {
    try {
      return (await request()).data;
    } catch (error) {
      throw describeApiError(error, `${what} in ${this.id}`, this.ctx.redactor);
    }
  }

  /** null when GitHub answers `status` (e.g. 404, 422): the caller knows what that means. */
  async callOr<T>(status: number, what: string, request: () => Promise<{ data: T }>): Promise<T | null> {
    const answer = await this.callOrRefusal(status, what, request);
    return 'refused' in answer ? null : answer.data;
  }

  /** The answer, or GitHub's words when it answers `status` (a 422 says why it refused). */
  async callOrRefusal<T>(status: number, what: string, request: () => Promise<{ data: T }>): Promise<{ data: T } | { refused: string }> {
    try {
      return { data: (await request()).data };
    } catch (error) {
      if (isHttpError(error) && error.status === status) return { refused: this.ctx.redactor.redact(refusalOf(error)) };
      throw describeApiError(error, `${what} in ${this.id}`, this.ctx.redactor);
    }
  }

  private get params() {
    return { owner: this.owner, repo: this.repo };
  }

  exists(): Promise<unknown> {
    return this.call('reading the repository', () => this.client.request('GET /repos/{owner}/{repo}', this.params));
  }

  issues(): Promise<IssueListed[]> {
    return this.call('listing issues', async () => ({ data: await this.client.paginate('GET /repos/{owner}/{repo}/issues', { ...this.params, state: 'all', per_page: 100 }) }));
  }

  /** Every record of a list route (comments of an issue, reviews of a pull request, ...), each page followed. */
  list(what: string, route: string, parameters: Record<string, unknown>): Promise<Listed[]> {
    return this.call(what, async () => ({ data: (await this.client.paginate(route, { ...this.params, ...parameters, per_page: 100 })) as Listed[] }));
  }

  comments(issue: number): Promise<Listed[]> {
    return this.list(`listing the comments of #${issue}`, 'GET /repos/{owner}/{repo}/issues/{issue_number}/comments', { issue_number: issue });
  }

  async hasBranch(branch: string): Promise<boolean> {
    if (!this.branches.has(branch)) {
      const found = await this.callOr(404, `looking for branch ${branch}`, () => this.client.request('GET /repos/{owner}/{repo}/branches/{branch}', { ...this.params, branch }));
      this.branches.set(branch, found !== null);
    }
    return this.branches.get(branch)!;
  }

  /** Whether the target's git data has commit `sha` (it does after restore --push of the snapshot). */
  async hasCommit(sha: string): Promise<boolean> {
    if (!/^[0-9a-f]{40,64}$/.test(sha)) return false;
    if (!this.commits.has(sha)) {
      const found = await this.callOr(404, `looking for commit ${sha.slice(0, 12)}`, () => this.client.request('GET /repos/{owner}/{repo}/git/commits/{commit_sha}', { ...this.params, commit_sha: sha }));
      this.commits.set(sha, found !== null);
    }
    return this.commits.get(sha)!;
  }

  async uploadUrl(releaseId: number): Promise<string> {
    if (!this.uploadUrls.has(releaseId)) {
      const release = await this.call(`reading release ${releaseId}`, () => this.client.request('GET /repos/{owner}/{repo}/releases/{release_id}', { ...this.params, release_id: releaseId }));
      this.uploadUrls.set(releaseId, release.upload_url);
    }
    return this.uploadUrls.get(releaseId)!;
  }

  private count(route: string): void {
    if (!route.startsWith('GET ')) this.writes++;
  }

  rememberUploadUrl(releaseId: number, url: string): void {
    this.uploadUrls.set(releaseId, url);
  }

  request<T = unknown>(what: string, route: string, parameters: Record<string, unknown>): Promise<T> {
    this.count(route);
    return this.call(what, () => this.client.request(route, { ...this.params, ...parameters }) as Promise<{ data: T }>);
  }

  requestOr<T = unknown>(status: number, what: string, route: string, parameters: Record<string, unknown>): Promise<T | null> {
    this.count(route);
    return this.callOr(status, what, () => this.client.request(route, { ...this.params, ...parameters }) as Promise<{ data: T }>);
  }

  requestOrRefusal<T = unknown>(status: number, what: string, route: string, parameters: Record<string, unknown>): Promise<{ data: T } | { refused: string }> {
    this.count(route);
    return this.callOrRefusal(status, what, () => this.client.request(route, { ...this.params, ...parameters }) as Promise<{ data: T }>);
  }
}

/** GitHub refused a step for a reason a later run may not meet: it is reported as not restored and the run goes on. */
export class StepRefused extends Error {}

export type Counts = RestoreMetadataResult['created'];
export const noCounts = (): Counts => ({
  labels: 0,
  milestones: 0,
  issues: 0,
  pulls: 0,
  pullsAsIssues: 0,
  comments: 0,
  closed: 0,
  locked: 0,
  reviews: 0,
  reviewsAsComments: 0,
  reviewComments: 0,
  threadsAsComments: 0,
  commitComments: 0,
  releases: 0,
  assets: 0,
});

/** One run of restore --metadata-to: the target, what the journal says is done, and what this run did. */
export interface Run {
  ctx: EngineContext;
  target: TargetRepository;
  source: string;
  metadata: SnapshotMetadata;
  done: ReadonlyMap<string, number>;
  existing: IssueListed[];
  counts: Counts;
  /** Records recreated in a lesser form than the original (a review thread as a comment), and why. */
  fellBack: RestoreMetadataResult['fellBack'];
  /** Journal a fact besides a step's own record: `as-pull:<n>` (a real pull request), `placed:<thread>` (on its line). */
  note(key: string, id: number): Promise<void>;
}

const AS_PULL = 'as-pull:';
export const asPullKey = (number: number): string => `${AS_PULL}${number}`;
/** The pull requests a journal says were recreated as pull requests. */
export const asPullsIn = (done: ReadonlyMap<string, number>): Set<number> => new Set([...done.keys()].filter((k) => k.startsWith(AS_PULL)).map((k) => Number(k.slice(AS_PULL.length))));

/** The new number or id of a step that ran before this one. */
export function doneId(run: Pick<Run, 'done'>, key: string): number {
  const id = run.done.get(key);
  if (id === undefined) throw new BackupError(`restore of the metadata: ${key} was not restored before what depends on it`);
  return id;
}

/** The old number of the issue or pull request of a parent key (`pull:3`). */
export const numberOf = (parent: string): number => Number(parent.slice(parent.indexOf(':') + 1));
