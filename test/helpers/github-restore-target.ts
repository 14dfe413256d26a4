// A GitHub repository to restore metadata into, on the GitHub API stand-in: an in-memory model of its labels,
// milestones, issues (pull requests among them), comments, reviews, review and commit comments, locks, branches and
// releases, with the write routes restore --metadata-to uses answering as GitHub does (201 with the record, 422 for a
// duplicate name or tag, for a review comment on a line outside the diff or a comment on a missing commit, 404), and
// an upload host of its own on loopback for release assets, as uploads.github.com is beside api.github.com. With
// `withGit`, branches, commits and diffs are those of a real bare repository (test/helpers/target-git.ts). Tests
// assert on what the model holds and on the requests the stand-in (and `uploads`) received.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { closeServer, listenOnLoopback } from './loopback.ts';
import { notFound, paginate, type GitHubStandIn, type Handler, type RecordedRequest, type StandInResponse } from './github-standin.ts';
import { TargetGit, type DiffLines } from './target-git.ts';

export interface TargetComment {
  id: number;
  body: string;
}

export interface TargetIssue {
  number: number;
  title: string;
  body: string;
  state: 'open' | 'closed';
  stateReason: string | null;
  labels: string[];
  milestone: number | null;
  /** Set for a pull request created through POST /pulls. */
  pull: { head: string; base: string; draft: boolean } | null;
  comments: TargetComment[];
  locked: boolean;
  lockReason: string | null;
  reviews: TargetReview[];
  reviewComments: TargetReviewComment[];
}

export interface TargetReview {
  id: number;
  body: string;
  state: string;
  commitId: string;
}

export interface TargetReviewComment {
  id: number;
  body: string;
  reviewId: number;
  commitId: string;
  path: string;
  line: number;
  side: string;
  /** A comment on a range of lines: its first line. */
  startLine?: number;
  inReplyTo: number | null;
}

export interface TargetCommitComment {
  id: number;
  commitId: string;
  body: string;
  path: string | null;
  position: number | null;
  line: number | null;
}

/** GitHub's own words when a review or review comment names a line the diff does not show. */
const notInTheDiff = (): StandInResponse => ({
  status: 422,
  body: { message: 'Unprocessable Entity', errors: ['Pull request review thread line must be part of the diff'], documentation_url: 'https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request', status: '422' },
});
const LOCK_REASONS = new Set(['off-topic', 'too heated', 'resolved', 'spam']);

export interface TargetAsset {
  id: number;
  name: string;
  label: string | null;
  contentType: string;
  bytes: Buffer;
}

export interface TargetRelease {
  id: number;
  tagName: string;
  targetCommitish: string;
  name: string;
  body: string;
  draft: boolean;
  prerelease: boolean;
  assets: TargetAsset[];
}

const validationFailed = (resource: string, code: string, field: string): StandInResponse => ({
  status: 422,
  body: { message: 'Validation Failed', errors: [{ resource, code, field }], documentation_url: 'https://docs.github.com/rest', status: '422' },
});

/** Every string in a request body (a review's comments included). */
function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsOf);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(stringsOf);
  return [];
}

/** Each `@login` of `logins` in a body the stand-in received that GitHub would take as a mention (and notify). */
export function mentionsIn(standIn: { requests: RecordedRequest[] }, logins: string[]): string[] {
  const escaped = logins.map((l) => l.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  // A mention: `@login` not inside a word, an e-mail address or a code span (the spans are taken out first).
  const mention = new RegExp(`(?<![\\w\`])@(${escaped.join('|')})(?![\\w-])`, 'g');
  return standIn.requests.flatMap((r) =>
    stringsOf(r.body)
      .map((text) => text.replace(/(`+)[\s\S]*?\1/g, ''))
      .flatMap((text) => [...text.matchAll(mention)].map((m) => `${r.method} ${r.path}: ${m[0]}`)),
  );
}

export class RestoreTargetModel {
  readonly labels = new Map<string, { id: number; name: string; color: string; description: string }>();
  readonly milestones: Array<{ number: number; title: string; state: string; description: string; dueOn: string | null }> = [];
  readonly issues: TargetIssue[] = [];
  readonly releases: TargetRelease[] = [];
  readonly branches = new Set<string>();
  readonly commitComments: TargetCommitComment[] = [];
  /** The target's git data, when a test pushed some (withGit): branches, commits and diffs come from it. */
  git: TargetGit | undefined;
  /** Answers for the next writes instead of applying them (a rate limit, say), first one first. */
  readonly refusals: StandInResponse[] = [];
  /** Called after a write is applied and before it is answered: a test can kill the client there. */
  onWrite: ((request: { method: string; path: string }) => void | Promise<void>) | undefined;
  /** Requests the upload host received. */
  readonly uploads: Array<{ method: string; path: string; query: Record<string, string> }> = [];
  private uploadServer: Server | undefined;
  private uploadUrl = '';
  private nextNumber = 1;
  private nextId = 5000;

  constructor(
    private readonly standIn: GitHubStandIn,
    readonly owner: string,
    readonly repo: string,
  ) {}

  get prefix(): string {
    return `/repos/${this.owner}/${this.repo}`;
  }

  /** A new repository's default labels, as GitHub creates them. */
  withDefaultLabels(): this {
    this.labels.set('bug', { id: this.nextId++, name: 'bug', color: 'd73a4a', description: "Something isn't working" });
    this.labels.set('documentation', { id: this.nextId++, name: 'documentation', color: '0075ca', description: 'Improvements or additions to documentation' });
    return this;
  }

  /** Branches, commits and diffs from the bare repository `gitDir` (what restore --push pushed there). */
  withGit(gitDir: string): this {
    this.git = new TargetGit(gitDir);
    return this;
  }

  hasBranch(name: string): boolean {
    return this.git ? this.git.hasBranch(name) : this.branches.has(name);
  }

  addIssue(title: string, body = ''): TargetIssue {
    const issue: TargetIssue = { number: this.nextNumber++, title, body, state: 'open', stateReason: null, labels: [], milestone: null, pull: null, comments: [], locked: false, lockReason: null, reviews: [], reviewComments: [] };
    this.issues.push(issue);
    return issue;
  }

  issue(number: number): TargetIssue | undefined {
    return this.issues.find((i) => i.number === number);
  }

  private issueJson(issue: TargetIssue): Record<string, unknown> {
    return {
      id: 100_000 + issue.number,
      number: issue.number,
      title: issue.title,
      body: issue.body,
      state: issue.state,
      state_reason: issue.stateReason,
      labels: issue.labels.map((name) => ({ name })),
      milestone: issue.milestone === null ? null : { number: issue.milestone },
      comments: issue.comments.length,
      locked: issue.locked,
      active_lock_reason: issue.lockReason,
      ...(issue.pull ? { pull_request: { url: `${this.standIn.url}${this.prefix}/pulls/${issue.number}` } } : {}),
    };
  }

  private releaseJson(release: TargetRelease): Record<string, unknown> {
    return {
      id: release.id,
      tag_name: release.tagName,
      name: release.name,
      body: release.body,
      draft: release.draft,
      prerelease: release.prerelease,
      upload_url: `${this.uploadUrl}${this.prefix}/releases/${release.id}/assets{?name,label}`,
      assets: release.assets.map((a) => ({ id: a.id, name: a.name, label: a.label, size: a.bytes.length, content_type: a.contentType })),
    };
  }

  private async written(request: RecordedRequest | { method: string; path: string }, response: StandInResponse): Promise<StandInResponse> {
    await this.onWrite?.({ method: request.method, path: request.path });
    return response;
  }

  private createIssue(body: { title: string; body?: string; labels?: string[]; milestone?: number }, pull: TargetIssue['pull']): TargetIssue {
    const issue = this.addIssue(body.title, body.body ?? '');
    issue.labels = body.labels ?? [];
    issue.milestone = body.milestone ?? null;
    issue.pull = pull;
    // GitHub creates a label an issue names that the repository lacks.
    for (const name of issue.labels) if (!this.labels.has(name)) this.labels.set(name, { id: this.nextId++, name, color: 'ededed', description: '' });
    return issue;
  }

  private install(): this {
    const s = this.standIn;
    const p = this.prefix;
    const issueRoute = (suffix = '') => new RegExp(`^${p}/issues/(\\d+)${suffix}$`);
    const refusable = (method: string, pattern: string | RegExp, handler: Handler) => s.on(method, pattern, (req, params) => this.refusals.shift() ?? handler(req, params));
    const found = <T>(value: T | undefined, answer: (v: T) => StandInResponse | Promise<StandInResponse>) => (value === undefined ? { status: 404, body: notFound() } : answer(value));

    s.on('GET', p, () => ({ status: 200, body: { id: 42, name: this.repo, full_name: `${this.owner}/${this.repo}`, private: true } }));
    s.on('GET', `${p}/issues`, (req) => {
      const state = req.query.state ?? 'open';
      const list = this.issues.filter((i) => state === 'all' || i.state === state).sort((a, b) => b.number - a.number);
      return paginate(s, req, list.map((i) => this.issueJson(i)));
    });
    refusable('POST', `${p}/issues`, (req) => this.written(req, { status: 201, body: this.issueJson(this.createIssue(req.body as { title: string }, null)) }));
    refusable('POST', `${p}/pulls`, (req) => {
      const body = req.body as { title: string; body?: string; head: string; base: string; draft?: boolean };
      if (!this.hasBranch(body.head) || !this.hasBranch(body.base)) return validationFailed('PullRequest', 'invalid', this.hasBranch(body.head) ? 'base' : 'head');
      if (this.git && !this.git.commitsBetween(body.base, body.head)) return { status: 422, body: { message: 'Validation Failed', errors: [{ resource: 'PullRequest', code: 'custom', message: `No commits between ${body.base} and ${body.head}` }], status: '422' } };
      const issue = this.createIssue({ title: body.title, body: body.body }, { head: body.head, base: body.base, draft: Boolean(body.draft) });
      return this.written(req, { status: 201, body: { ...this.issueJson(issue), head: { ref: body.head }, base: { ref: body.base } } });
    });
    refusable('PATCH', issueRoute(), (req, [n]) =>
      found(this.issue(Number(n)), (issue) => {
        const body = req.body as { state?: 'open' | 'closed'; state_reason?: string; labels?: string[]; milestone?: number };
        if (body.state) issue.state = body.state;
        if (body.state_reason) issue.stateReason = body.state_reason;
        if (body.labels) issue.labels = body.labels;
        if (body.milestone !== undefined) issue.milestone = body.milestone;
        return this.written(req, { status: 200, body: this.issueJson(issue) });
      }),
    );
    s.on('GET', issueRoute(), (_req, [n]) => found(this.issue(Number(n)), (issue) => ({ status: 200, body: this.issueJson(issue) })));
    s.on('GET', issueRoute('/comments'), (req, [n]) => found(this.issue(Number(n)), (issue) => paginate(s, req, issue.comments.map((c) => ({ id: c.id, body: c.body })))));
    refusable('POST', issueRoute('/comments'), (req, [n]) =>
      found(this.issue(Number(n)), (issue) => {
        const comment = { id: this.nextId++, body: (req.body as { body: string }).body };
        issue.comments.push(comment);
        return this.written(req, { status: 201, body: comment });
      }),
    );
    refusable('POST', `${p}/labels`, (req) => {
      const body = req.body as { name: string; color: string; description?: string };
      if (this.labels.has(body.name)) return validationFailed('Label', 'already_exists', 'name');
      const label = { id: this.nextId++, name: body.name, color: body.color, description: body.description ?? '' };
      this.labels.set(body.name, label);
      return this.written(req, { status: 201, body: label });
    });
    refusable('PATCH', new RegExp(`^${p}/labels/([^/]+)$`), (req, [name]) =>
      found(this.labels.get(decodeURIComponent(name!)), (label) => {
        Object.assign(label, { color: (req.body as { color: string }).color, description: (req.body as { description?: string }).description ?? label.description });
        return this.written(req, { status: 200, body: label });
      }),
    );
    s.on('GET', `${p}/milestones`, (req) => paginate(s, req, this.milestones.filter((m) => req.query.state === 'all' || m.state === (req.query.state ?? 'open'))));
    refusable('POST', `${p}/milestones`, (req) => {
      const body = req.body as { title: string; state?: string; description?: string; due_on?: string };
      if (this.milestones.some((m) => m.title === body.title)) return validationFailed('Milestone', 'already_exists', 'title');
      const milestone = { number: this.milestones.length + 1, title: body.title, state: body.state ?? 'open', description: body.description ?? '', dueOn: body.due_on ?? null };
      this.milestones.push(milestone);
      return this.written(req, { status: 201, body: milestone });
    });
    s.on('GET', new RegExp(`^${p}/branches/(.+)$`), (_req, [branch]) =>
      this.hasBranch(decodeURIComponent(branch!)) ? { status: 200, body: { name: decodeURIComponent(branch!) } } : { status: 404, body: { message: 'Branch not found', status: '404' } },
    );
    refusable('POST', `${p}/releases`, (req) => {
      const body = req.body as { tag_name: string; target_commitish?: string; name?: string; body?: string; draft?: boolean; prerelease?: boolean };
      if (this.releases.some((r) => r.tagName === body.tag_name)) return validationFailed('Release', 'already_exists', 'tag_name');
      const release: TargetRelease = { id: this.nextId++, tagName: body.tag_name, targetCommitish: body.target_commitish ?? 'main', name: body.name ?? '', body: body.body ?? '', draft: Boolean(body.draft), prerelease: Boolean(body.prerelease), assets: [] };
      this.releases.push(release);
      return this.written(req, { status: 201, body: this.releaseJson(release) });
    });
    s.on('GET', new RegExp(`^${p}/releases/(\\d+)$`), (_req, [id]) => found(this.releases.find((r) => r.id === Number(id)), (r) => ({ status: 200, body: this.releaseJson(r) })));
    s.on('GET', new RegExp(`^${p}/releases/tags/(.+)$`), (_req, [tag]) => found(this.releases.find((r) => r.tagName === decodeURIComponent(tag!)), (r) => ({ status: 200, body: this.releaseJson(r) })));
    s.on('GET', new RegExp(`^${p}/releases/(\\d+)/assets$`), (req, [id]) => found(this.releases.find((r) => r.id === Number(id)), (r) => paginate(s, req, (this.releaseJson(r) as { assets: unknown[] }).assets)));
    this.installReviews(refusable, found);
    return this;
  }

  private commitExists(sha: string): boolean {
    return this.git?.hasCommit(sha) ?? false;
  }

  private reviewCommentJson(c: TargetReviewComment): Record<string, unknown> {
    return { id: c.id, body: c.body, pull_request_review_id: c.reviewId, commit_id: c.commitId, path: c.path, line: c.line, side: c.side, start_line: c.startLine ?? null, in_reply_to_id: c.inReplyTo ?? undefined };
  }

  /**
   * Whether a review comment on `line` (`side`) of `path`, as of `commit`, is on a line the pull request's diff shows;
   * for a range, its `start_line` (`start_side`) too, before `line`.
   */
  private inTheDiff(pull: TargetIssue, commit: string, place: { path?: string; line?: number; side?: string; start_line?: number; start_side?: string }): boolean {
    if (!this.git || !pull.pull || typeof place.path !== 'string' || typeof place.line !== 'number') return false;
    const diff: DiffLines | null = this.git.pullDiff(pull.pull.base, commit, place.path);
    const shows = (line: number, side: string | undefined) => diff !== null && (side === 'LEFT' ? diff.left : diff.right).has(line);
    if (place.start_line !== undefined && (place.start_line >= place.line || !shows(place.start_line, place.start_side ?? place.side))) return false;
    return shows(place.line, place.side);
  }

  /** Reviews, review comments and replies, locks, and commit comments, as GitHub answers them. */
  private installReviews(refusable: (method: string, pattern: string | RegExp, handler: Handler) => void, found: <T>(value: T | undefined, answer: (v: T) => StandInResponse | Promise<StandInResponse>) => StandInResponse | Promise<StandInResponse>): void {
    const s = this.standIn;
    const p = this.prefix;
    const pullRoute = (suffix: string) => new RegExp(`^${p}/pulls/(\\d+)${suffix}$`);
    const pullOf = (n: string | undefined) => {
      const issue = this.issue(Number(n));
      return issue?.pull ? issue : undefined;
    };
    s.on('GET', new RegExp(`^${p}/git/commits/([0-9a-f]+)$`), (_req, [sha]) => (this.commitExists(sha!) ? { status: 200, body: { sha } } : { status: 404, body: notFound() }));

    refusable('POST', pullRoute('/reviews'), (req, [n]) =>
      found(pullOf(n), (pull) => {
        const body = req.body as { commit_id?: string; body?: string; event?: string; comments?: Array<{ path?: string; line?: number; side?: string; start_line?: number; start_side?: string; body?: string }> };
        const comments = body.comments ?? [];
        // The pull request is the token owner's own: GitHub lets no one approve or ask changes of their own.
        if (body.event === 'APPROVE' || body.event === 'REQUEST_CHANGES') return { status: 422, body: { message: 'Unprocessable Entity', errors: [`Can not ${body.event === 'APPROVE' ? 'approve' : 'request changes on'} your own pull request`], status: '422' } };
        if (body.event !== 'COMMENT') return validationFailed('PullRequestReview', 'invalid', 'event');
        if (!body.body && !comments.length) return { status: 422, body: { message: 'Unprocessable Entity', errors: ['Review body is required'], status: '422' } };
        if (!body.commit_id || !this.commitExists(body.commit_id)) return validationFailed('PullRequestReview', 'invalid', 'commit_id');
        if (comments.some((c) => !c.body || !this.inTheDiff(pull, body.commit_id!, c))) return notInTheDiff();
        const review: TargetReview = { id: this.nextId++, body: body.body ?? '', state: 'COMMENTED', commitId: body.commit_id };
        pull.reviews.push(review);
        for (const c of comments) {
          const range = c.start_line !== undefined ? { startLine: c.start_line } : {};
          pull.reviewComments.push({ id: this.nextId++, body: c.body!, reviewId: review.id, commitId: review.commitId, path: c.path!, line: c.line!, side: c.side ?? 'RIGHT', ...range, inReplyTo: null });
        }
        return this.written(req, { status: 200, body: { id: review.id, body: review.body, state: review.state, commit_id: review.commitId } });
      }),
    );
    s.on('GET', pullRoute('/reviews'), (req, [n]) => found(pullOf(n), (pull) => paginate(s, req, pull.reviews.map((r) => ({ id: r.id, body: r.body, state: r.state, commit_id: r.commitId })))));
    s.on('GET', pullRoute('/reviews/(\\d+)/comments'), (req, [n, id]) =>
      found(pullOf(n), (pull) => found(pull.reviews.find((r) => r.id === Number(id)), (r) => paginate(s, req, pull.reviewComments.filter((c) => c.reviewId === r.id).map((c) => this.reviewCommentJson(c))))),
    );
    refusable('POST', pullRoute('/comments'), (req, [n]) =>
      found(pullOf(n), (pull) => {
        const body = req.body as { body?: string; commit_id?: string; path?: string; line?: number; side?: string; in_reply_to?: number };
        if (!body.body) return validationFailed('PullRequestReviewComment', 'missing_field', 'body');
        let comment: TargetReviewComment;
        if (body.in_reply_to !== undefined) {
          // Every other field is ignored; a reply goes to a thread's first comment of this pull request.
          const to = pull.reviewComments.find((c) => c.id === body.in_reply_to);
          if (!to) return { status: 404, body: notFound() };
          if (to.inReplyTo !== null) return { status: 422, body: { message: 'Unprocessable Entity', errors: ['In reply to does not support replying to a reply'], status: '422' } };
          comment = { ...to, id: this.nextId++, body: body.body, reviewId: this.nextId++, inReplyTo: to.id };
        } else {
          if (!body.commit_id || !this.commitExists(body.commit_id)) return validationFailed('PullRequestReviewComment', 'invalid', 'commit_id');
          if (!this.inTheDiff(pull, body.commit_id, body)) return { status: 422, body: { message: 'Validation Failed', errors: [{ resource: 'PullRequestReviewComment', code: 'custom', field: 'pull_request_review_thread.line', message: 'could not be resolved' }], status: '422' } };
          comment = { id: this.nextId++, body: body.body, reviewId: this.nextId++, commitId: body.commit_id, path: body.path!, line: body.line!, side: body.side ?? 'RIGHT', inReplyTo: null };
        }
        // GitHub files each review comment made outside a review under a review of its own.
        pull.reviews.push({ id: comment.reviewId, body: '', state: 'COMMENTED', commitId: comment.commitId });
        pull.reviewComments.push(comment);
        return this.written(req, { status: 201, body: this.reviewCommentJson(comment) });
      }),
    );
    s.on('GET', pullRoute('/comments'), (req, [n]) => found(pullOf(n), (pull) => paginate(s, req, pull.reviewComments.map((c) => this.reviewCommentJson(c)))));

    refusable('PUT', new RegExp(`^${p}/issues/(\\d+)/lock$`), (req, [n]) =>
      found(this.issue(Number(n)), (issue) => {
        const reason = (req.body as { lock_reason?: string } | undefined)?.lock_reason;
        if (reason !== undefined && !LOCK_REASONS.has(reason)) return validationFailed('Issue', 'invalid', 'lock_reason');
        issue.locked = true;
        issue.lockReason = reason ?? null;
        return this.written(req, { status: 204 });
      }),
    );

    const commitRoute = new RegExp(`^${p}/commits/([0-9a-f]+)/comments$`);
    refusable('POST', commitRoute, (req, [sha]) => {
      if (!this.commitExists(sha!)) return { status: 422, body: { message: `No commit found for SHA: ${sha}`, documentation_url: 'https://docs.github.com/rest/commits/comments#create-a-commit-comment', status: '422' } };
      const body = req.body as { body?: string; path?: string; position?: number; line?: number };
      if (!body.body) return validationFailed('CommitComment', 'missing_field', 'body');
      if (body.path !== undefined) {
        const diff = this.git!.commitDiff(sha!, body.path);
        const ok = diff !== null && (body.position !== undefined ? body.position >= 1 && body.position <= diff.positions : body.line === undefined || diff.right.has(body.line));
        if (!ok) return validationFailed('CommitComment', 'invalid', body.position !== undefined ? 'position' : 'line');
      }
      const comment: TargetCommitComment = { id: this.nextId++, commitId: sha!, body: body.body, path: body.path ?? null, position: body.position ?? null, line: body.line ?? null };
      this.commitComments.push(comment);
      return this.written(req, { status: 201, body: { id: comment.id, body: comment.body, commit_id: comment.commitId, path: comment.path, position: comment.position, line: comment.line } });
    });
    s.on('GET', commitRoute, (req, [sha]) => paginate(s, req, this.commitComments.filter((c) => c.commitId === sha).map((c) => ({ id: c.id, body: c.body, commit_id: c.commitId }))));
  }

  /** Start the upload host (install the API routes too). */
  async start(): Promise<this> {
    this.install();
    this.uploadServer = createServer((req, res) => this.upload(req, res));
    this.uploadUrl = await listenOnLoopback(this.uploadServer);
    return this;
  }

  close(): Promise<void> {
    return closeServer(this.uploadServer);
  }

  /** POST /repos/<owner>/<repo>/releases/<id>/assets?name=&label=, the bytes as the body. */
  private upload(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    this.uploads.push({ method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams) });
    const match = new RegExp(`^${this.prefix}/releases/(\\d+)/assets$`).exec(url.pathname);
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const release = match ? this.releases.find((r) => r.id === Number(match[1])) : undefined;
      const name = url.searchParams.get('name') ?? '';
      let response: StandInResponse;
      if (req.method !== 'POST' || !match || !release) response = { status: 404, body: notFound() };
      else if (release.assets.some((a) => a.name === name)) response = validationFailed('ReleaseAsset', 'already_exists', 'name');
      else {
        const asset: TargetAsset = { id: this.nextId++, name, label: url.searchParams.get('label'), contentType: String(req.headers['content-type'] ?? ''), bytes: Buffer.concat(chunks) };
        release.assets.push(asset);
        response = await this.written({ method: 'POST', path: url.pathname }, { status: 201, body: { id: asset.id, name: asset.name, label: asset.label, size: asset.bytes.length } });
      }
      res.writeHead(response.status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(response.body));
    })();
  }
}
