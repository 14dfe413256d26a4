// Repository records on the GitHub API stand-in (test/helpers/github-standin.ts), answered like GitHub answers them:
// issues, pull requests with reviews and review comments, conversation comments, labels, milestones, commit
// comments, releases with assets, settings and branch protection. Lists page with `per_page`/`page` and a Link
// header, carry an ETag and answer 304 to a matching If-None-Match, filter on `since` (updated_at, inclusive) and
// sort by `sort`/`direction`. Rate limits (primary, secondary) and per-kind failures (410, 451, 404, 403) are
// switched on by the test. Release assets are served the way GitHub serves them: the API URL asked with
// `Accept: application/octet-stream` redirects (302) to a separate download host, which records what it received.
// The model's types are plain data, so other tests (restore's write routes) can reuse and extend them.
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { closeServer, listenOnLoopback } from './loopback.ts';
import { serveThroughBackend } from './git-http.ts';
import { GitHubStandIn, notFound, paginate, type RecordedRequest, type StandInResponse } from './github-standin.ts';

export interface ModelComment {
  id: number;
  user: string | null;
  body: string;
  created_at: string;
  updated_at: string;
  reactions?: Record<string, number>;
}

export interface ModelReview {
  id: number;
  user: string | null;
  state: string;
  body: string;
  submitted_at: string;
  commit_id: string;
}

export interface ModelReviewComment extends ModelComment {
  pull_request_review_id: number | null;
  in_reply_to_id: number | null;
  path: string;
  diff_hunk: string;
  line: number | null;
  original_line: number | null;
  side: string | null;
  /** As GitHub answers: null unless the comment is on a range of lines. */
  start_line: number | null;
  original_start_line: number | null;
  start_side: string | null;
  commit_id: string;
  original_commit_id: string;
}

export interface ModelPull {
  draft: boolean;
  merged_at: string | null;
  merge_commit_sha: string | null;
  base: { ref: string; sha: string };
  head: { ref: string; sha: string };
  reviews: ModelReview[];
  reviewComments: ModelReviewComment[];
}

export interface ModelIssue {
  number: number;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  state_reason: string | null;
  user: string | null;
  labels: string[];
  assignees: string[];
  milestone: number | null;
  locked: boolean;
  active_lock_reason: string | null;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  reactions: Record<string, number>;
  comments: ModelComment[];
  /** Set: this number is a pull request. */
  pull?: ModelPull;
}

export interface ModelLabel {
  name: string;
  color: string;
  description: string | null;
}

export interface ModelMilestone {
  number: number;
  title: string;
  description: string | null;
  state: 'open' | 'closed';
  due_on: string | null;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
}

export interface ModelCommitComment extends ModelComment {
  commit_id: string;
  path: string | null;
  line: number | null;
  position: number | null;
}

export interface ModelAsset {
  id: number;
  name: string;
  label: string | null;
  content_type: string;
  bytes: Buffer;
  /** The size the API declares, when it is not the bytes' (a truncated download). */
  declaredSize?: number;
  created_at: string;
  updated_at: string;
}

export interface ModelRelease {
  id: number;
  tag_name: string;
  target_commitish: string;
  name: string | null;
  body: string | null;
  draft: boolean;
  prerelease: boolean;
  author: string | null;
  created_at: string;
  published_at: string | null;
  assets: ModelAsset[];
}

export interface ModelSettings {
  description: string | null;
  homepage: string | null;
  topics: string[];
  default_branch: string;
  visibility: 'public' | 'private' | 'internal';
  archived: boolean;
  has_issues: boolean;
  has_wiki: boolean;
  has_projects: boolean;
}

/** The parts of a repository a failure can be put on: each maps to the routes GitHub would refuse. */
export type RecordRoute =
  | 'repository'
  | 'settings'
  | 'branches'
  | 'protection'
  | 'labels'
  | 'milestones'
  | 'issues'
  | 'issueComments'
  | 'pulls'
  | 'reviews'
  | 'reviewComments'
  | 'commitComments'
  | 'releases'
  | 'assets';

const FAILURE_MESSAGES: Record<number, string> = {
  403: 'Resource not accessible by integration',
  404: 'Not Found',
  410: 'Issues are disabled for this repo',
  451: 'Repository access blocked',
};

/** One repository's records. Mutators move `updated_at` forward, as GitHub does. */
export class RepoRecords {
  readonly issues: ModelIssue[] = [];
  readonly labels: ModelLabel[] = [];
  readonly milestones: ModelMilestone[] = [];
  readonly commitComments: ModelCommitComment[] = [];
  readonly releases: ModelRelease[] = [];
  settings: ModelSettings = {
    description: 'Widgets for everyone',
    homepage: null,
    topics: ['widgets'],
    default_branch: 'main',
    visibility: 'private',
    archived: false,
    has_issues: true,
    has_wiki: true,
    has_projects: false,
  };
  /** Branch protection by branch name. */
  readonly protection: Record<string, unknown> = {};
  /** The token's user's access, as the repository's record tells it; GitHub shows protection to admins only. */
  permissions = { admin: true, maintain: true, push: true, triage: true, pull: true };
  /** Status to answer for a route (set with fail(), cleared with heal()). */
  readonly failures = new Map<RecordRoute, number>();
  /** Secondary rate limits on one route of this repository (set with limitSecondary()). */
  readonly secondaryLimits = new Map<RecordRoute, { count: number; retryAfter: number }>();

  constructor(
    readonly records: GitHubRecords,
    readonly owner: string,
    readonly name: string,
    readonly id: number,
  ) {}

  get fullName(): string {
    return `${this.owner}/${this.name}`;
  }

  fail(route: RecordRoute, status: number): this {
    this.failures.set(route, status);
    return this;
  }

  /** The next `count` requests to `route` answer the secondary rate limit with Retry-After `retryAfterSeconds`. */
  limitSecondary(route: RecordRoute, count: number, retryAfterSeconds: number): this {
    this.secondaryLimits.set(route, { count, retryAfter: retryAfterSeconds });
    return this;
  }

  heal(route?: RecordRoute): this {
    if (route) this.failures.delete(route);
    else this.failures.clear();
    return this;
  }

  issue(number: number): ModelIssue {
    const issue = this.issues.find((i) => i.number === number);
    if (!issue) throw new Error(`no issue #${number} in ${this.fullName}`);
    return issue;
  }

  addIssue(fields: Partial<Omit<ModelIssue, 'number' | 'pull'>> & { title: string }): ModelIssue {
    const at = this.records.tick();
    const issue: ModelIssue = {
      number: this.issues.length + 1,
      body: '',
      state: 'open',
      state_reason: null,
      user: 'octocat',
      labels: [],
      assignees: [],
      milestone: null,
      locked: false,
      active_lock_reason: null,
      created_at: at,
      updated_at: at,
      closed_at: null,
      reactions: {},
      comments: [],
      ...fields,
    };
    this.issues.push(issue);
    return issue;
  }

  addPull(fields: Partial<Omit<ModelIssue, 'number' | 'pull'>> & { title: string; head: string; base?: string; sha?: string }): ModelIssue {
    const { head, base = 'main', sha = 'a'.repeat(40), ...issueFields } = fields;
    const issue = this.addIssue(issueFields);
    issue.pull = { draft: false, merged_at: null, merge_commit_sha: null, base: { ref: base, sha: 'b'.repeat(40) }, head: { ref: head, sha }, reviews: [], reviewComments: [] };
    return issue;
  }

  /** Change an issue the way an edit on GitHub does: its updated_at moves. */
  editIssue(number: number, changes: Partial<Omit<ModelIssue, 'number' | 'pull' | 'comments'>>): ModelIssue {
    const issue = this.issue(number);
    Object.assign(issue, changes, { updated_at: this.records.tick() });
    return issue;
  }

  comment(number: number, body: string, user: string | null = 'hubot'): ModelComment {
    const issue = this.issue(number);
    const at = this.records.tick();
    const comment: ModelComment = { id: this.records.nextId(), user, body, created_at: at, updated_at: at };
    issue.comments.push(comment);
    issue.updated_at = at;
    return comment;
  }

  editComment(id: number, body: string): void {
    const comment = this.issues.flatMap((i) => i.comments).find((c) => c.id === id);
    if (!comment) throw new Error(`no comment ${id}`);
    Object.assign(comment, { body, updated_at: this.records.tick() });
  }

  review(number: number, fields: { state?: string; body?: string; user?: string | null } = {}): ModelReview {
    const pull = this.issue(number).pull!;
    const at = this.records.tick();
    const review: ModelReview = { id: this.records.nextId(), user: fields.user ?? 'reviewer', state: fields.state ?? 'APPROVED', body: fields.body ?? '', submitted_at: at, commit_id: pull.head.sha };
    pull.reviews.push(review);
    this.issue(number).updated_at = at;
    return review;
  }

  reviewComment(number: number, fields: { body: string; path: string; reviewId?: number; diffHunk?: string; line?: number; startLine?: number }): ModelReviewComment {
    const issue = this.issue(number);
    const at = this.records.tick();
    const comment: ModelReviewComment = {
      id: this.records.nextId(),
      user: 'reviewer',
      body: fields.body,
      created_at: at,
      updated_at: at,
      pull_request_review_id: fields.reviewId ?? null,
      in_reply_to_id: null,
      path: fields.path,
      diff_hunk: fields.diffHunk ?? '@@ -1,3 +1,4 @@\n line\n+added',
      line: fields.line ?? 2,
      original_line: fields.line ?? 2,
      side: 'RIGHT',
      start_line: fields.startLine ?? null,
      original_start_line: fields.startLine ?? null,
      start_side: fields.startLine === undefined ? null : 'RIGHT',
      commit_id: issue.pull!.head.sha,
      original_commit_id: issue.pull!.head.sha,
    };
    issue.pull!.reviewComments.push(comment);
    issue.updated_at = at;
    return comment;
  }

  addLabel(name: string, color = 'ededed', description: string | null = null): ModelLabel {
    const label = { name, color, description };
    this.labels.push(label);
    return label;
  }

  addMilestone(title: string, fields: Partial<Omit<ModelMilestone, 'number' | 'title'>> = {}): ModelMilestone {
    const at = this.records.tick();
    const milestone: ModelMilestone = { number: this.milestones.length + 1, title, description: null, state: 'open', due_on: null, created_at: at, updated_at: at, closed_at: null, ...fields };
    this.milestones.push(milestone);
    return milestone;
  }

  addCommitComment(fields: { body: string; commit: string; path?: string; line?: number }): ModelCommitComment {
    const at = this.records.tick();
    const comment: ModelCommitComment = { id: this.records.nextId(), user: 'octocat', body: fields.body, created_at: at, updated_at: at, commit_id: fields.commit, path: fields.path ?? null, line: fields.line ?? null, position: null };
    this.commitComments.push(comment);
    return comment;
  }

  addRelease(tag: string, assets: Array<{ name: string; bytes: Buffer; contentType?: string }> = [], fields: Partial<Omit<ModelRelease, 'id' | 'tag_name' | 'assets'>> = {}): ModelRelease {
    const at = this.records.tick();
    const release: ModelRelease = {
      id: this.records.nextId(),
      tag_name: tag,
      target_commitish: 'main',
      name: tag,
      body: `Release ${tag}`,
      draft: false,
      prerelease: false,
      author: 'octocat',
      created_at: at,
      published_at: at,
      assets: assets.map((a) => ({ id: this.records.nextId(), name: a.name, label: null, content_type: a.contentType ?? 'application/octet-stream', bytes: a.bytes, created_at: at, updated_at: at })),
      ...fields,
    };
    this.releases.push(release);
    return release;
  }
}

/** A response GitHub would give instead of the records, or undefined to answer normally. */
type Gate = (request: RecordedRequest) => StandInResponse | undefined;

/**
 * Every repository's records on one stand-in, and the download host release assets redirect to. `tick()` is the
 * model's clock: each change is one minute after the last, so updated_at orders changes exactly.
 */
export class GitHubRecords {
  readonly repos = new Map<string, RepoRecords>();
  /** The status each record route answered, in order ("GET /repos/o/r/labels 304"). */
  readonly answers: Array<{ path: string; status: number }> = [];
  /** Requests the download host received (release asset bytes). */
  readonly downloads: Array<{ path: string; headers: IncomingHttpHeaders }> = [];
  private clock = Date.parse('2026-11-01T00:00:00Z');
  private ids = 5000;
  private secondaryLimited = 0;
  private secondaryRetryAfter = 1;
  private primaryLimited = 0;
  private primaryResetIn = 1;
  private primaryAfter = 0;
  private downloadServer: Server | undefined;
  private downloadUrl = '';

  /** `apiPrefix`: where the API lives on the stand-in ("/api/v3" for a GitHub Enterprise-style GITHUB_API_URL). */
  constructor(
    readonly standIn: GitHubStandIn,
    readonly apiPrefix = '',
  ) {}

  tick(): string {
    this.clock += 60_000;
    return new Date(this.clock).toISOString().replace('.000Z', 'Z');
  }

  nextId(): number {
    return ++this.ids;
  }

  /** The next `count` API requests answer GitHub's secondary rate limit (403 with Retry-After). */
  secondaryRateLimit(count: number, retryAfterSeconds = 1): this {
    this.secondaryLimited = count;
    this.secondaryRetryAfter = retryAfterSeconds;
    return this;
  }

  /**
   * After `after` more API requests, the next `count` answer the primary limit (x-ratelimit-remaining: 0, reset in
   * `resetInSeconds`).
   */
  primaryRateLimit(count: number, resetInSeconds = 1, after = 0): this {
    this.primaryLimited = count;
    this.primaryResetIn = resetInSeconds;
    this.primaryAfter = after;
    return this;
  }

  /** The rate limits are lifted (a new hour). */
  liftRateLimits(): this {
    this.primaryLimited = 0;
    this.secondaryLimited = 0;
    return this;
  }

  /** The API requests the stand-in received for repository records (the download host's are in `downloads`). */
  get apiRequests(): RecordedRequest[] {
    return this.standIn.requests.filter((r) => r.path.startsWith(`${this.apiPrefix}/repos/`));
  }

  async start(): Promise<this> {
    this.downloadServer = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
      this.downloads.push({ path, headers: req.headers });
      const match = /^\/download\/(\d+)\//.exec(path);
      const asset = match ? this.findAsset(Number(match[1])) : undefined;
      if (!asset) {
        res.writeHead(404);
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': asset.content_type, 'content-length': String(asset.bytes.length) });
      res.end(asset.bytes);
    });
    this.downloadUrl = await listenOnLoopback(this.downloadServer);
    return this;
  }

  async close(): Promise<void> {
    await closeServer(this.downloadServer);
  }

  repo(owner: string, name: string): RepoRecords {
    const key = `${owner}/${name}`.toLowerCase();
    let repo = this.repos.get(key);
    if (!repo) {
      repo = new RepoRecords(this, owner, name, 100 + this.repos.size);
      this.repos.set(key, repo);
      this.install(repo);
    }
    return repo;
  }

  private findAsset(id: number): ModelAsset | undefined {
    for (const repo of this.repos.values()) for (const release of repo.releases) for (const asset of release.assets) if (asset.id === id) return asset;
    return undefined;
  }

  /** Rate limits first (they apply to every request), then the failure set on the route. */
  private gate(repo: RepoRecords, route: RecordRoute): Gate {
    const secondary = (retryAfter: number): StandInResponse => ({
      status: 403,
      headers: { 'retry-after': String(retryAfter) },
      body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api', status: '403' },
    });
    return (): StandInResponse | undefined => {
      if (this.secondaryLimited > 0) {
        this.secondaryLimited--;
        return secondary(this.secondaryRetryAfter);
      }
      const onRoute = repo.secondaryLimits.get(route);
      if (onRoute && onRoute.count > 0) {
        onRoute.count--;
        return secondary(onRoute.retryAfter);
      }
      if (this.primaryLimited > 0 && this.primaryAfter > 0) this.primaryAfter--;
      else if (this.primaryLimited > 0) {
        this.primaryLimited--;
        return {
          status: 403,
          headers: { 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + this.primaryResetIn), 'x-ratelimit-resource': 'core' },
          body: { message: 'API rate limit exceeded for user ID 1.', documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api', status: '403' },
        };
      }
      const status = repo.failures.get('repository') ?? repo.failures.get(route);
      if (status === undefined) return undefined;
      const message = status === 410 && route !== 'issues' && route !== 'issueComments' ? 'Gone' : (FAILURE_MESSAGES[status] ?? 'Error');
      return { status, body: { message, documentation_url: 'https://docs.github.com/rest', status: String(status) } };
    };
  }

  private install(repo: RepoRecords): void {
    const s = this.standIn;
    const prefix = `${this.apiPrefix}/repos/${repo.owner}/${repo.name}`;
    const get = (route: RecordRoute, pattern: string, answer: (request: RecordedRequest, params: string[]) => StandInResponse) => {
      const regex = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}${pattern}$`);
      const gate = this.gate(repo, route);
      s.on('GET', regex, (request, params) => {
        const response = gate(request) ?? withEtag(request, answer(request, params));
        this.answers.push({ path: request.path, status: response.status });
        return response;
      });
    };
    const list = (request: RecordedRequest, items: unknown[]) => paginate(s, request, items);
    const base = `${s.url}${prefix}`;
    const user = (login: string | null) => (login === null ? null : { login, id: login.length, type: 'User' });
    const issueJson = (i: ModelIssue) => ({
      id: 90000 + i.number,
      number: i.number,
      title: i.title,
      body: i.body,
      state: i.state,
      state_reason: i.state_reason,
      user: user(i.user),
      labels: i.labels.map((name) => ({ name, color: repo.labels.find((l) => l.name === name)?.color ?? 'ededed' })),
      assignees: i.assignees.map(user),
      milestone: i.milestone === null ? null : { number: i.milestone, title: repo.milestones.find((m) => m.number === i.milestone)?.title ?? '' },
      locked: i.locked,
      active_lock_reason: i.active_lock_reason,
      comments: i.comments.length,
      created_at: i.created_at,
      updated_at: i.updated_at,
      closed_at: i.closed_at,
      reactions: { url: `${base}/issues/${i.number}/reactions`, total_count: Object.values(i.reactions).reduce((a, b) => a + b, 0), ...i.reactions },
      url: `${base}/issues/${i.number}`,
      html_url: `https://github.example/${repo.fullName}/issues/${i.number}`,
      ...(i.pull ? { pull_request: { url: `${base}/pulls/${i.number}` } } : {}),
    });
    const pullJson = (i: ModelIssue, single: boolean) => ({
      ...issueJson(i),
      reactions: undefined,
      state_reason: undefined,
      pull_request: undefined,
      draft: i.pull!.draft,
      merged_at: i.pull!.merged_at,
      merge_commit_sha: i.pull!.merge_commit_sha,
      ...(single ? { merged: i.pull!.merged_at !== null } : {}),
      base: { ...i.pull!.base, repo: { full_name: repo.fullName } },
      head: { ...i.pull!.head, repo: { full_name: repo.fullName } },
    });
    const commentJson = (i: ModelIssue, c: ModelComment) => ({ ...c, user: user(c.user), issue_url: `${base}/issues/${i.number}`, url: `${base}/issues/comments/${c.id}` });
    const reviewCommentJson = (i: ModelIssue, c: ModelReviewComment) => ({ ...c, user: user(c.user), pull_request_url: `${base}/pulls/${i.number}` });
    const byNumber = (n: string) => repo.issues.find((i) => i.number === Number(n));

    get('settings', '', () => ({
      status: 200,
      body: { id: repo.id, name: repo.name, full_name: repo.fullName, owner: { login: repo.owner }, private: repo.settings.visibility !== 'public', ...repo.settings, permissions: { ...repo.permissions } },
    }));
    get('branches', '/branches', (req) =>
      list(req, Object.keys(repo.protection).filter(() => req.query.protected === 'true').map((name) => ({ name, protected: true, commit: { sha: 'c'.repeat(40) } }))),
    );
    get('protection', '/branches/([^/]+)/protection', (_req, [name]) => {
      // What GitHub answers a user who is no admin of the repository.
      if (!repo.permissions.admin) return { status: 404, body: notFound() };
      const rules = repo.protection[decodeURIComponent(name!)];
      return rules === undefined ? { status: 404, body: { message: 'Branch not protected' } } : { status: 200, body: rules };
    });
    get('labels', '/labels', (req) => list(req, [...repo.labels].sort((a, b) => a.name.localeCompare(b.name))));
    get('milestones', '/milestones', (req) => list(req, repo.milestones.filter((m) => req.query.state === 'all' || m.state === (req.query.state ?? 'open'))));
    get('issues', '/issues', (req) => {
      const state = req.query.state ?? 'open';
      const issues = repo.issues.filter((i) => state === 'all' || i.state === state).filter(since(req));
      return list(req, sorted(req, issues).map(issueJson));
    });
    get('issues', '/issues/(\\d+)', (_req, [n]) => {
      const issue = byNumber(n!);
      return issue ? { status: 200, body: issueJson(issue) } : { status: 404, body: notFound() };
    });
    get('issueComments', '/issues/comments', (req) => {
      const comments = repo.issues.flatMap((i) => i.comments.map((c) => ({ issue: i, c }))).filter((x) => since(req)(x.c));
      return list(req, sorted(req, comments.map((x) => ({ ...x, created_at: x.c.created_at, updated_at: x.c.updated_at, number: x.c.id }))).map((x) => commentJson(x.issue, x.c)));
    });
    get('pulls', '/pulls', (req) => {
      const state = req.query.state ?? 'open';
      const pulls = repo.issues.filter((i) => i.pull && (state === 'all' || i.state === state));
      return list(req, sorted(req, pulls).map((i) => pullJson(i, false)));
    });
    get('pulls', '/pulls/(\\d+)', (_req, [n]) => {
      const issue = byNumber(n!);
      return issue?.pull ? { status: 200, body: pullJson(issue, true) } : { status: 404, body: notFound() };
    });
    get('reviews', '/pulls/(\\d+)/reviews', (req, [n]) => {
      const issue = byNumber(n!);
      return issue?.pull ? list(req, issue.pull.reviews.map((r) => ({ ...r, user: user(r.user) }))) : { status: 404, body: notFound() };
    });
    get('reviewComments', '/pulls/comments', (req) => {
      const comments = repo.issues.flatMap((i) => (i.pull?.reviewComments ?? []).map((c) => ({ issue: i, c }))).filter((x) => since(req)(x.c));
      return list(req, sorted(req, comments.map((x) => ({ ...x, created_at: x.c.created_at, updated_at: x.c.updated_at, number: x.c.id }))).map((x) => reviewCommentJson(x.issue, x.c)));
    });
    get('commitComments', '/comments', (req) => list(req, repo.commitComments.map((c) => ({ ...c, user: user(c.user) }))));
    const assetJson = (a: ModelAsset) => ({
      id: a.id,
      name: a.name,
      label: a.label,
      content_type: a.content_type,
      size: a.declaredSize ?? a.bytes.length,
      state: 'uploaded',
      created_at: a.created_at,
      updated_at: a.updated_at,
      url: `${base}/releases/assets/${a.id}`,
      browser_download_url: `https://github.example/${repo.fullName}/releases/download/${a.name}`,
    });
    get('releases', '/releases', (req) =>
      list(req, [...repo.releases].reverse().map((r) => ({ ...r, author: user(r.author), assets: r.assets.map(assetJson), url: `${base}/releases/${r.id}` }))),
    );
    get('assets', '/releases/assets/(\\d+)', (req, [id]) => {
      const asset = repo.releases.flatMap((r) => r.assets).find((a) => a.id === Number(id));
      if (!asset) return { status: 404, body: notFound() };
      if (String(req.headers.accept ?? '').includes('application/octet-stream')) {
        return { status: 302, headers: { location: `${this.downloadUrl}/download/${asset.id}/${encodeURIComponent(asset.name)}` } };
      }
      return { status: 200, body: assetJson(asset) };
    });
  }
}

/** `since`: records updated at or after it (GitHub compares updated_at). */
function since(request: RecordedRequest): (record: { updated_at: string }) => boolean {
  const from = request.query.since;
  return from ? (record) => Date.parse(record.updated_at) >= Date.parse(from) : () => true;
}

/** `sort` (created, updated) and `direction` (default desc), as the list endpoints take them. */
function sorted<T extends { created_at: string; updated_at: string; number: number }>(request: RecordedRequest, items: T[]): T[] {
  const key = request.query.sort === 'updated' ? 'updated_at' : 'created_at';
  const sign = request.query.direction === 'asc' ? 1 : -1;
  return [...items].sort((a, b) => sign * (a[key] < b[key] ? -1 : a[key] > b[key] ? 1 : a.number - b.number));
}

/** GitHub's ETag of a 200 (a hash of what it answers) and its 304 to a request that names it. */
function withEtag(request: RecordedRequest, response: StandInResponse): StandInResponse {
  if (response.status !== 200) return response;
  const etag = `W/"${createHash('sha256').update(JSON.stringify(response.body ?? null)).update(response.headers?.link ?? '').digest('hex').slice(0, 32)}"`;
  const headers = { ...response.headers, etag };
  if (request.headers['if-none-match'] === etag) return { status: 304, headers };
  return { ...response, headers };
}

/** One loopback server, as github.com is: the API stand-in with repository records, and git over HTTP serving
 *  `gitDir` for every `*.git` URL. */
export async function startGitHubWithRecords(gitDir: string): Promise<{ standIn: GitHubStandIn; records: GitHubRecords }> {
  const standIn = await new GitHubStandIn().start();
  const records = await new GitHubRecords(standIn).start();
  standIn.serveRaw((req, res) => {
    if (!/\.git\//.test(req.url ?? '')) return false;
    void serveThroughBackend(gitDir, req, res);
    return true;
  });
  return { standIn, records };
}
